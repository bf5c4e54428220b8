/* vdisk internals: the per-device state, the backing-store contract and the
 * functions the command files share.
 *
 * The backing-store contract is small on purpose: a backend opens its
 * store (and reports its size), closes it, and moves bytes. Everything
 * SCSI (CDBs, ranges, sense, mode pages) stays above it, so the three
 * handlers run the very same command code. */
#ifndef USCST_HANDLERS_VDISK_INTERNAL_H
#define USCST_HANDLERS_VDISK_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/reactor.h"
#include "core/scst.h"
#include "scsi/cdb.h"
#include "scsi/mode_pages.h"

/* Largest data transfer one command may ask for. Larger requests get
 * INVALID FIELD IN CDB on the transfer length, before any buffer exists. */
#define VDISK_MAX_XFER_BYTES (8u << 20)

/* Largest range one WRITE SAME may name (Block Limits' MAXIMUM WRITE SAME
 * LENGTH, in bytes here): it bounds how long one command keeps the store
 * busy, and it must stay below the capacity of any LUN worth testing, or a
 * WRITE SAME of "through the last block" from LBA 0 could zero it all. */
#define VDISK_MAX_WRITE_SAME_BYTES (64u << 20)

/* Largest range one COMPARE AND WRITE may name (Block Limits' MAXIMUM
 * COMPARE AND WRITE LENGTH, PARSE enforces it): every other writer of its
 * blocks waits for the whole read, compare and write, and a cluster lock
 * (VMware ATS) takes one block. Below 255 so that the refusal is
 * reachable at all (the CDB's field is one byte). */
#define VDISK_MAX_CAW_BLOCKS 128u

/* INQUIRY version descriptor: SBC-3 (no version claimed), SPC-4 table 49. */
#define SBC3_VERSION_DESCRIPTOR 0x04c0

struct vdisk_dev;

/* A removable medium's state (vdisk_unit.c): whether it is in, and which
 * I_T nexuses prevent its removal (SBC-4 5.14: removal is prevented
 * while any one does). */
struct vdisk_medium {
	/* Ejected (START STOP UNIT with LOEJ): every command that needs the
	 * medium gets NOT READY, MEDIUM NOT PRESENT. Read lock-free by
	 * not_ready on every command; written under @lock. */
	atomic_bool ejected;
	pthread_mutex_t lock;
	/* The sessions whose PREVENT ALLOW MEDIUM REMOVAL prevents removal;
	 * compared, never dereferenced. */
	const struct scst_session **preventers;
	unsigned npreventers, cap;
};

/* A whole-medium operation (SANITIZE, FORMAT UNIT: vdisk_medium_job.c)
 * running, or the failure mode one left. Read lock-free by every command
 * of every session (the not-ready check); written by the reactor that
 * runs the job, and by SANITIZE's EXIT FAILURE MODE. */
enum vdisk_medium_op_state {
	VDISK_OP_IDLE,
	VDISK_OP_SANITIZING,      /* NOT READY, SANITIZE IN PROGRESS */
	VDISK_OP_FORMATTING,      /* NOT READY, FORMAT IN PROGRESS */
	VDISK_OP_SANITIZE_FAILED, /* MEDIUM ERROR, SANITIZE COMMAND FAILED */
	VDISK_OP_FORMAT_FAILED,   /* MEDIUM ERROR, MEDIUM FORMAT CORRUPTED */
};

struct vdisk_medium_op {
	atomic_uint state;        /* enum vdisk_medium_op_state */
	atomic_uint progress;     /* of the running job, in 65536ths */
	atomic_bool failed_ause;  /* the failed sanitize had AUSE=1 */
	/* A sanitize a stop cut short, found at attach (state SANITIZING):
	 * what vdisk_medium_job_resume() runs again once the device is in
	 * the registry. Management thread only; NULL once taken. */
	struct vdisk_medium_job_spec *resume;
};

/* One transfer between a buffer and the store, run to completion by the
 * backend: a short transfer is retried for the rest, only an error or a
 * transfer that makes no progress fails it. */
