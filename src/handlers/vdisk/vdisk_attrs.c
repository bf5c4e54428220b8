/* vdisk attributes (SCST's names), as descriptor tables (core/attr_desc.h):
 * one per handler, since they take different sets. The generic ones
 * (t10_vend_id, prod_id, read_only, ...) are the core's and taken before
 * these. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/attr_desc.h"
#include "handlers/vdisk/vdisk_internal.h"

/* SCST's nullio reports a large disk when no size is given. */
#define NULLIO_DEFAULT_BYTES (1ull << 40)
#define MIB (1ull << 20)

/* size 0 means "the store's own size", which is what leaving size out
 * says: a running configuration written back must not say "size 0",
 * which would not load. */
static void show_size(const void *obj, const struct scst_attr_desc *d, scst_attr_emit_fn *emit,
		      void *ctx)
{
	const struct vdisk_config *cfg = obj;
	char num[24];

	if (!cfg->size_bytes)
		return;
	snprintf(num, sizeof(num), "%" PRIu64, cfg->size_bytes);
	emit(ctx, d->name, num);
}

/* size_mb is size in MiB: kept as size, shown as size. */
static int parse_size_mb(void *obj, const struct scst_attr_desc *d, const char *value, char *err,
			 size_t errlen)
{
	struct vdisk_config *cfg = obj;
	uint64_t v;

	if (!scst_attr_u64(value, &v) || v == 0) {
		snprintf(err, errlen, "%s: '%s' is not a positive number", d->name, value);
		return -1;
	}
	if (v > UINT64_MAX / MIB) {
		snprintf(err, errlen, "%s: '%s' is too large", d->name, value);
		return -1;
	}
	cfg->size_bytes = v * MIB;
	return 0;
}

static int parse_block_size(void *obj, const struct scst_attr_desc *d, const char *value,
			    char *err, size_t errlen)
{
	struct vdisk_config *cfg = obj;
	uint64_t v;

	if (!scst_attr_u64(value, &v) || (v != 512 && v != 4096)) {
		snprintf(err, errlen, "%s: '%s' is not %s", d->name, value, d->expect);
		return -1;
	}
	cfg->block_size = (uint32_t)v;
	return 0;
}

/* physical_blocksize 0 (not given) is block_size: shown only when given. */
static void show_physical_block_size(const void *obj, const struct scst_attr_desc *d,
				     scst_attr_emit_fn *emit, void *ctx)
{
	const struct vdisk_config *cfg = obj;
	char num[16];

	if (!cfg->physical_block_size)
		return;
	snprintf(num, sizeof(num), "%" PRIu32, cfg->physical_block_size);
	emit(ctx, d->name, num);
}

/* READ CAPACITY(16) carries the ratio as a 4-bit exponent: at most 2^15
 * logical blocks per physical one. */
#define MAX_PHYSICAL_EXPONENT 15

static int check_geometry(const void *obj, char *err, size_t errlen)
{
	const struct vdisk_config *cfg = obj;
	uint32_t p = cfg->physical_block_size, b = cfg->block_size;

	if (!p)
		return 0;
	if (p < b || p % b || ((p / b) & (p / b - 1)) ||
	    (uint64_t)p / b > (1u << MAX_PHYSICAL_EXPONENT)) {
		snprintf(err, errlen, "physical_blocksize %" PRIu32 " is not blocksize %" PRIu32
			 " times a power of two up to 2^%d", p, b, MAX_PHYSICAL_EXPONENT);
		return -1;
	}
	return 0;
}

#define VDISK_FILENAME                                                                 \
	{ .name = "filename", .type = SCST_ATTR_STRING, .flags = SCST_ATTR_REQUIRED,   \
	  SCST_ATTR_FIELD(struct vdisk_config, filename),                              \
	  .help = "The backing file or block device." }
