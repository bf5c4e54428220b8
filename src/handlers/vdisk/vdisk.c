/* The three vdisk handlers: their modes, attach and detach, registration. */
#include <stdio.h>
#include <stdlib.h>

#include "handlers/vdisk/vdisk.h"
#include "handlers/vdisk/vdisk_internal.h"

static const struct vdisk_mode fileio_mode = {
	.handler_name = "vdisk_fileio",
	.backend = &vdisk_file_backend,
	.needs_file = true,
	.attrs = &vdisk_fileio_attr_table,
};

static const struct vdisk_mode blockio_mode = {
	.handler_name = "vdisk_blockio",
	.backend = &vdisk_file_backend,
	.needs_file = true,
	.direct = true,
	.attrs = &vdisk_blockio_attr_table,
};

static const struct vdisk_mode nullio_mode = {
	.handler_name = "vdisk_nullio",
	.backend = &vdisk_null_backend,
	.attrs = &vdisk_nullio_attr_table,
};

/* The LUN's size: size/size_mb if given (the store must hold it), else
 * the whole store; whole blocks only. */
static int vdisk_set_geometry(struct vdisk_dev *vd, char *err, size_t errlen)
{
	const struct vdisk_config *cfg = &vd->cfg;
	uint64_t bytes = cfg->size_bytes ? cfg->size_bytes : vd->store_bytes;

	if (bytes > vd->store_bytes) {
		snprintf(err, errlen, "%s is %llu bytes, smaller than the %llu bytes asked for",
			 cfg->filename, (unsigned long long)vd->store_bytes,
			 (unsigned long long)bytes);
		return -1;
	}
	if (bytes / cfg->block_size == 0) {
		snprintf(err, errlen, "%s holds less than one %u-byte block",
			 cfg->filename ? cfg->filename : "the device", cfg->block_size);
		return -1;
	}
	vd->dev->block_size = cfg->block_size;
	atomic_store(&vd->dev->nblocks, bytes / cfg->block_size);
	return 0;
}

static int vdisk_attach(struct scst_device *dev, const struct vdisk_mode *mode,
			struct scst_attr *attrs, unsigned nattrs, char *err, size_t errlen)
{
	struct vdisk_dev *vd = calloc(1, sizeof(*vd));

	if (!vd) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	vd->dev = dev;
	vd->mode = mode;
	if (vdisk_config_parse(&vd->cfg, mode, attrs, nattrs, err, errlen))
		goto fail;
	if (mode->backend->open(vd, dev->read_only, err, errlen))
		goto fail_config;
	if (vdisk_set_geometry(vd, err, errlen))
		goto fail_open;
	/* The mode parameters: defaults, saved values, current values. */
	vdisk_mode_attach(vd);
	if (vdisk_medium_init(vd, err, errlen))
		goto fail_open;
	/* A SANITIZE or FORMAT UNIT that a stop cut short: its failure mode. */
	vdisk_medium_store_load(vd);
	dev->removable = vd->cfg.removable;
	/* A thin LUN always reports LBPRZ (vdisk_capacity.c). */
	dev->unmap_reads_zeros = vdisk_is_thin(vd);
	dev->handler_priv = vd;
	return 0;
fail_open:
	mode->backend->close(vd);
fail_config:
	vdisk_config_free(&vd->cfg);
fail:
	free(vd);
	return -1;
}

/* Once in the registry: a sanitize a stop cut short runs again. */
void vdisk_attached(struct scst_device *dev)
{
	vdisk_medium_job_resume(dev->handler_priv);
}

static void vdisk_detach(struct scst_device *dev)
{
	struct vdisk_dev *vd = dev->handler_priv;

	if (!vd)
		return;
	/* A sanitize to resume, if the device went before it could. */
	free(vd->medium_op.resume);
	vd->mode->backend->close(vd);
	vdisk_medium_destroy(vd);
	vdisk_config_free(&vd->cfg);
	free(vd);
	dev->handler_priv = NULL;
}

static int fileio_attach(struct scst_device *dev, struct scst_attr *attrs, unsigned nattrs,
			 char *err, size_t errlen)
{
	return vdisk_attach(dev, &fileio_mode, attrs, nattrs, err, errlen);
}

static int blockio_attach(struct scst_device *dev, struct scst_attr *attrs, unsigned nattrs,
			  char *err, size_t errlen)
{
	return vdisk_attach(dev, &blockio_mode, attrs, nattrs, err, errlen);
}

static int nullio_attach(struct scst_device *dev, struct scst_attr *attrs, unsigned nattrs,
			 char *err, size_t errlen)
{
	return vdisk_attach(dev, &nullio_mode, attrs, nattrs, err, errlen);
}

/* The three handlers are one device type; they differ in name, in the
 * attributes they take and in the mode their attach sets up; only fileio
 * copies between its LUNs inside the kernel (blockio's O_DIRECT must not
 * meet the page cache; nullio has nothing to copy). */
#define VDISK_DEV_TYPE(handler_name, attrs, attach_fn, copy_range_fn) \
	{                                                       \
		.name = handler_name,                           \
		.type = TYPE_DISK,                              \
		.ops = vdisk_ops,                               \
		.version_descriptor = SBC3_VERSION_DESCRIPTOR,  \
		.vpd_pages = vdisk_vpd_pages,                   \
		.nvpd_pages = VDISK_NVPD_PAGES,                 \
		.vpd_page = vdisk_vpd_page,                     \
		.write_cache = vdisk_write_cache,               \
		.dev_attrs = attrs,                             \
		.attach = attach_fn,                            \
		.attached = vdisk_attached,                     \
		.detach = vdisk_detach,                         \
		.resync_size = vdisk_resync_size,               \
		.not_ready = vdisk_not_ready,                   \
		.clear_nexus_state = vdisk_clear_nexus_state,   \
		.set_medium = vdisk_set_medium,                 \
		.copy_range = copy_range_fn,                    \
	}

static struct scst_dev_type vdisk_fileio =
	VDISK_DEV_TYPE("vdisk_fileio", &vdisk_fileio_attr_table, fileio_attach, vdisk_copy_range);
static struct scst_dev_type vdisk_blockio =
	VDISK_DEV_TYPE("vdisk_blockio", &vdisk_blockio_attr_table, blockio_attach, NULL);
static struct scst_dev_type vdisk_nullio =
	VDISK_DEV_TYPE("vdisk_nullio", &vdisk_nullio_attr_table, nullio_attach, NULL);

int vdisk_register_nullio_only(void)
{
	return scst_register_dev_handler(&vdisk_nullio);
}

int vdisk_register(void)
{
	int ret;

	if ((ret = scst_register_dev_handler(&vdisk_fileio)) ||
	    (ret = scst_register_dev_handler(&vdisk_blockio)) ||
	    (ret = scst_register_dev_handler(&vdisk_nullio)))
		return ret;
	return 0;
}
