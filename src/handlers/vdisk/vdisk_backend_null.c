/* The null backend of vdisk_nullio: no store at all. Reads return zeros,
 * writes and flushes succeed at once. It measures the target itself: every
 * layer above the store runs, and nothing below it costs time.
 *
 * Thin provisioned (thin_provisioned 1), it is a LUN nothing was ever
 * written to: every block reads as zeros and GET LBA STATUS reports every
 * block deallocated, whatever was "written"; deallocating is a no-op.
 * The log page's counts say nothing is used and the whole capacity is
 * available. */
#include <string.h>

#include "handlers/vdisk/vdisk_internal.h"

static int null_open(struct vdisk_dev *vd, bool read_only, char *err, size_t errlen)
{
	vd->store_bytes = vd->cfg.size_bytes;
	return 0;
}

static void null_close(struct vdisk_dev *vd)
{
}

static void null_submit(struct vdisk_io *io)
{
	if (io->kind == VDISK_IO_READ)
		memset(io->buf, 0, io->len);
	io->done = io->len;
	io->complete(io, 0);
}

static uint64_t null_extent(struct vdisk_dev *vd, uint64_t off, uint64_t end, bool *mapped)
{
	(void)vd;
	(void)off;
	*mapped = false;
	return end;
}

static bool null_space(struct vdisk_dev *vd, uint64_t *used, uint64_t *avail)
{
	*used = 0;
	*avail = vd->store_bytes;
	return true;
}

const struct vdisk_backend vdisk_null_backend = {
	.name = "null",
	.no_medium = true,
	.open = null_open,
	.close = null_close,
	.submit = null_submit,
	.extent = null_extent,
	.space = null_space,
};
