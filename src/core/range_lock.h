/* A device's write range lock (range_lock.c): what makes COMPARE AND
 * WRITE atomic against every other writer of the device, whatever session
 * or reactor it comes from. Core-private; cmd.c calls it from PRE_EXEC and
 * when execution is over. */
#ifndef USCST_CORE_RANGE_LOCK_H
#define USCST_CORE_RANGE_LOCK_H

#include <stdbool.h>

struct scst_cmd;
struct scst_device;
struct scst_tgt_dev;

/* Device creation: an empty lock. */
void scst_range_lock_init(struct scst_device *dev);

/* PRE_EXEC, last check, for a command whose op row writes the medium
 * (or reads it, SCST_OP_RANGE_READER: a reader is an ordinary writer here):
 * true when it may execute now (it then holds its range until
 * scst_range_lock_leave()); false when it must park: it is queued, and is
 * resumed on its reactor once granted. Called again after every wake
 * (an unpark for any reason runs PRE_EXEC again): a queued command keeps
 * its place. Command's reactor. */
bool scst_range_lock_enter(struct scst_cmd *cmd);

/* The command's execution is over, or it ends (or parks for another
 * reason) without executing: it gives up its range, and what it held up
 * may go. Does nothing for a command that holds nothing. Command's
 * reactor. */
void scst_range_lock_leave(struct scst_cmd *cmd);

/* The source of an in-kernel copy (a copy_src WRITE's EXEC, cmd.c): the
 * kernel reads @td's device while the WRITE executes, with no READ of
 * its own in the lock, so the WRITE counts itself as a lock-free reader
 * of the source nexus @td for that time, and an exclusive command (a
 * COMPARE AND WRITE on the source) that comes meanwhile waits for it as
 * for a READ. Never waits: false when an exclusive command is queued on
 * the device now (the caller then copies the chunk by READ and WRITE,
 * whose READ takes its turn in the queue). True: held until
 * scst_range_lock_src_leave(). @td's reactor. */
bool scst_range_lock_src_try(struct scst_tgt_dev *td);
void scst_range_lock_src_leave(struct scst_tgt_dev *td);

#endif
