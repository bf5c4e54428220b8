/* scst.conf: the configuration file in the format SCST's scstadmin reads and
 * writes, so that an SCST user's file loads as is where features overlap.
 *
 *   HANDLER vdisk_fileio {
 *           DEVICE disk1 {
 *                   filename /var/lib/disk1.img
 *                   blocksize 4096
 *           }
 *   }
 *   TARGET_DRIVER iscsi {
 *           enabled 1
 *           TARGET iqn.2026-11.org.example:t1 {
 *                   enabled 1
 *                   LUN 0 disk1
 *                   LUN 1 disk2 { read_only 1 }
 *           }
 *   }
 *
 * Loading happens in two steps kept in separate files:
 *   config.c        parse: text -> tree of sections; pure, no core calls
 *   config_apply.c  apply: walks the tree and creates devices and targets
 *                   through the core (src/core/scst.h)
 * so that the grammar is unit-testable without the core.
 *
 * Every error message has the form "FILE:LINE: reason".
 */
#ifndef USCST_MGMT_CONFIG_H
#define USCST_MGMT_CONFIG_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The largest LUN number scst.conf accepts (SCST's SCST_MAX_LUN). */
#define CONFIG_MAX_LUN 16383

/* The largest file config_parse_file() reads. */
#define CONFIG_MAX_FILE_SIZE (16u << 20)

/* A "name value" line. The value is the rest of the statement, words joined
 * by one space; a quoted word keeps its blanks. It may be empty. */
struct config_attr {
	char *name;
	char *value;
	unsigned line;
};

/* The kinds of section SCST's grammar knows. */
enum config_section {
	CONFIG_ROOT,          /* the file itself: global attributes */
	CONFIG_HANDLER,       /* HANDLER <handler> */
	CONFIG_DEVICE,        /* DEVICE <name> */
	CONFIG_TARGET_DRIVER, /* TARGET_DRIVER <driver> */
	CONFIG_TARGET,        /* TARGET <name> */
	CONFIG_LUN,           /* LUN <number> <device> */
	CONFIG_GROUP,         /* GROUP <name> (initiator group) */
	CONFIG_INITIATOR,     /* INITIATOR <name pattern> */
	CONFIG_DEVICE_GROUP,  /* DEVICE_GROUP <name> (ALUA) */
	CONFIG_TARGET_GROUP,  /* TARGET_GROUP <name> (ALUA) */
};

/* A section: its keyword, its arguments, its attributes and subsections,
 * in file order. A section written without braces ("LUN 0 disk1") has no
 * attributes and no children. */
struct config_block {
	enum config_section section;
	const char *keyword; /* "HANDLER", ...; "" for the root */
	char *name;          /* first argument; NULL for the root */
	char *device;        /* LUN only: the device name */
	uint64_t lun;        /* LUN only: the number, <= CONFIG_MAX_LUN */
	unsigned line;       /* where the keyword stands; 0 for the root */
	struct config_attr *attrs;
	unsigned nattrs;
	struct config_block *children;
	unsigned nchildren;
};

struct config_tree {
	char *filename; /* as given, for error messages */
	struct config_block root;
	/* Bytes the lexer and the parser wrote, moved (realloc) or probed
	 * to build this tree: a count of their work that the unit tests
	 * hold to a linear bound on the input's size, as wall time could
	 * not be without making them flaky. */
	size_t parse_work;
};

/* Parses @text (scst.conf syntax). @filename only names the source in error
 * messages. Returns the tree, or NULL with "FILE:LINE: reason" in @err. */
struct config_tree *config_parse_string(const char *text, const char *filename, char *err,
					size_t errlen);

/* Reads and parses @path. Returns NULL with a reason in @err. */
struct config_tree *config_parse_file(const char *path, char *err, size_t errlen);

void config_free(struct config_tree *tree);

/* A deep copy of @tree (to be rewritten without touching the original:
 * config_canonicalize()), or NULL when out of memory. */
struct config_tree *config_copy(const struct config_tree *tree);

/* The first attribute of @block called @name (case-sensitive, as in SCST),
 * or NULL. */
const struct config_attr *config_find_attr(const struct config_block *block, const char *name);

/* Targets a reload removed, disabled and without LUNs, whose sessions are
 * still to be closed (config_finish_removals()). */
struct config_leftovers {
	struct scst_tgt **tgts;
	unsigned ntgts;
};

/* Makes the registry what @tree describes, through the core; scst_mutex
 * held. Every DEVICE of every HANDLER is created (or kept, if one of that
 * name and handler exists: it keeps the attributes it was opened with),
 * then every TARGET of every TARGET_DRIVER (or kept: its driver's
 * attributes and each driver's own are parsed aside). Only when the whole
 * file has been checked does anything existing change: the drivers' and
 * the kept targets' new attributes are put in force, each target gets the
 * LUN maps and groups of the file, its sessions follow
 * (scst_tgt_sync_sessions()), targets are
 * enabled or disabled as it says, and targets and devices it no longer
 * has are removed (targets with sessions into @out, or left disabled
 * without LUNs when @out is NULL). On error nothing existing has changed,
 * what this apply created is destroyed, and it returns -1 with
 * "FILE:LINE: reason" in @err. */
struct scst_tgt;
int config_apply(const struct config_tree *tree, struct config_leftovers *out, char *err,
		 size_t errlen);

/* config_apply()'s checks without its changes: everything the file would
 * create is created and destroyed again (a backing file that does not
 * open is found), nothing existing changes. Returns 0, or -1 with
 * "FILE:LINE: reason" in @err. scst_mutex held. */
int config_check(const struct config_tree *tree, char *err, size_t errlen);

/* Held by every management operation (an RPC verb, a SIGHUP reload) for
 * its whole length, outside scst_mutex: one runs at a time, so that one
 * that lets scst_mutex go to wait for reactors (closing sessions) finds
 * its objects as it left them. */
extern pthread_mutex_t mgmt_mutex;

/* Closes the sessions of the removed targets and destroys them; from a
 * non-reactor thread, without scst_mutex. */
void config_finish_removals(struct config_leftovers *left);

/* SIGHUP: config_parse_file(), config_apply() and
 * config_finish_removals(). Returns 0, or -1 with the reason in @err (and
 * nothing changed). */
int config_reload_file(const char *path, char *err, size_t errlen);

/* Writes "FILE:LINE: reason" into @err (just "FILE: reason" when @line is
 * 0). Shared by the lexer, the parser and the apply step. */
void config_errorf(char *err, size_t errlen, const char *file, unsigned line, const char *fmt,
		   ...) __attribute__((format(printf, 5, 6)));

/* config_parse_file() then config_apply(). Returns 0, or -1 with the reason
 * in @err. */
int config_load_file(const char *path, char *err, size_t errlen);

#endif
