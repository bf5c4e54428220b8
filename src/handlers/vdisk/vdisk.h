/* vdisk: a SCSI disk (SBC) backed by a file, a block device, or nothing.
 *
 * Three device handlers share one operation table and differ only in the
 * backing store (SCST's names):
 *   vdisk_fileio   a file or block device through the page cache
 *   vdisk_blockio  a file or block device with O_DIRECT
 *   vdisk_nullio   no data: reads return zeros, writes are dropped */
#ifndef USCST_HANDLERS_VDISK_VDISK_H
#define USCST_HANDLERS_VDISK_VDISK_H

/* Registers the three handlers with the core. Call once at start-up,
 * after scst_core_init(). Returns 0 or the core's -errno. */
int vdisk_register(void);
/* vdisk_nullio alone: for harnesses whose input names devices (the fuzzed
 * management RPC), which must not open or write files. */
int vdisk_register_nullio_only(void);
/* Joins the threads of vdisk_fileio's in-kernel copies (copy_file_range,
 * started at the first one), once no session is left to start another:
 * the daemon's shutdown, while the reactors still run (a copy in flight
 * posts its completion to one). */
void vdisk_copy_workers_stop(void);

#endif