enum vdisk_io_kind {
	VDISK_IO_READ,
	VDISK_IO_WRITE,
	VDISK_IO_FLUSH, /* make written data durable (fdatasync) */
	/* Advise the store's cache to read [off, off + len) in (PRE-FETCH);
	 * buf is unused. Only for a store with a page cache. */
	VDISK_IO_PREFETCH,
	/* Deallocate [off, off + len) so that it reads back as zeros (thin
	 * provisioning: UNMAP, WRITE SAME with UNMAP); buf is unused. */
	VDISK_IO_DISCARD,
};

struct vdisk_io {
	enum vdisk_io_kind kind;
	struct vdisk_dev *vd;
	struct scst_cmd *cmd; /* the command it is for; NULL for a medium job */
	struct reactor *reactor; /* whose ring runs it: cmd's, or the job's */
	uint8_t *buf;
	uint64_t off;  /* byte offset in the store */
	uint32_t len;
	uint32_t done; /* bytes moved so far */
	bool dsync;    /* WRITE: durable before completion (FUA, WCE=0) */
	unsigned retries;
	bool zeroing_retried; /* DISCARD: resubmitted as ZERO_RANGE */
	/* Runs once, on the command's reactor: err 0 or -errno. */
	void (*complete)(struct vdisk_io *io, int err);
	/* A backend that goes through the reactor's io_uring: the SQE's user
	 * data, one piece of the transfer at a time. While in_ring (an SQE is
	 * submitted and its CQE has not come back) the io must be neither
	 * freed nor reused; complete runs only once it is clear. */
	struct reactor_op op;
	bool in_ring;
};

struct vdisk_backend {
	const char *name;
	/* Nothing is stored: reads return zeros and never fail. */
	bool no_medium;
	/* Opens the store named by vd->cfg.filename (if any) and sets
	 * vd->store_bytes. Management thread; may block. */
	int (*open)(struct vdisk_dev *vd, bool read_only, char *err, size_t errlen);
	/* Flushes and closes. Any thread; may block. */
	void (*close)(struct vdisk_dev *vd);
	/* Re-reads the open store's size into vd->store_bytes (it was
	 * resized). Management thread; may block briefly. NULL: the size
	 * cannot change (no store). */
	int (*resize)(struct vdisk_dev *vd, char *err, size_t errlen);
	/* Starts @io; io->complete runs later or before this returns. */
	void (*submit)(struct vdisk_io *io);
	/* Thin provisioning (vdisk_lba_status.c, vdisk_log.c). The run of
	 * blocks of one provisioning state that starts at byte @off: sets
	 * *mapped and returns where the run ends, at most @end. Command's
	 * reactor; a quick metadata look-up (SEEK_DATA/SEEK_HOLE). */
	uint64_t (*extent)(struct vdisk_dev *vd, uint64_t off, uint64_t end, bool *mapped);
	/* Bytes the store occupies and bytes its file system still has;
	 * false when the store cannot tell (a block device). */
	bool (*space)(struct vdisk_dev *vd, uint64_t *used, uint64_t *avail);
};

extern const struct vdisk_backend vdisk_file_backend;
/* The descriptor of @vd's regular file that goes through the page cache
 * (the in-kernel copy's, vdisk_copy_range.c); -1 when @vd is no file
 * backend's regular file. */
int vdisk_file_copy_fd(const struct vdisk_dev *vd);

/* vdisk_copy_range.c: the handler's copy_range() (scst.h), with
 * copy_file_range(2) on a worker thread; vdisk_copy_workers_stop() joins
 * the workers (the daemon's shutdown, before the reactors stop). */
bool vdisk_copy_range(struct scst_cmd *cmd, struct scst_device *src, uint64_t src_lba);
extern const struct vdisk_backend vdisk_null_backend;

/* What distinguishes fileio, blockio and nullio. */
struct vdisk_mode {
	const char *handler_name;
	const struct vdisk_backend *backend;
	bool needs_file;        /* filename is required */
	bool direct;            /* O_DIRECT always (blockio) */
	/* The attributes the handler takes (vdisk_attrs.c); its dev_attrs. */
	const struct scst_attr_table *attrs;
};

