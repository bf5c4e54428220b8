/* Attribute descriptors: what an attribute of a device, target, group, LUN
 * or target driver is, declared once by the object's owner (SCST's
 * dev_attrs, tgt_attrs, tgtt_attrs in its templates) and read by everyone
 * who deals with attributes:
 *
 *   the config loader   scst_attrs_take(): name = value pairs in, consumed
 *                       marks and one reason naming the attribute out
 *   the documentation   uscstd --list-attributes (scst_attr_list_all())
 *   the admin interface scst_attr_show_of() (the current value of a live
 *                       object) and scst_attr_set_live() (changing it on a
 *                       live object, where the descriptor allows it)
 *
 * A table is one owner's set of attributes for one kind of object, with
 * offsets into one C struct (its "object": struct scst_device for the
 * core's device attributes, struct vdisk_config for vdisk's, struct
 * iscsi_target_params for the iSCSI target keys). Whoever creates the
 * object parses into it directly; a live object is reached from the core's
 * object (device, target, ...) through the table's object_of().
 *
 * Registration (scst_register_dev_handler(), scst_register_target_template())
 * checks every table: unique names, storage inside the object, ranges that
 * make sense, defaults that parse. A table that fails is a programming
 * error, refused before the daemon serves anything. */
#ifndef USCST_CORE_ATTR_DESC_H
#define USCST_CORE_ATTR_DESC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct scst_attr;

/* How the text of a value is read and where it is kept. */
enum scst_attr_type {
	SCST_ATTR_BOOL,   /* bool: 1/0, yes/no, true/false, on/off (any case) */
	SCST_ATTR_UINT,   /* unsigned integer of .size bytes, decimal, in [min, max] */
	SCST_ATTR_CHARS,  /* char[.size], NUL-terminated: at most size - 1 characters */
	SCST_ATTR_STRING, /* char *, malloc'ed; the owner frees it */
	SCST_ATTR_ENUM,   /* unsigned of .size bytes: the index of the value in .choices */
	SCST_ATTR_CUSTOM, /* .parse and .show do it; .type_name says what it is */
};

/* Which kind of object an attribute belongs to (the section of scst.conf
 * it is written in, the node of the RPC tree it shows under). */
enum scst_attr_owner {
	SCST_ATTR_OWNER_DRIVER, /* TARGET_DRIVER section */
	SCST_ATTR_OWNER_TARGET, /* TARGET */
	SCST_ATTR_OWNER_GROUP,  /* GROUP of a target */
	SCST_ATTR_OWNER_LUN,    /* LUN line's braces */
	SCST_ATTR_OWNER_DEVICE, /* DEVICE of a HANDLER */
	SCST_ATTR_OWNER_DEVICE_GROUP, /* DEVICE_GROUP (ALUA, core/alua.h) */
	SCST_ATTR_OWNER_TARGET_GROUP, /* TARGET_GROUP of a DEVICE_GROUP */
	SCST_ATTR_OWNER_TG_TARGET,    /* TARGET of a TARGET_GROUP */
};

enum scst_attr_flags {
	/* The attribute may be given several times, each time one more
	 * value (IncomingUser, allowed_portal); .parse adds it. */
	SCST_ATTR_MULTI = 1u << 0,
	/* The object cannot be created without it (vdisk_fileio's filename). */
	SCST_ATTR_REQUIRED = 1u << 1,
	/* Part of the value is a secret (CHAP): listings must not show it. */
	SCST_ATTR_SECRET = 1u << 2,
	/* A bool shown as iSCSI spells it, Yes / No, rather than 1 / 0. */
	SCST_ATTR_YES_NO = 1u << 3,
	/* Kept nowhere by the object (a section-wide switch the loader acts on
	 * at once, e.g. the driver's "enabled"): parse with
	 * scst_attr_parse_value(); it has no current value to show. */
	SCST_ATTR_NOT_KEPT = 1u << 4,
};

/* One value read from text, before it is stored. */
union scst_attr_value {
	bool b;
	uint64_t u;         /* UINT */
	unsigned index;     /* ENUM */
	const char *s;      /* CHARS, STRING: the text itself, not copied */
};

/* Emits one value (several for a MULTI attribute) of attribute @name. */
typedef void scst_attr_emit_fn(void *ctx, const char *name, const char *value);

struct scst_attr_desc;

/* Parses @value into @obj (SCST_ATTR_CUSTOM, or any type that needs more
 * than the generic rules). On a bad value writes a reason naming the
 * attribute (d->name) into @err and returns -1. */