#define VDISK_SIZE                                                                     \
	{ .name = "size", .type = SCST_ATTR_UINT,                                      \
	  SCST_ATTR_FIELD(struct vdisk_config, size_bytes), .min = 1, .max = UINT64_MAX, \
	  .show = show_size,                                                           \
	  .help = "Bytes the LUN has (whole blocks are used); default: the backing "   \
		  "store's size (nullio: 1 TiB)." }
#define VDISK_SIZE_MB                                                                  \
	{ .name = "size_mb", .type = SCST_ATTR_UINT, .flags = SCST_ATTR_NOT_KEPT,     \
	  .size = sizeof(uint64_t), .min = 1, .max = UINT64_MAX / MIB,                 \
	  .expect = "a positive number", .parse = parse_size_mb,                       \
	  .help = "size in MiB (kept, and shown, as size)." }
#define VDISK_BLOCKSIZE                                                                \
	{ .name = "blocksize", .type = SCST_ATTR_UINT,                                 \
	  SCST_ATTR_FIELD(struct vdisk_config, block_size), .min = 512, .max = 4096,   \
	  .expect = "512 or 4096", .parse = parse_block_size, .def = "512",            \
	  .help = "Logical block size in bytes: 512 or 4096." }
#define VDISK_PHYSICAL_BLOCKSIZE                                                       \
	{ .name = "physical_blocksize", .type = SCST_ATTR_UINT,                        \
	  SCST_ATTR_FIELD(struct vdisk_config, physical_block_size), .min = 512,       \
	  .max = 4096u << MAX_PHYSICAL_EXPONENT, .show = show_physical_block_size,     \
	  .help = "Physical block size in bytes, blocksize times a power of two "       \
		  "(READ CAPACITY(16)'s exponent, VPD page 0xb0's optimal granularity); " \
		  "default: blocksize." }
#define VDISK_FLAG(attr_name, member, default_value, text)                            \
	{ .name = attr_name, .type = SCST_ATTR_BOOL,                                   \
	  SCST_ATTR_FIELD(struct vdisk_config, member), .def = default_value, .help = text }
#define VDISK_WRITE_THROUGH                                                            \
	VDISK_FLAG("write_through", write_through, "0",                                \
		   "Every write is durable before it completes (O_DSYNC); the caching "  \
		   "page's WCE reads 0.")
#define VDISK_NV_CACHE                                                                 \
	VDISK_FLAG("nv_cache", nv_cache, "0",                                          \
		   "The cache is non-volatile: SYNCHRONIZE CACHE and FUA do not flush.")
#define VDISK_REMOVABLE                                                                \
	VDISK_FLAG("removable", removable, "0",                                        \
		   "A removable medium (INQUIRY RMB=1): START STOP UNIT ejects and "      \
		   "loads it, PREVENT ALLOW MEDIUM REMOVAL locks it in; while it is out " \
		   "commands that need it get NOT READY, MEDIUM NOT PRESENT.")
#define VDISK_O_DIRECT                                                                 \
	VDISK_FLAG("o_direct", o_direct, "0", "Bypass the page cache (O_DIRECT).")
#define VDISK_ROTATIONAL                                                               \
	VDISK_FLAG("rotational", rotational, "1",                                      \
		   "Report a rotating medium (VPD page 0xb1); 0 reports a solid-state one.")
#define VDISK_BACKGROUND_RATE_MB                                                       \
	{ .name = "background_rate_mb", .type = SCST_ATTR_UINT,                        \
	  SCST_ATTR_FIELD(struct vdisk_config, background_rate_mb), .max = UINT32_MAX, \
	  .def = "0",                                                                  \
	  .help = "MiB per second a SANITIZE or FORMAT UNIT writes at most, so that "  \
		  "one does not take the whole store from the LUNs sharing it; 0: as "   \
		  "fast as the store takes it." }