/* Handler attributes, as parsed by vdisk_config_parse(). */
struct vdisk_config {
	char *filename;
	uint64_t size_bytes; /* 0: the store's own size */
	bool removable;      /* RMB=1: START STOP UNIT ejects and loads */
	uint32_t block_size;
	/* physical_blocksize: bytes per physical block, a power-of-two
	 * multiple of block_size (READ CAPACITY(16)'s exponent, VPD 0xb0's
	 * optimal granularity); 0: the same as block_size. */
	uint32_t physical_block_size;
	bool write_through;  /* every write is durable: O_DSYNC, WCE=0 */
	bool nv_cache;       /* the cache is non-volatile: no flush, FUA ignored */
	bool o_direct;       /* fileio: bypass the page cache */
	bool rotational;
	/* MiB per second a SANITIZE or FORMAT UNIT writes at most; 0: as
	 * fast as the store takes (vdisk_medium_job.c). */
	uint32_t background_rate_mb;
	/* thin_provisioned: LBPME, UNMAP and WRITE SAME's UNMAP deallocate
	 * (vdisk_unmap.c). */
	bool thin_provisioned;
};

/* LOG SENSE with PPC=1 reports the parameters that changed since the
 * last LOG SENSE or LOG SELECT of their page (SPC-4 6.6): what each page
 * with parameters reported last, its whole parameter list, by the index
 * of the page in vdisk_log.c's table. Under vdisk_log.c's lock. */
#define VDISK_LOG_MEMORY_PAGES 8
#define VDISK_LOG_PARAMS_MAX 252
struct vdisk_log_memory {
	bool valid[VDISK_LOG_MEMORY_PAGES]; /* false: nothing reported since start-up */
	uint16_t len[VDISK_LOG_MEMORY_PAGES];
	uint8_t params[VDISK_LOG_MEMORY_PAGES][VDISK_LOG_PARAMS_MAX];
};

/* handler_priv of a vdisk device. */
struct vdisk_dev {
	struct scst_device *dev;
	struct vdisk_medium medium;
	/* Mode parameters (vdisk_mode.c): the power-on defaults and the
	 * saved values (MODE SELECT with SP=1, kept in the state directory
	 * by vdisk_mode_store.c); the current ones are the device's
	 * (dev->wce, dev->d_sense, ...). Under dev->lock. */
	struct mode_values mode_default, mode_saved;
	const struct vdisk_mode *mode;
	struct vdisk_config cfg;
	uint64_t store_bytes;  /* the backing store's size, from open */
	void *backend_priv;
	/* Bytes a deallocation frees whole (the file system's block, set by
	 * the backend's open); 0: no better than a physical block. */
	uint32_t dealloc_granularity;
	/* A SANITIZE or FORMAT UNIT running, or the failure it left. */
	struct vdisk_medium_op medium_op;
	/* What each log page last reported (vdisk_log.c). */
	struct vdisk_log_memory log_memory;
	/* The in-kernel copy to this device was logged once, and its
	 * refusal (vdisk_copy_range.c; any thread). */
	atomic_bool copy_range_logged;
	atomic_bool copy_range_refusal_logged;
};

/* ---- thin provisioning (vdisk_unmap.c, vdisk_lba_status.c) ---- */

/* Block Limits' MAXIMUM UNMAP BLOCK DESCRIPTOR COUNT: UNMAP validates the
 * whole list before it deallocates anything, so it bounds that walk. */
#define VDISK_MAX_UNMAP_DESCRIPTORS 256u
/* Block Limits' MAXIMUM UNMAP LBA COUNT is this many blocks, or fewer so
 * that one descriptor's bytes fit one vdisk_io (1 GiB): libiscsi holds a
 * limit above 2^20 insane. */
#define VDISK_MAX_UNMAP_BLOCKS (1u << 20)
#define VDISK_MAX_UNMAP_BYTES (1u << 30)
/* VPD 0xb2's THRESHOLD EXPONENT: the log page's resource counts are in
 * units of 2^this blocks. 1 MiB of 512-byte blocks: a 32-bit count
 * reaches 4 PiB. */
#define VDISK_THRESHOLD_BYTES (1u << 20)

