/* Attributes of live objects as management shows and writes them: the
 * current value(s) of each descriptor of a table (core/attr_desc.h), its
 * default, whether it is a "key" (differs from the default: what the
 * running configuration writes, scstadmin's [key]) and whether it can be
 * changed live. The RPC tree (mgmt_tree.c) and config.write
 * (config_write.c) read attributes only through here, so that both agree
 * on which attributes are non-default. scst_mutex held throughout. */
#ifndef USCST_MGMT_MGMT_ATTRS_H
#define USCST_MGMT_MGMT_ATTRS_H

#include <stdbool.h>

#include <json-c/json.h>

#include "core/attr_desc.h"
#include "core/scst.h"
#include "mgmt/rpc.h"

#define MGMT_ATTR_MAX_VALUES 64

struct mgmt_attr {
	const struct scst_attr_table *table;
	const struct scst_attr_desc *d;
	const char *values[MGMT_ATTR_MAX_VALUES]; /* as shown; valid during the callback */
	unsigned nvalues;
	const char *def; /* the default as text, or NULL */
	bool key;
	bool changeable;
	bool secret;
};

typedef void mgmt_attr_fn(void *ctx, const struct mgmt_attr *a);

/* Every attribute of @t kept in @obj (the table's own object). @dev: the
 * device @obj belongs to, for its derived defaults (prod_id, ...); NULL for
 * other objects. An attribute is changeable live when its descriptor has
 * a set or its table is re-parsed live (reparsed_live). Attributes kept
 * nowhere (NOT_KEPT) are skipped. */
void mgmt_table_attrs(const struct scst_attr_table *t, const void *obj,
		      const struct scst_device *dev, mgmt_attr_fn *fn, void *ctx);

/* The same for the table's object of core object @owner (object_of). */
void mgmt_table_attrs_of(const struct scst_attr_table *t, void *owner,
			 const struct scst_device *dev, mgmt_attr_fn *fn, void *ctx);

/* docs/rpc.md's attribute object ({value, type, default, changeable, key})
 * added to @attrs under the attribute's name. A secret shows only its user
 * name (the first word of each value). */
void mgmt_attr_to_json(json_object *attrs, const struct mgmt_attr *a);

/* Every table whose attributes a live object has, in the order scst.conf
 * takes them (the core's first), into @out (room for @max); returns how
 * many. */
unsigned mgmt_device_tables(const struct scst_device *dev, const struct scst_attr_table **out,
			    unsigned max);
unsigned mgmt_target_tables(const struct scst_tgt *tgt, const struct scst_attr_table **out,
			    unsigned max);
unsigned mgmt_driver_tables(const struct scst_tgt_template *tgtt,
			    const struct scst_attr_table **out, unsigned max);

/* The attributes a driver re-parses to change a live object (its
 * prepare/finish pair takes the whole section): the current value(s) of
 * every attribute of @tables kept in object_of(@owner), secrets included,
 * except those @changes names, which it gives instead. Returns -1 with
 * *@unknown set when a change names an attribute no table has, or -1
 * (unknown NULL) when out of memory. */
int mgmt_merge_attrs(const struct scst_attr_table *const *tables, unsigned ntables, void *owner,
		     const struct rpc_attrs *changes, struct rpc_attrs *out, const char **unknown);

/* An object's attributes as a JSON object of attribute objects: every
 * table of the device, target or driver. */
json_object *mgmt_device_attrs_json(struct scst_device *dev);
json_object *mgmt_target_attrs_json(struct scst_tgt *tgt);
json_object *mgmt_driver_attrs_json(struct scst_tgt_template *tgtt);
json_object *mgmt_lun_attrs_json(struct scst_lun *lun);
json_object *mgmt_group_attrs_json(struct scst_acg *acg);

#endif