#define VDISK_THIN_PROVISIONED                                                         \
	VDISK_FLAG("thin_provisioned", thin_provisioned, "0",                          \
		   "Thin provisioning: UNMAP and WRITE SAME with UNMAP deallocate blocks " \
		   "(hole punch; a block device discards), which then read as zeros; "   \
		   "READ CAPACITY(16) reports LBPME and LBPRZ. nullio: every block "     \
		   "reads as deallocated.")

static const struct scst_attr_desc fileio_attrs[] = {
	VDISK_FILENAME, VDISK_SIZE, VDISK_SIZE_MB, VDISK_BLOCKSIZE, VDISK_PHYSICAL_BLOCKSIZE,
	VDISK_REMOVABLE,
	VDISK_WRITE_THROUGH, VDISK_NV_CACHE, VDISK_O_DIRECT, VDISK_ROTATIONAL,
	VDISK_THIN_PROVISIONED, VDISK_BACKGROUND_RATE_MB,
};

/* blockio is always O_DIRECT. */
static const struct scst_attr_desc blockio_attrs[] = {
	VDISK_FILENAME, VDISK_SIZE, VDISK_SIZE_MB, VDISK_BLOCKSIZE, VDISK_PHYSICAL_BLOCKSIZE,
	VDISK_REMOVABLE,
	VDISK_WRITE_THROUGH, VDISK_NV_CACHE, VDISK_ROTATIONAL, VDISK_THIN_PROVISIONED,
	VDISK_BACKGROUND_RATE_MB,
};

/* nullio stores nothing: no file, nothing to flush. */
static const struct scst_attr_desc nullio_attrs[] = {
	VDISK_SIZE, VDISK_SIZE_MB, VDISK_BLOCKSIZE, VDISK_PHYSICAL_BLOCKSIZE, VDISK_ROTATIONAL,
	VDISK_REMOVABLE,
	VDISK_THIN_PROVISIONED,
};

/* A live device's configuration; NULL before attach has finished. */
static void *vdisk_config_of(void *owner)
{
	struct scst_device *dev = owner;
	struct vdisk_dev *vd = dev->handler_priv;

	return vd ? &vd->cfg : NULL;
}

static void config_release(void *obj)
{
	vdisk_config_free(obj);
}

#define VDISK_ATTR_TABLE(handler_name, descs_array)                 \
	{                                                           \
		.name = handler_name,                               \
		.owner = SCST_ATTR_OWNER_DEVICE,                    \
		.descs = descs_array,                               \
		.ndescs = SCST_ATTR_TABLE_LEN(descs_array),         \
		.object_size = sizeof(struct vdisk_config),         \
		.object_of = vdisk_config_of,                       \
		.check = check_geometry,                            \
		.release = config_release,                          \
	}

const struct scst_attr_table vdisk_fileio_attr_table = VDISK_ATTR_TABLE("vdisk_fileio",
									 fileio_attrs);
const struct scst_attr_table vdisk_blockio_attr_table = VDISK_ATTR_TABLE("vdisk_blockio",
									  blockio_attrs);
const struct scst_attr_table vdisk_nullio_attr_table = VDISK_ATTR_TABLE("vdisk_nullio",
									 nullio_attrs);

int vdisk_config_parse(struct vdisk_config *cfg, const struct vdisk_mode *mode,
		       struct scst_attr *attrs, unsigned nattrs, char *err, size_t errlen)
{
	*cfg = (struct vdisk_config){ 0 };
	/* Attributes the mode does not describe stay unconsumed: the core
	 * reports them. */
	if (scst_attr_defaults(mode->attrs, cfg, err, errlen) ||
	    scst_attrs_take(mode->attrs, cfg, attrs, nattrs, err, errlen)) {
		vdisk_config_free(cfg);
		return -1;
	}
	if (!mode->needs_file && !cfg->size_bytes)
		cfg->size_bytes = NULLIO_DEFAULT_BYTES;
	return 0;
}

void vdisk_config_free(struct vdisk_config *cfg)
{
	free(cfg->filename);
	cfg->filename = NULL;
}