static inline bool vdisk_is_thin(const struct vdisk_dev *vd)
{
	return vd->cfg.thin_provisioned;
}

static inline uint32_t vdisk_max_unmap_blocks(const struct scst_device *dev)
{
	uint32_t by_bytes = VDISK_MAX_UNMAP_BYTES / dev->block_size;

	return by_bytes < VDISK_MAX_UNMAP_BLOCKS ? by_bytes : VDISK_MAX_UNMAP_BLOCKS;
}

/* VPD 0xb2's THRESHOLD EXPONENT: log2 of VDISK_THRESHOLD_BYTES in blocks. */
static inline uint8_t vdisk_threshold_exponent(const struct scst_device *dev)
{
	return (uint8_t)__builtin_ctz(VDISK_THRESHOLD_BYTES / dev->block_size);
}

/* Logical blocks a deallocation frees whole: OPTIMAL UNMAP GRANULARITY. */
uint32_t vdisk_unmap_granularity(const struct vdisk_dev *vd);
/* The row's available(): UNMAP and GET LBA STATUS only on a thin LUN. */
bool vdisk_thin_available(const struct scst_tgt_dev *td);
int vdisk_parse_unmap(struct scst_cmd *cmd);
void vdisk_exec_unmap(struct scst_cmd *cmd);
int vdisk_parse_get_lba_status(struct scst_cmd *cmd);
void vdisk_exec_get_lba_status(struct scst_cmd *cmd);
/* Deallocates @nblocks from @lba, then completes @cmd (GOOD, or the
 * I/O error's sense); WRITE SAME with UNMAP. */
void vdisk_deallocate_and_finish(struct scst_cmd *cmd, uint64_t lba, uint32_t nblocks);

/* vdisk_log.c: LOG SENSE and LOG SELECT. */
int vdisk_parse_log_sense(struct scst_cmd *cmd);
void vdisk_exec_log_sense(struct scst_cmd *cmd);
int vdisk_parse_log_select(struct scst_cmd *cmd);
void vdisk_exec_log_select(struct scst_cmd *cmd);

/* Logical blocks per physical block, a power of two (1 unless
 * physical_blocksize says otherwise). */
static inline uint32_t vdisk_blocks_per_physical(const struct vdisk_dev *vd)
{
	return vd->cfg.physical_block_size ? vd->cfg.physical_block_size / vd->cfg.block_size : 1;
}

static inline struct vdisk_dev *vdisk_of(const struct scst_cmd *cmd)
{
	return cmd->dev->handler_priv;
}

/* vdisk_attrs.c */
int vdisk_config_parse(struct vdisk_config *cfg, const struct vdisk_mode *mode,
		       struct scst_attr *attrs, unsigned nattrs, char *err, size_t errlen);
void vdisk_config_free(struct vdisk_config *cfg);
extern const struct scst_attr_table vdisk_fileio_attr_table;
extern const struct scst_attr_table vdisk_blockio_attr_table;
extern const struct scst_attr_table vdisk_nullio_attr_table;

/* vdisk_vpd.c: Block Limits, Block Device Characteristics and Logical
 * Block Provisioning. */
#define VDISK_NVPD_PAGES 3
extern const uint8_t vdisk_vpd_pages[VDISK_NVPD_PAGES];
size_t vdisk_vpd_page(const struct scst_device *dev, uint8_t page, uint8_t *buf);

/* vdisk_ops.c: the operation table of every mode. */
extern const struct scst_op_desc vdisk_ops[];

/* vdisk_common.c: helpers shared by the command files. */
int vdisk_parse_no_data(struct scst_cmd *cmd);
/* ILLEGAL REQUEST / LOGICAL BLOCK ADDRESS OUT OF RANGE unless
 * [lba, lba + nblocks) lies on the medium; 0 or -1. */
int vdisk_check_range(struct scst_cmd *cmd, uint64_t lba, uint64_t nblocks);
/* The sense an I/O failure maps to (MEDIUM ERROR, or DATA PROTECT for a
 * full store); @lba is the block it concerns. */
