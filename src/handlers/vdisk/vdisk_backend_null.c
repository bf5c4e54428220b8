/* The null backend of vdisk_nullio: no store at all. Reads return zeros,
 * writes and flushes succeed at once. It measures the target itself: every
 * layer above the store runs, and nothing below it costs time. */
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

const struct vdisk_backend vdisk_null_backend = {
	.name = "null",
	.no_medium = true,
	.open = null_open,
	.close = null_close,
	.submit = null_submit,
};
