/* The file backend of vdisk_fileio and vdisk_blockio: a regular file or a
 * block device, read and written through the reactor's io_uring.
 *
 * The two modes differ only in open flags: blockio (and fileio with
 * o_direct) opens with O_DIRECT and bypasses the page cache. O_DIRECT
 * needs buffer, offset and length aligned to the logical block size; the
 * core's buffers are 4 KiB aligned and offsets whole blocks, but a READ
 * cut short by a small expected length, or a resubmitted short transfer,
 * may end mid-block, so a second descriptor without O_DIRECT carries
 * those. The kernel keeps the two coherent (direct I/O writes back and
 * invalidates the cached range first).
 *
 * Deallocation (VDISK_IO_DISCARD, thin provisioning) is one fallocate
 * through the ring, on either kind of store: PUNCH_HOLE | KEEP_SIZE. On
 * a file it frees the file system blocks inside the range and zeroes the
 * partial ones at its edges, so every block of the range reads as zeros
 * (LBPRZ). On a block device the kernel turns the same call into a
 * discard that guarantees zeros (write zeroes with unmap, or a discard
 * the device promises reads back as zeros), the BLKDISCARD that
 * LBPRZ can be claimed for; a device that offers neither answers
 * EOPNOTSUPP, and the range is then zeroed with ZERO_RANGE (written, not
 * freed), so that LBPRZ still holds. No ioctl, so the reactor never
 * blocks on a discard. */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "base/log.h"
#include "handlers/vdisk/vdisk_internal.h"

/* Transient failures (the ring or the kernel was busy) are retried this
 * many times before they count as I/O errors. */
#define FILE_IO_MAX_RETRIES 8

struct file_store {
	int fd;          /* the descriptor for aligned I/O (O_DIRECT if direct) */
	int fd_buffered; /* == fd when not direct */
	uint32_t align;  /* O_DIRECT alignment; 1 when not direct */
	bool is_block;   /* a block device: no holes to look for */
	/* The device cannot deallocate with zeros (PUNCH_HOLE gave
	 * EOPNOTSUPP once): discards zero the range instead. Set by any
	 * reactor, only ever from false to true. */
	atomic_bool punch_unsupported;
};