void vdisk_set_io_error(struct scst_cmd *cmd, enum vdisk_io_kind kind, int err, uint64_t lba);
/* A request for one transfer about @cmd, set in cmd->dev_priv; NULL (and
 * BUSY status set) when memory is short. Freed by vdisk_io_free(). */
struct vdisk_io *vdisk_io_new(struct scst_cmd *cmd, enum vdisk_io_kind kind, uint8_t *buf,
			      uint64_t off, uint32_t len);
void vdisk_io_free(struct vdisk_io *io);
/* Fills @io (embedded in the caller's own state, or reused for a further
 * transfer of the same command) and sets it in cmd->dev_priv; io->complete
 * is left for the caller. */
void vdisk_io_init(struct vdisk_io *io, struct scst_cmd *cmd, enum vdisk_io_kind kind,
		   uint8_t *buf, uint64_t off, uint32_t len);
/* Bytes of Data-Out a WRITE-type command carries: the CDB's length, but
 * never more than the buffer holds (should the core ever execute a write
 * cut short by a smaller expected length, FCP-4's option a). */
static inline uint32_t vdisk_write_len(const struct scst_cmd *cmd)
{
	return cmd->data_len < cmd->bufflen ? cmd->data_len : cmd->bufflen;
}
/* Writes must be durable before GOOD: FUA, or the write cache is off. */
bool vdisk_write_needs_sync(struct scst_cmd *cmd, bool fua);

/* Parse and exec functions of the op table, by concept. */
int vdisk_parse_read(struct scst_cmd *cmd);
int vdisk_parse_write(struct scst_cmd *cmd);
int vdisk_parse_verify(struct scst_cmd *cmd);
int vdisk_parse_write_verify(struct scst_cmd *cmd);
void vdisk_exec_read(struct scst_cmd *cmd);
void vdisk_exec_write(struct scst_cmd *cmd);
void vdisk_exec_verify(struct scst_cmd *cmd);
void vdisk_exec_write_verify(struct scst_cmd *cmd);

/* vdisk_write_same.c: WRITE SAME (10/16). */
uint32_t vdisk_max_write_same_blocks(const struct scst_device *dev);
int vdisk_parse_write_same(struct scst_cmd *cmd);
void vdisk_exec_write_same(struct scst_cmd *cmd);

/* ---- cmds: ORWRITE, WRITE ATOMIC, PRE-FETCH, READ DEFECT DATA ---- */

/* No protection information (READ CAPACITY(16) PROT_EN=0, INQUIRY
 * PROTECT=0): a non-zero RDPROTECT / WRPROTECT / VRPROTECT / ORPROTECT
 * (the top 3 bits of CDB byte @flags_byte) gets INVALID FIELD IN CDB
 * pointing at its bit 7 (SBC-4 4.22.2). Returns -1 when refused. */
static inline int vdisk_refuse_protect(struct scst_cmd *cmd, uint8_t protect, uint8_t flags_byte)
{
	if (!protect)
		return 0;
	scst_set_cmd_error(cmd, scsi_sense_invalid_cdb_field(flags_byte, 7));
	return -1;
}

/* vdisk_orwrite.c: ORWRITE(16) and ORWRITE(32). */
int vdisk_parse_orwrite(struct scst_cmd *cmd);
void vdisk_exec_orwrite(struct scst_cmd *cmd);
int vdisk_parse_orwrite32(struct scst_cmd *cmd);
void vdisk_exec_orwrite32(struct scst_cmd *cmd);

/* vdisk_write_atomic.c: WRITE ATOMIC(16); Block Limits' MAXIMUM ATOMIC
 * TRANSFER LENGTH and its ATOMIC ALIGNMENT / TRANSFER LENGTH GRANULARITY
 * (one value), which its PARSE enforces. */
uint32_t vdisk_max_atomic_blocks(const struct scst_device *dev);
uint32_t vdisk_atomic_granularity(const struct scst_device *dev);
int vdisk_parse_write_atomic(struct scst_cmd *cmd);
void vdisk_exec_write_atomic(struct scst_cmd *cmd);

/* vdisk_prefetch.c: PRE-FETCH (10/16). */
int vdisk_parse_prefetch(struct scst_cmd *cmd);
void vdisk_exec_prefetch(struct scst_cmd *cmd);

