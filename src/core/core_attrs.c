/* The core's own attribute tables (attr_desc.h): what every device, target,
 * LUN, group and target driver section takes whatever its handler or
 * driver. Handlers and drivers declare theirs in their templates. */
#include <stdio.h>

#include "core/attr_desc.h"
#include "core/scst.h"

/* "rel_tgt_id '0' is not in 1..65535": the form these messages have had. */
static void core_bad_value(const struct scst_attr_desc *d, const char *value,
			   const char *expect, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s '%s' is not %s", d->name, value, expect);
}

/* ---- DEVICE: identity as INQUIRY reports it, and read_only ---- */

/* An identity string set on a live device: INQUIRY copies it under
 * dev->lock (inquiry.c), and every nexus is told INQUIRY DATA HAS CHANGED
 * (SPC-4 6.6.1) so that initiators read it again. */
static int device_set_identity(void *owner, const struct scst_attr_desc *d, const char *value,
			       char *err, size_t errlen)
{
	struct scst_device *dev = owner;
	union scst_attr_value v;

	if (scst_attr_parse_value(&scst_device_attr_table, d, value, &v, err, errlen))
		return -1;
	scst_device_set_identity(dev, (char *)dev + d->offset, d->size, v.s);
	return 0;
}

static const struct scst_attr_desc device_attrs[] = {
	{ .name = "t10_vend_id", .type = SCST_ATTR_CHARS, .set = device_set_identity,
	  SCST_ATTR_FIELD(struct scst_device, t10_vend_id), .def = "USCST",
	  .help = "T10 vendor identification of standard INQUIRY." },
	{ .name = "prod_id", .type = SCST_ATTR_CHARS, .set = device_set_identity,
	  SCST_ATTR_FIELD(struct scst_device, prod_id),
	  .help = "Product identification of standard INQUIRY; default: the handler's name." },
	{ .name = "prod_rev_lvl", .type = SCST_ATTR_CHARS, .set = device_set_identity,
	  SCST_ATTR_FIELD(struct scst_device, prod_rev_lvl), .def = "0100",
	  .help = "Product revision level of standard INQUIRY." },
	{ .name = "t10_dev_id", .type = SCST_ATTR_CHARS, .set = device_set_identity,
	  SCST_ATTR_FIELD(struct scst_device, t10_dev_id),
	  .help = "T10 vendor ID designator of VPD page 0x83; default: the device's name." },
	{ .name = "usn", .type = SCST_ATTR_CHARS, .set = device_set_identity,
	  SCST_ATTR_FIELD(struct scst_device, usn),
	  .help = "Unit serial number (VPD page 0x80); default: a hash of the device's name, "
		  "stable across restarts." },
	{ .name = "read_only", .type = SCST_ATTR_BOOL,
	  SCST_ATTR_FIELD(struct scst_device, read_only), .def = "0",
	  .help = "Every LUN of the device is read-only: writes get DATA PROTECT." },
};

const struct scst_attr_table scst_device_attr_table = {
	.name = "core",
	.owner = SCST_ATTR_OWNER_DEVICE,
	.descs = device_attrs,
	.ndescs = SCST_ATTR_TABLE_LEN(device_attrs),
	.object_size = sizeof(struct scst_device),
};

/* ---- TARGET ---- */

static int target_set_enabled(void *owner, const struct scst_attr_desc *d, const char *value,
			      char *err, size_t errlen)
{
	union scst_attr_value v;

	if (scst_attr_parse_value(&scst_target_attr_table, d, value, &v, err, errlen))
		return -1;
	scst_target_set_enabled(owner, v.b);
	return 0;
}

static const struct scst_attr_desc target_attrs[] = {
	{ .name = "rel_tgt_id", .type = SCST_ATTR_UINT,
	  SCST_ATTR_FIELD(struct scst_tgt, rel_tgt_id), .min = 1, .max = 65535,
	  .help = "Relative target port identifier (VPD page 0x83); default: the lowest one "
		  "no other target has or asks for." },
	/* Taken by the loader once the whole file has been checked, so that
	 * no initiator sees a half-built target (config_apply.c). */
	{ .name = "enabled", .type = SCST_ATTR_BOOL, SCST_ATTR_FIELD(struct scst_tgt, enabled),
	  .def = "0", .set = target_set_enabled,
	  .help = "Initiators may log in to the target (only if its driver is enabled)." },
};

const struct scst_attr_table scst_target_attr_table = {
	.name = "core",
	.owner = SCST_ATTR_OWNER_TARGET,
	.descs = target_attrs,
	.ndescs = SCST_ATTR_TABLE_LEN(target_attrs),
	.object_size = sizeof(struct scst_tgt),
	.bad_value = core_bad_value,
};

/* ---- LUN ---- */

static const struct scst_attr_desc lun_attrs[] = {
	{ .name = "read_only", .type = SCST_ATTR_BOOL, SCST_ATTR_FIELD(struct scst_lun, read_only),
	  .def = "0",
	  .help = "This LUN is read-only (writes get DATA PROTECT), whatever the device's "
		  "read_only." },
};

const struct scst_attr_table scst_lun_attr_table = {
	.name = "core",
	.owner = SCST_ATTR_OWNER_LUN,
	.descs = lun_attrs,
	.ndescs = SCST_ATTR_TABLE_LEN(lun_attrs),
	.object_size = sizeof(struct scst_lun),
	.bad_value = core_bad_value,
};

/* ---- GROUP: SCST's (addr_method, io_grouping_type, cpu_mask, ...) are
 * not implemented; a group takes LUN and INITIATOR lines only. ---- */

const struct scst_attr_table scst_group_attr_table = {
	.name = "core",
	.owner = SCST_ATTR_OWNER_GROUP,
	.descs = NULL,
	.ndescs = 0,
	.object_size = sizeof(struct scst_acg),
};

/* ---- TARGET_DRIVER ---- */

static const struct scst_attr_desc driver_attrs[] = {
	/* Not kept: with "enabled 0" the loader creates the driver's targets
	 * and enables none, as SCST does. */
	{ .name = "enabled", .type = SCST_ATTR_BOOL, .flags = SCST_ATTR_NOT_KEPT, .def = "1",
	  .help = "The driver's targets may be enabled; with 0 none is, whatever its own "
		  "enabled." },
};

const struct scst_attr_table scst_driver_attr_table = {
	.name = "core",
	.owner = SCST_ATTR_OWNER_DRIVER,
	.descs = driver_attrs,
	.ndescs = SCST_ATTR_TABLE_LEN(driver_attrs),
	.object_size = 0,
	.bad_value = core_bad_value,
};
