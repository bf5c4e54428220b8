/* Internal commands: SCSI commands the core issues to a LUN on a session
 * for itself, through the same pipeline as an initiator's (cmd.c), so
 * that every check of PARSE and PRE_EXEC (LUN masking, reservations,
 * ALUA, not ready, read-only, the write range lock) applies to the I_T_L
 * nexus the command names. The copy manager (copy_job.c) reads and
 * writes its source and destination LUNs with them, and writes a 0x0A
 * segment's partial destination blocks with COMPARE AND WRITE (its
 * Data-Out, both instances, in the issuer's buffer; a MISCOMPARE is
 * the issuer's to act on, like any CHECK CONDITION).
 *
 * How one differs from a driver's command:
 * - no driver callback sees it: its data is in the issuer's buffer
 *   before it starts (a WRITE never reaches RDY_TO_XFER), XMIT goes
 *   straight to FINISHED, and FINISHED calls the issuer's done();
 * - it enters its nexus's task set as HEAD OF QUEUE: it is part of a
 *   command that is already executing (the EXTENDED COPY), so it must
 *   not wait behind an ORDERED command that waits for that one;
 * - it does not consume unit attentions: the condition is the
 *   initiator's, reported on its own next command to that LUN; the
 *   command that issued it passed its own unit attention check;
 * - its CHECK CONDITION establishes no ACA and triggers no QErr: the
 *   status goes to the issuer, which reports its own;
 * - its tag has bit 63 set: no transport tag names it, so ABORT TASK
 *   does not reach it; ABORT TASK SET, CLEAR TASK SET, resets and the
 *   session's end abort it like any other (done() then sees
 *   cmd->aborted).
 *
 * Lifetime: the command is the pipeline's (allocated here, freed after
 * done() returns); @buf stays the issuer's and must outlive done(). The
 * session must be held by the issuer (its own command still active). */
#ifndef USCST_CORE_INTERNAL_CMD_H
#define USCST_CORE_INTERNAL_CMD_H

#include "core/scst.h"

/* Issues @cdb to @lun of @sess, moving @len bytes of @buf in direction
 * @dir (the command's expected transfer). Returns false (done() is not
 * called) when the session is unregistering or memory is short; else
 * true, and done(cmd) runs exactly once on the session's reactor, with
 * cmd->status, cmd->sense and (a READ) cmd->resp_data_len set, possibly
 * before this returns. done() may issue further internal commands. On
 * the session's reactor. */
bool scst_internal_cmd_start(struct scst_session *sess, uint64_t lun, const uint8_t *cdb,
			     unsigned cdb_len, enum scst_data_dir dir, void *buf, uint32_t len,
			     void (*done)(struct scst_cmd *cmd), void *ctx);

/* What an internal command is besides its CDB (copy_job.c's in-kernel
 * copies, docs/copy.md):
 * - SCST_INTERNAL_PROBE: a READ that only checks: PARSE and PRE_EXEC run
 *   as for a READ (masking, reservations, ALUA, not ready, the range
 *   lock as a reader), and EXEC ends it GOOD with cmd->resp_data_len the
 *   whole length, reading nothing; so the source's checks are made when
 *   the chunk's READ would have read it;
 * - copy_src: a WRITE whose EXEC calls the handler's copy_range(cmd,
 *   copy_src, copy_src_lba) instead of the row's exec (the device's
 *   handler must be copy_src's and have one); done() sees
 *   cmd->copy_range_refused when nothing was written, or
 *   cmd->copy_range_busy when an exclusive command (COMPARE AND WRITE)
 *   was queued on the source at EXEC: nothing written this time, the
 *   issuer reads and writes the chunk;
 * - rod_token_claim: see struct scst_internal_opts. */
#define SCST_INTERNAL_PROBE 0x1u

struct scst_internal_opts {
	unsigned flags;
	struct scst_device *copy_src; /* held by the issuer until done() */
	/* copy_src's nexus on the same session (copy_src is its device):
	 * the WRITE holds the source's blocks in its range lock as a
	 * reader while the kernel copies (range_lock.h). */
	struct scst_tgt_dev *copy_src_nexus;
	uint64_t copy_src_lba;
	/* A WRITE of a WRITE USING TOKEN that claimed its token
	 * (copy_token_claim()): it does not revoke that token. */
	uint64_t rod_token_claim;
};

/* scst_internal_cmd_start() with @opts (NULL: none). */
bool scst_internal_cmd_start_opts(struct scst_session *sess, uint64_t lun, const uint8_t *cdb,
				  unsigned cdb_len, enum scst_data_dir dir, void *buf, uint32_t len,
				  const struct scst_internal_opts *opts,
				  void (*done)(struct scst_cmd *cmd), void *ctx);

#endif