/* vdisk_defects.c: READ DEFECT DATA (10/12), empty lists. */
int vdisk_parse_read_defect_data(struct scst_cmd *cmd);
void vdisk_exec_read_defect_data(struct scst_cmd *cmd);

/* vdisk_vpd.c: the device type's write_cache (VPD 0x86 V_SUP / NV_SUP). */
enum scst_write_cache vdisk_write_cache(const struct scst_device *dev);

/* vdisk_caw.c: COMPARE AND WRITE. */
int vdisk_parse_compare_and_write(struct scst_cmd *cmd);
void vdisk_exec_compare_and_write(struct scst_cmd *cmd);

/* vdisk_rmw.c: the read-modify-write of COMPARE AND WRITE and ORWRITE,
 * atomic through their rows' SCST_OP_EXCLUSIVE_RANGE.
 * A modify step: runs once, on the command's reactor, after @len bytes
 * from cmd->lba have been read into @medium (which it may change).
 * Returns the @len bytes to write in their place (@medium, or a part of
 * cmd->buf), or NULL to write nothing, the command's status set as it
 * should end (MISCOMPARE) or left GOOD. */
typedef uint8_t *vdisk_rmw_modify(struct scst_cmd *cmd, uint8_t *medium, uint32_t len);
/* EXEC of such a command, on its reactor: reads @len bytes (at most
 * cmd->nblocks blocks) from cmd->lba, calls @modify, writes what it
 * returns (durable before GOOD when @dsync, unless the command was
 * aborted meanwhile) and completes the command. @len 0 does nothing;
 * no memory is BUSY. */
void vdisk_rmw_start(struct scst_cmd *cmd, uint32_t len, bool dsync, vdisk_rmw_modify *modify);

int vdisk_parse_sync_cache(struct scst_cmd *cmd);
void vdisk_exec_sync_cache(struct scst_cmd *cmd);
/* Makes written data durable (unless the cache is non-volatile), then
 * completes @cmd; a failed flush becomes MEDIUM ERROR / WRITE ERROR. */
void vdisk_flush_and_finish(struct scst_cmd *cmd);
/* Decodes the READ/WRITE/VERIFY CDB of @cmd, checks what every one of
 * them must satisfy (no protection information, a sane transfer length
 * when data moves, the range on the medium) and sets cmd->lba/nblocks. */
int vdisk_parse_block_cdb(struct scst_cmd *cmd, struct scsi_rw_cdb *rw, bool moves_data);
/* What vdisk_parse_block_cdb() checks, for a block CDB of another
 * decoder (ORWRITE(16), WRITE ATOMIC(16)): decodes @cmd's CDB into @rw
 * with @decode, refuses protection information, a range off the medium
 * and more than @max_blocks blocks (each its own sense, in that order);
 * sets nothing in @cmd but the sense. -1 when refused. */
typedef bool vdisk_block_cdb_decoder(const uint8_t *cdb, unsigned cdb_len,
				     struct scsi_rw_cdb *out);
int vdisk_decode_block_cdb(struct scst_cmd *cmd, vdisk_block_cdb_decoder *decode,
			   uint32_t max_blocks, struct scsi_rw_cdb *rw);
/* The end of such a PARSE: cmd->lba / nblocks from @rw, and Data-Out of
 * nblocks blocks (none for zero, which SBC-4 makes no error). Returns 0. */
int vdisk_parse_data_out_blocks(struct scst_cmd *cmd, const struct scsi_rw_cdb *rw);
/* Writes cmd->buf at cmd->lba (vdisk_write_len() bytes), with O_DSYNC-like
 * durability when @dsync, and completes the command. */
void vdisk_submit_write(struct scst_cmd *cmd, bool dsync);

/* resync_size of struct scst_dev_type (vdisk_capacity.c). */
int vdisk_resync_size(struct scst_device *dev, char *err, size_t errlen);
int vdisk_parse_read_capacity10(struct scst_cmd *cmd);
void vdisk_exec_read_capacity10(struct scst_cmd *cmd);
int vdisk_parse_read_capacity16(struct scst_cmd *cmd);
void vdisk_exec_read_capacity16(struct scst_cmd *cmd);