static int open_flags(const struct vdisk_dev *vd, bool read_only)
{
	int flags = (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC;

	if (vd->cfg.write_through)
		flags |= O_DSYNC;
	return flags;
}

static bool store_is_direct(const struct vdisk_dev *vd)
{
	return vd->mode->direct || vd->cfg.o_direct;
}

/* Size of a regular file or block device; for a block device also checks
 * that its logical sector fits in our block (O_DIRECT needs that). */
static int store_size(struct vdisk_dev *vd, int fd, char *err, size_t errlen)
{
	struct stat st;
	const char *path = vd->cfg.filename;

	if (fstat(fd, &st) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (S_ISREG(st.st_mode)) {
		vd->store_bytes = (uint64_t)st.st_size;
		/* A hole punch frees whole file system blocks. */
		vd->dealloc_granularity = (uint32_t)st.st_blksize;
		return 0;
	}
	if (!S_ISBLK(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file or block device", path);
		return -1;
	}
	uint64_t bytes;
	int sector;

	if (ioctl(fd, BLKGETSIZE64, &bytes) < 0 || ioctl(fd, BLKSSZGET, &sector) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if ((uint32_t)sector > vd->cfg.block_size && store_is_direct(vd)) {
		snprintf(err, errlen, "%s: logical sector of %d bytes exceeds blocksize %u", path,
			 sector, vd->cfg.block_size);
		return -1;
	}
	vd->store_bytes = bytes;
	return 0;
}

static bool is_block_device(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && S_ISBLK(st.st_mode);
}

/* A thin LUN on a file promises that UNMAP frees space and that unmapped
 * blocks read as zeros: a file system without hole punching (NFSv3, some
 * FUSE ones) can keep neither, which must show at attach rather than as
 * a MEDIUM ERROR on the first UNMAP. Punching past the end of the file
 * (KEEP_SIZE) changes nothing and still asks the file system. */
static bool can_punch_holes(int fd, uint64_t size, const char *path, char *err, size_t errlen)
{
	if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)size, 4096) == 0)
		return true;
	snprintf(err, errlen, "thin_provisioned: %s cannot deallocate blocks (hole punch: %s)", path,
		 strerror(errno));
	return false;
}

static int file_open(struct vdisk_dev *vd, bool read_only, char *err, size_t errlen)
{
	struct file_store *fs = calloc(1, sizeof(*fs));
	const char *path = vd->cfg.filename;
	int flags = open_flags(vd, read_only);

	if (!fs) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	fs->fd = fs->fd_buffered = -1;
	fs->align = 1;
	fs->fd_buffered = open(path, flags);
	if (fs->fd_buffered < 0) {
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		goto fail;
	}
	if (store_size(vd, fs->fd_buffered, err, errlen))
		goto fail;
	fs->is_block = is_block_device(fs->fd_buffered);
	if (vd->cfg.thin_provisioned && !read_only && !fs->is_block &&
	    !can_punch_holes(fs->fd_buffered, vd->store_bytes, path, err, errlen))
		goto fail;
	fs->fd = fs->fd_buffered;
	if (store_is_direct(vd)) {
		fs->fd = open(path, flags | O_DIRECT);
		if (fs->fd < 0) {
			snprintf(err, errlen, "cannot open %s with O_DIRECT: %s", path,
				 strerror(errno));
			goto fail;
		}
		fs->align = vd->cfg.block_size;
	}
	vd->backend_priv = fs;
	return 0;
fail:
	if (fs->fd >= 0 && fs->fd != fs->fd_buffered)
		close(fs->fd);
	if (fs->fd_buffered >= 0)
		close(fs->fd_buffered);
	free(fs);
	return -1;
}

static void file_close(struct vdisk_dev *vd)
{
	struct file_store *fs = vd->backend_priv;

	if (!fs)
		return;
	if (fdatasync(fs->fd_buffered) < 0 && errno != EINVAL && errno != EBADF)
		log_warn("device %s: flush on close: %s", vd->dev->name, strerror(errno));
	if (fs->fd != fs->fd_buffered)
		close(fs->fd);
	close(fs->fd_buffered);
	free(fs);
	vd->backend_priv = NULL;
}

static int file_resize(struct vdisk_dev *vd, char *err, size_t errlen)
{
	const struct file_store *fs = vd->backend_priv;

	return store_size(vd, fs->fd_buffered, err, errlen);
}

static bool aligned(uint64_t v, uint32_t align)
{
	return v % align == 0;
}

static void file_io_done(struct reactor_op *op, int res);

static int discard_mode(struct file_store *fs)
{
	bool zero = atomic_load_explicit(&fs->punch_unsupported, memory_order_relaxed);

	return (zero ? FALLOC_FL_ZERO_RANGE : FALLOC_FL_PUNCH_HOLE) | FALLOC_FL_KEEP_SIZE;
}

/* Queues the next piece of @io: what remains after io->done bytes. */
static void file_submit_step(struct vdisk_io *io)
{
	struct file_store *fs = io->vd->backend_priv;
	struct io_uring_sqe *sqe = reactor_get_sqe(io->reactor);
	/* PRE-FETCH, discards and flushes have no buffer (NULL + 0 is UB). */
	uint8_t *buf = io->buf ? io->buf + io->done : NULL;
	uint64_t off = io->off + io->done;
	uint32_t len = io->len - io->done;
	int fd = fs->fd;

	if (!aligned((uintptr_t)buf, fs->align) || !aligned(off, fs->align) ||
	    !aligned(len, fs->align))
		fd = fs->fd_buffered;
	switch (io->kind) {
	case VDISK_IO_PREFETCH:
		io_uring_prep_fadvise(sqe, fs->fd_buffered, off, len, POSIX_FADV_WILLNEED);
		break;
	case VDISK_IO_READ:
		io_uring_prep_read(sqe, fd, buf, len, off);
		break;
	case VDISK_IO_WRITE:
		io_uring_prep_write(sqe, fd, buf, len, off);
		if (io->dsync)
			sqe->rw_flags = RWF_DSYNC;
		break;
	case VDISK_IO_FLUSH:
		io_uring_prep_fsync(sqe, fs->fd_buffered, IORING_FSYNC_DATASYNC);
		break;
	case VDISK_IO_DISCARD:
		io_uring_prep_fallocate(sqe, fs->fd_buffered, discard_mode(fs), (off_t)io->off,
					(off_t)io->len);
		break;
	}
	assert(!io->in_ring);
	io->in_ring = true;
	io->op.done = file_io_done;
	io_uring_sqe_set_data(sqe, &io->op);
}

static void file_io_done(struct reactor_op *op, int res)
{
	struct vdisk_io *io = container_of(op, struct vdisk_io, op);

	assert(io->in_ring);
	io->in_ring = false;
	/* Advice is given or not, never retried (vdisk_prefetch.c). */
	if (io->kind == VDISK_IO_PREFETCH) {
		io->complete(io, res < 0 ? res : 0);
		return;
	}
	if ((res == -EAGAIN || res == -EINTR) && io->retries++ < FILE_IO_MAX_RETRIES) {
		file_submit_step(io);
		return;
	}
	if (res == -EOPNOTSUPP && io->kind == VDISK_IO_DISCARD) {
		struct file_store *fs = io->vd->backend_priv;

		if (!atomic_exchange_explicit(&fs->punch_unsupported, true,
					      memory_order_relaxed)) {
			log_info("device %s: %s cannot deallocate with zeros; UNMAP zeroes "
				 "the blocks instead", io->vd->dev->name, io->vd->cfg.filename);
		}
		/* Another command may have set it first: retry either way,
		 * unless this very SQE already was the zeroing one. */
		if (!io->zeroing_retried) {
			io->zeroing_retried = true;
			file_submit_step(io);
			return;
		}
	}
	if (res < 0) {
		io->complete(io, res);
		return;
	}
	if (io->kind == VDISK_IO_FLUSH || io->kind == VDISK_IO_DISCARD) {
		io->complete(io, 0);
		return;
	}
	/* A short transfer is legal; only one that moves nothing (the store
	 * shrank under us, or the device is gone) is an error. */
	if (res == 0) {
		io->complete(io, -EIO);
		return;
	}
	io->done += (uint32_t)res;
	if (io->done < io->len) {
		file_submit_step(io);
		return;
	}
	io->complete(io, 0);
}

static void file_submit(struct vdisk_io *io)
{
	file_submit_step(io);
}

/* Blocks of a file are mapped where it has data, deallocated in its holes
 * (SEEK_DATA / SEEK_HOLE, which tmpfs, ext4, xfs and btrfs answer from
 * their extent maps). A block device shows no holes: all mapped. */
static uint64_t file_extent(struct vdisk_dev *vd, uint64_t off, uint64_t end, bool *mapped)
{
	const struct file_store *fs = vd->backend_priv;
	off_t data, hole;

	assert(off < end);
	*mapped = true;
	if (fs->is_block)
		return end;
	data = lseek(fs->fd_buffered, (off_t)off, SEEK_DATA);
	if (data < 0) {
		/* ENXIO: no data from here to the end of the file. Anything
		 * else: the file system cannot tell, so call it mapped. */
		*mapped = errno != ENXIO;
		return end;
	}
	if ((uint64_t)data > off) {
		*mapped = false;
		return (uint64_t)data < end ? (uint64_t)data : end;
	}
	hole = lseek(fs->fd_buffered, (off_t)off, SEEK_HOLE);
	if (hole < 0 || (uint64_t)hole > end)
		return end;
	/* SEEK_HOLE never returns off itself when off is in data. */
	return (uint64_t)hole > off ? (uint64_t)hole : end;
}

static bool file_space(struct vdisk_dev *vd, uint64_t *used, uint64_t *avail)
{
	const struct file_store *fs = vd->backend_priv;
	struct statvfs sv;
	struct stat st;

	if (fs->is_block || fstat(fs->fd_buffered, &st) < 0 || fstatvfs(fs->fd_buffered, &sv) < 0)
		return false;
	*used = (uint64_t)st.st_blocks * 512; /* st_blocks counts 512-byte units */
	*avail = (uint64_t)sv.f_bavail * sv.f_frsize;
	return true;
}

const struct vdisk_backend vdisk_file_backend = {
	.name = "file",
	.open = file_open,
	.close = file_close,
	.resize = file_resize,
	.submit = file_submit,
	.extent = file_extent,
	.space = file_space,
};

int vdisk_file_copy_fd(const struct vdisk_dev *vd)
{
	const struct file_store *fs = vd->backend_priv;

	if (vd->mode->backend != &vdisk_file_backend || !fs || fs->is_block)
		return -1;
	return fs->fd_buffered;
}