typedef int scst_attr_parse_fn(void *obj, const struct scst_attr_desc *d, const char *value,
			       char *err, size_t errlen);
/* Emits the current value(s) kept in @obj. */
typedef void scst_attr_show_fn(const void *obj, const struct scst_attr_desc *d,
			       scst_attr_emit_fn *emit, void *ctx);
/* Changes the attribute of a live object: @owner is the core's object the
 * table belongs to (struct scst_device *, struct scst_tgt *, struct
 * scst_acg *, struct scst_lun *; NULL for a driver's own settings).
 * Management thread, scst_mutex held; the function makes the change
 * reach the reactors itself. Returns 0, or -1 with the reason in @err and
 * nothing changed. */
typedef int scst_attr_set_fn(void *owner, const struct scst_attr_desc *d, const char *value,
			     char *err, size_t errlen);

struct scst_attr_desc {
	const char *name;          /* as in scst.conf (SCST's spelling) */
	enum scst_attr_type type;
	unsigned flags;            /* enum scst_attr_flags */
	/* Storage in the table's object (not for CUSTOM and NOT_KEPT ones,
	 * whose callbacks know where they keep it): SCST_ATTR_FIELD(). */
	size_t offset;
	size_t size;
	/* UINT: the accepted range; both 0 means the whole range of .size. */
	uint64_t min, max;
	/* ENUM: the accepted spellings, NULL-terminated. */
	const char *const *choices;
	/* The value the object has when the attribute is not given, as it
	 * would be written; NULL when there is none or it is derived (the
	 * help text then says from what). scst_attr_defaults() applies it. */
	const char *def;
	/* What a bad value is told it is not ("a positive number", "512 or
	 * 4096"); NULL derives it from the type and range. */
	const char *expect;
	const char *type_name;     /* CUSTOM: for listings, e.g. "user secret" */
	const char *help;          /* one sentence for --list-attributes */
	scst_attr_parse_fn *parse; /* CUSTOM; optional for others (replaces the generic rule) */
	scst_attr_show_fn *show;   /* CUSTOM; optional for others */
	/* Changing it on a live object; NULL: only when the object is created
	 * (the admin interface refuses a change). */
	scst_attr_set_fn *set;
};

/* Storage of an offset-based descriptor: field @member of @type. */
#define SCST_ATTR_FIELD(type, member) \
	.offset = offsetof(type, member), .size = sizeof(((type *)0)->member)

struct scst_attr_table {
	const char *name;  /* whose: "core", "vdisk_fileio", "iscsi" */
	enum scst_attr_owner owner;
	const struct scst_attr_desc *descs;
	unsigned ndescs;
	size_t object_size; /* of the struct the offsets are in */
	/* The table's object of a live core object (@owner as for
	 * scst_attr_set_fn); NULL: the core object is the table's object. */
	void *(*object_of)(void *owner);
	/* After every attribute given has been parsed: checks between them
	 * (FirstBurstLength <= MaxBurstLength). Optional. */
	int (*check)(const void *obj, char *err, size_t errlen);
	/* Frees what parsing allocated in @obj (STRING values, CUSTOM lists).
	 * Used by the registration check; optional. */
	void (*release)(void *obj);
	/* How a value the generic rules refuse is explained; NULL: "NAME:
	 * 'VALUE' is not EXPECT". Owners whose messages users already know
	 * keep them ("bad value 'x' for iSCSI target attribute NAME"). */
	void (*bad_value)(const struct scst_attr_desc *d, const char *value, const char *expect,
			  char *err, size_t errlen);
	/* The owner changes a live object by parsing its whole section
	 * again into new settings (a driver's target_attrs_prepare /
	 * driver_attrs_prepare and their finish): every attribute of the
	 * table changes at run time, through a reload or management's
	 * set_attr, without a set of its own. */
	bool reparsed_live;
};

#define SCST_ATTR_TABLE_LEN(a) ((unsigned)(sizeof(a) / sizeof((a)[0])))

const char *scst_attr_owner_name(enum scst_attr_owner owner);

const struct scst_attr_desc *scst_attr_find(const struct scst_attr_table *t, const char *name);

/* Reads @value as @d's type says, without storing it. Returns 0, or -1
 * with the table's reason in @err. Not for CUSTOM descriptors. */
int scst_attr_parse_value(const struct scst_attr_table *t, const struct scst_attr_desc *d,
			  const char *value, union scst_attr_value *out, char *err, size_t errlen);

/* Parses @value into @obj (the descriptor's parse, or the generic rule and
 * the store). Returns 0, or -1 with the reason in @err. */