int vdisk_parse_mode_sense(struct scst_cmd *cmd);
void vdisk_exec_mode_sense(struct scst_cmd *cmd);
int vdisk_parse_mode_select(struct scst_cmd *cmd);
void vdisk_exec_mode_select(struct scst_cmd *cmd);
/* At attach: the defaults from the attributes, the saved values from
 * the state directory (a file that does not load is logged and the
 * defaults are used), and the current values set to the saved ones.
 * Management thread; reads a file. */
void vdisk_mode_attach(struct vdisk_dev *vd);

/* vdisk_mode_store.c: saved mode pages, one file per device,
 * <state_dir>/mode/<device name>. */
/* Text of @v as the file holds it, into @buf (room for
 * VDISK_MODE_FILE_MAX bytes); returns its length. Pure. */
#define VDISK_MODE_FILE_MAX 512
size_t vdisk_mode_encode(const struct mode_values *v, char *buf);
/* Parses the file's text: 0 and *@v, or -1 with the reason (naming the
 * line) in @err and *@v untouched. Pure. */
int vdisk_mode_decode(const char *text, size_t len, struct mode_values *v, char *err,
		      size_t errlen);
/* Loads @dev_name's saved values: 1 and *@v when a file was loaded; 0
 * when there is none (or no state directory); -1 with @err when it
 * cannot be read or does not decode. Blocks: management thread. */
int vdisk_mode_load(const char *dev_name, struct mode_values *v, char *err, size_t errlen);
/* Queues the saving of @v for @cmd's device on the store's writer thread
 * (a reactor never waits for a disk); @cmd completes once the file is
 * durable: GOOD, or HARDWARE ERROR with the failure logged and the saved
 * values back to @previous (what the file still holds). Never blocks:
 * call it with dev->lock held, so that the files are written in the
 * order of the saves. false when memory is short (nothing queued, @cmd
 * not completed). */
bool vdisk_mode_save_submit(struct scst_cmd *cmd, const struct mode_values *v,
			    const struct mode_values *previous);

void vdisk_exec_test_unit_ready(struct scst_cmd *cmd);
int vdisk_parse_start_stop(struct scst_cmd *cmd);
int vdisk_parse_prevent_allow(struct scst_cmd *cmd);
void vdisk_exec_start_stop(struct scst_cmd *cmd);
void vdisk_exec_prevent_allow(struct scst_cmd *cmd);
/* vdisk_unit.c: the removable medium. init at attach (0, or -1 with a
 * reason), destroy at detach; not_ready and clear_nexus_state of struct
 * scst_dev_type. */
int vdisk_medium_init(struct vdisk_dev *vd, char *err, size_t errlen);
void vdisk_medium_destroy(struct vdisk_dev *vd);
bool vdisk_not_ready(const struct scst_device *dev, uint32_t op_flags, struct scsi_sense *sense);
void vdisk_clear_nexus_state(struct scst_device *dev, const struct scst_session *sess);
/* set_medium of struct scst_dev_type (management's eject and load). */
int vdisk_set_medium(struct scst_device *dev, bool load, char *err, size_t errlen);

/* ---- SANITIZE and FORMAT UNIT (vdisk_sanitize.c, vdisk_format.c, and
 * the job both run: vdisk_medium_job.c) ---- */

#define SANITIZE_SA_OVERWRITE 0x01
#define SANITIZE_SA_BLOCK_ERASE 0x02
#define SANITIZE_SA_CRYPTO_ERASE 0x03
#define SANITIZE_SA_EXIT_FAILURE_MODE 0x1f

