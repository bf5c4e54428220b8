/* vdisk attributes (SCST's names): parsing at attach, and writing them back
 * for the running configuration. The generic ones (t10_vend_id, prod_id,
 * read_only, ...) are the core's and never seen here as unconsumed. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers/vdisk/vdisk_internal.h"

/* SCST's nullio reports a large disk when no size is given. */
#define NULLIO_DEFAULT_BYTES (1ull << 40)
#define MIB (1ull << 20)

static bool mode_accepts(const struct vdisk_mode *mode, const char *name)
{
	for (const char *const *n = mode->attr_names; *n; n++)
		if (!strcmp(*n, name))
			return true;
	return false;
}

static int bad_value(const struct scst_attr *a, const char *why, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s: '%s' %s", a->name, a->value, why);
	return -1;
}

static int parse_size(struct vdisk_config *cfg, const struct scst_attr *a, char *err,
		      size_t errlen)
{
	uint64_t v;

	if (!scst_attr_u64(a->value, &v) || v == 0)
		return bad_value(a, "is not a positive number", err, errlen);
	if (!strcmp(a->name, "size_mb")) {
		if (v > UINT64_MAX / MIB)
			return bad_value(a, "is too large", err, errlen);
		v *= MIB;
	}
	cfg->size_bytes = v;
	return 0;
}

static int parse_block_size(struct vdisk_config *cfg, const struct scst_attr *a, char *err,
			    size_t errlen)
{
	uint64_t v;

	if (!scst_attr_u64(a->value, &v) || (v != 512 && v != 4096))
		return bad_value(a, "is not 512 or 4096", err, errlen);
	cfg->block_size = (uint32_t)v;
	return 0;
}

static int parse_flag(bool *flag, const struct scst_attr *a, char *err, size_t errlen)
{
	if (!scst_attr_bool(a->value, flag))
		return bad_value(a, "is not 0 or 1", err, errlen);
	return 0;
}

static int parse_one(struct vdisk_config *cfg, const struct scst_attr *a, char *err,
		     size_t errlen)
{
	if (!strcmp(a->name, "filename")) {
		free(cfg->filename);
		cfg->filename = strdup(a->value);
		if (!cfg->filename) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		return 0;
	}
	if (!strcmp(a->name, "size") || !strcmp(a->name, "size_mb"))
		return parse_size(cfg, a, err, errlen);
	if (!strcmp(a->name, "blocksize"))
		return parse_block_size(cfg, a, err, errlen);
	if (!strcmp(a->name, "write_through"))
		return parse_flag(&cfg->write_through, a, err, errlen);
	if (!strcmp(a->name, "nv_cache"))
		return parse_flag(&cfg->nv_cache, a, err, errlen);
	if (!strcmp(a->name, "o_direct"))
		return parse_flag(&cfg->o_direct, a, err, errlen);
	if (!strcmp(a->name, "rotational"))
		return parse_flag(&cfg->rotational, a, err, errlen);
	snprintf(err, errlen, "%s: not a vdisk attribute", a->name);
	return -1;
}

int vdisk_config_parse(struct vdisk_config *cfg, const struct vdisk_mode *mode,
		       struct scst_attr *attrs, unsigned nattrs, char *err, size_t errlen)
{
	*cfg = (struct vdisk_config){ .block_size = 512, .rotational = true };
	for (unsigned i = 0; i < nattrs; i++) {
		if (attrs[i].consumed || !mode_accepts(mode, attrs[i].name))
			continue; /* the core's, or an error the core reports */
		if (parse_one(cfg, &attrs[i], err, errlen)) {
			vdisk_config_free(cfg);
			return -1;
		}
		attrs[i].consumed = true;
	}
	if (mode->needs_file && !cfg->filename) {
		snprintf(err, errlen, "%s needs a filename attribute", mode->handler_name);
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

void vdisk_show_attrs(struct scst_device *dev,
		      void (*emit)(void *ctx, const char *name, const char *value), void *ctx)
{
	struct vdisk_dev *vd = dev->handler_priv;
	const struct vdisk_config *cfg = &vd->cfg;
	char num[32];

	if (cfg->filename)
		emit(ctx, "filename", cfg->filename);
	if (cfg->size_bytes) {
		snprintf(num, sizeof(num), "%" PRIu64, cfg->size_bytes);
		emit(ctx, "size", num);
	}
	snprintf(num, sizeof(num), "%u", cfg->block_size);
	emit(ctx, "blocksize", num);
	if (mode_accepts(vd->mode, "write_through"))
		emit(ctx, "write_through", cfg->write_through ? "1" : "0");
	if (mode_accepts(vd->mode, "nv_cache"))
		emit(ctx, "nv_cache", cfg->nv_cache ? "1" : "0");
	if (mode_accepts(vd->mode, "o_direct"))
		emit(ctx, "o_direct", cfg->o_direct ? "1" : "0");
	emit(ctx, "rotational", cfg->rotational ? "1" : "0");
}