int scst_attr_parse(const struct scst_attr_table *t, const struct scst_attr_desc *d, void *obj,
		    const char *value, char *err, size_t errlen);

/* An emit function (scst_attr_emit_fn) that keeps the first value shown
 * and counts them all: ctx is a struct scst_attr_first. */
struct scst_attr_first {
	char text[512];
	unsigned n;
};
void scst_attr_take_first(void *ctx, const char *name, const char *value);

/* Whether texts @a and @b are one value of @d's type (1 and yes, 0512 and
 * 512); other types compare as written. */
bool scst_attr_same_value(const struct scst_attr_desc *d, const char *a, const char *b);

/* Frees what parsing allocated in @obj, a scratch object of @t's: the
 * table's release when it has one, else each STRING value. */
void scst_attr_obj_release(const struct scst_attr_table *t, void *obj);

/* Gives every descriptor of @t that has a default its default value. */
int scst_attr_defaults(const struct scst_attr_table *t, void *obj, char *err, size_t errlen);

/* The generic parse: takes every attribute of @attrs that @t describes
 * and nobody consumed yet, into @obj, marking it consumed; one given twice
 * that is not MULTI, or a REQUIRED one missing, is an error; then @t's
 * check. Attributes it does not describe are left alone (another table's,
 * or an error the caller reports). Returns 0, or -1 with a reason that
 * names the attribute, as FILE:LINE messages need (config_apply.c finds
 * the line from the name). */
int scst_attrs_take(const struct scst_attr_table *t, void *obj, struct scst_attr *attrs,
		    unsigned nattrs, char *err, size_t errlen);

/* Emits the current value(s) of @d kept in @obj; a MULTI one emits each,
 * one with no value (an empty CHARS, a NULL STRING, a NOT_KEPT one)
 * nothing. */
void scst_attr_show(const struct scst_attr_desc *d, const void *obj, scst_attr_emit_fn *emit,
		    void *ctx);
/* The same for the live object of core object @owner (object_of). */
void scst_attr_show_of(const struct scst_attr_table *t, const struct scst_attr_desc *d,
		       void *owner, scst_attr_emit_fn *emit, void *ctx);
/* Every attribute of @t with its current value(s). */
void scst_attrs_show(const struct scst_attr_table *t, const void *obj, scst_attr_emit_fn *emit,
		     void *ctx);

/* Changes attribute @name of live object @owner through its descriptor's
 * set; refused with a reason when there is no such attribute or it is
 * fixed once the object exists. Management thread, scst_mutex held. */
int scst_attr_set_live(const struct scst_attr_table *t, void *owner, const char *name,
		       const char *value, char *err, size_t errlen);

/* A table's own consistency (see the top of this file). Returns 0, or -1
 * with the first problem in @err. */
int scst_attr_table_check(const struct scst_attr_table *t, char *err, size_t errlen);
/* No name of @a is also in @b (a handler's table must not redefine one of
 * the core's device attributes, a driver's one of the core's target's). */
int scst_attr_tables_disjoint(const struct scst_attr_table *a, const struct scst_attr_table *b,
			      char *err, size_t errlen);

/* --list-attributes: a heading "OWNER attributes of SCOPE:", then per
 * attribute of @t its name, type and range, default, whether it is
 * required, repeats or holds a secret, whether it changes at run time,
 * and its help sentence on the next line. */
void scst_attr_heading(enum scst_attr_owner owner, const char *scope, FILE *out);
void scst_attr_table_describe(const struct scst_attr_table *t, FILE *out);

/* The core's own tables (core_attrs.c): the attributes every device,
 * target, LUN, group and driver section takes, before its handler's or
 * driver's. */
extern const struct scst_attr_table scst_device_attr_table;
extern const struct scst_attr_table scst_target_attr_table;
extern const struct scst_attr_table scst_lun_attr_table;
extern const struct scst_attr_table scst_group_attr_table;
extern const struct scst_attr_table scst_driver_attr_table;

/* Takes @attrs into the tables of @tables (NULL-terminated), each into
 * its object of core object @owner (object_of), as scst_attrs_take(). */
int scst_attr_tables_take(const struct scst_attr_table *const *tables, void *owner,
			  struct scst_attr *attrs, unsigned nattrs, char *err, size_t errlen);

/* Writes every table, the core's and those of every registered handler
 * and target driver, as scst_attr_table_describe() (uscstd
 * --list-attributes). */
void scst_attr_list_all(FILE *out);

#endif