/* What a medium job does, as its command asked. */
struct vdisk_medium_job_spec {
	const char *name; /* for log lines: "sanitize (overwrite)" */
	enum vdisk_medium_op_state running; /* SANITIZING or FORMATTING */
	enum vdisk_medium_op_state failed;  /* the failure mode it may leave */
	uint16_t failure_asc;   /* MEDIUM ERROR's ASC for its waiter then */
	bool immed;             /* GOOD now, not at the end */
	bool ause;              /* SANITIZE: EXIT FAILURE MODE may end a failure */
	bool deallocate;        /* deallocate every block (thin) instead of writing */
	bool invert;            /* OVERWRITE: alternate passes inverted */
	unsigned passes;        /* writes over the whole medium, 1..31 */
	uint32_t pattern_len;   /* 0: zeros */
	uint8_t pattern[4096];  /* at most a block */
	uint8_t service_action; /* SANITIZE's (for the record); 0 for FORMAT UNIT */
};
/* Starts the job for @cmd (its checks passed): marks the unit busy, or
 * refuses @cmd with the sense of the job already running. @cmd completes
 * now (IMMED, or a refusal) or when the job ends. */
void vdisk_medium_job_start(struct scst_cmd *cmd, const struct vdisk_medium_job_spec *spec);
/* Runs again the sanitize vdisk_medium_store_load() found cut short
 * (medium_op.resume), if any: SBC-4 4.11 has a sanitize resume after a
 * power on. Management thread, once the device is in the registry. */
void vdisk_medium_job_resume(struct vdisk_dev *vd);
/* Whether @cmd may start a job now: false with the sense set while the
 * unit is not ready (a job running, no medium, a failure mode), except
 * in the failure mode @may_leave, which the job is a way out of. */
bool vdisk_medium_job_unit_ready(struct scst_cmd *cmd, unsigned may_leave);
/* vdisk_sanitize.c: the log name of a sanitize job of service action
 * @sa ("sanitize (overwrite)" ...). */
const char *vdisk_sanitize_job_name(uint8_t sa, bool deallocate);
/* vdisk_medium_store.c: the record that a job began and has not completed
 * (<state_dir>/medium/<device>), so that a restart finds the unit in its
 * failure mode rather than ready with a part-written medium. */
enum vdisk_medium_record_op {
	VDISK_RECORD_NONE,  /* the state changes, the record stays as it is */
	VDISK_RECORD_BEGIN, /* a job begins: written, durable before it writes */
	VDISK_RECORD_CLEAR, /* the unit is ready again: removed */
	VDISK_RECORD_FAILED, /* the job failed: its failure mode, not to resume */
};
/* Told, on @reactor through @msg, that the record is durable (err 0, or
 * -errno after a failure the writer logged). */
struct vdisk_medium_record {
	struct reactor *reactor;
	struct reactor_msg msg;
	int err;
	void (*done)(struct vdisk_medium_record *r);
};
/* Moves vd's medium_op.state from @from to @to (compare and exchange) and,
 * when it moved, queues @op (BEGIN: for the job @spec, recorded whole so
 * that a restart can run it again), both under one lock, so that records
 * are written in the order of the states. @waiter (or NULL) is told when
 * the record is durable, or at once, from the reactor's loop, when there
 * is nothing to write. Returns whether the state moved. Any thread; never
 * blocks on I/O. */
bool vdisk_medium_transition(struct vdisk_dev *vd, unsigned from, unsigned to,
			     enum vdisk_medium_record_op op,
			     const struct vdisk_medium_job_spec *spec,
			     struct vdisk_medium_record *waiter);
/* At attach (management thread, may block): a record left by a job that
 * did not complete: a sanitize is to be resumed (medium_op.resume, the
 * unit SANITIZING), a format leaves the unit in its failure mode, and so
 * does a record that does not decode. */
void vdisk_medium_store_load(struct vdisk_dev *vd);
/* attached of struct scst_dev_type (vdisk.c). */
void vdisk_attached(struct scst_device *dev);
/* The not-ready part of a medium job: true with @sense while one runs
 * (with its progress) or a failure mode holds; for the device's
 * not_ready. Lock-free. */
bool vdisk_medium_op_not_ready(const struct vdisk_dev *vd, struct scsi_sense *sense);
int vdisk_parse_sanitize(struct scst_cmd *cmd);
void vdisk_exec_sanitize(struct scst_cmd *cmd);
int vdisk_parse_format_unit(struct scst_cmd *cmd);
void vdisk_exec_format_unit(struct scst_cmd *cmd);

#endif
