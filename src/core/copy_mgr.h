/* The copy manager (SPC-4 5.16 / 6.4 / 6.18): EXTENDED COPY and RECEIVE
 * COPY RESULTS for every LUN of a device type it can copy (block
 * devices), answered by the core for every handler.
 *
 *   copy_params.c   the LID1 parameter list, decoded and checked (pure)
 *   copy_job.c      EXTENDED COPY: resolves CSCD descriptors to LUNs of
 *                   the requesting session, then copies each segment with
 *                   internal READ/WRITE commands (internal_cmd.h), in the
 *                   foreground or (IMMED) the background; COPY OPERATION
 *                   ABORT
 *   copy_offset.c   0x0A segments with byte offsets: chunks, partial
 *                   destination blocks, the merge (pure)
 *   copy_results.c  the list identifiers of running and finished copies,
 *                   RECEIVE COPY RESULTS
 *   copy_vpd.c      VPD page 0x8F (Third-party Copy)
 *
 * docs/copy.md describes the whole. */
#ifndef USCST_CORE_COPY_MGR_H
#define USCST_CORE_COPY_MGR_H

#include "core/scst.h"

/* Service actions of EXTENDED COPY (0x83) and RECEIVE COPY RESULTS
 * (0x84), SPC-4 tables 99 and 100. */
enum copy_service_action {
	COPY_SA_EXTENDED_COPY_LID1 = 0x00,
	COPY_SA_EXTENDED_COPY_LID4 = 0x01,
	COPY_SA_POPULATE_TOKEN = 0x10,
	COPY_SA_WRITE_USING_TOKEN = 0x11,
	COPY_SA_COPY_OPERATION_ABORT = 0x1c,
	COPY_SA_COPY_STATUS_LID1 = 0x00,
	COPY_SA_RECEIVE_DATA_LID1 = 0x01,
	COPY_SA_OPERATING_PARAMETERS = 0x03,
	COPY_SA_FAILED_SEGMENT_DETAILS_LID1 = 0x04,
	COPY_SA_COPY_STATUS_LID4 = 0x05,
	COPY_SA_RECEIVE_DATA_LID4 = 0x06,
	COPY_SA_ROD_TOKEN_INFORMATION = 0x07,
};

/* Whether the LUN's device is one the copy manager serves (a block
 * device): the rows' available(), so that PARSE and REPORT SUPPORTED
 * OPERATION CODES agree, and VPD page 0x00 lists 0x8F only then. */
bool scst_copy_available(const struct scst_tgt_dev *td);

/* A running copy job's entry in the list of a device it reads or writes
 * (dev->copy_links, under dev->lock), one per distinct device. Owned by
 * the job (copy_job.c), which links it when the copy starts and unlinks
 * it before it ends, both on the job's reactor; task management
 * (tmf.c), on any reactor, reads @sess under dev->lock to decide whether
 * what it does to the device's task set reaches the copy (as if it were
 * a task of that nexus on the device), and if so calls
 * scst_copy_link_fail_locked(). */
struct copy_job;
struct scst_copy_link {
	struct list_head dev_entry;
	struct scst_device *dev;
	const struct scst_session *sess; /* the copy's nexus: compared only */
	struct copy_job *job;            /* touched only on its reactor */
};

/* dev->lock held, any reactor: the copy of @link fails with COPY ABORTED,
 * THIRD PARTY DEVICE FAILURE (@why is logged, e.g. "LOGICAL UNIT RESET"),
 * delivered to its reactor by a message; @mcmd (may be NULL) completes
 * only once the copy has stopped. */
void scst_copy_link_fail_locked(struct scst_copy_link *link, struct scst_mgmt_cmd *mcmd,
				const char *why);

int scst_ext_copy_parse(struct scst_cmd *cmd);
void scst_ext_copy_exec(struct scst_cmd *cmd);
/* How a copy job put in the background ended: the status and sense
 * its command would have ended with (SAM_STAT_TASK_ABORTED: terminated)
 * and the TRANSFER COUNT, in bytes (the prefix all written). */
struct copy_job_result {
	uint8_t status;
	uint8_t sense_len;
	const uint8_t *sense; /* valid during the call only */
	uint64_t bytes_written;
};
typedef void (*copy_job_bg_ended_fn)(const struct copy_job_result *res, void *ctx);

/* IMMED of WRITE USING TOKEN (copy_odx.c), the job's side: called right
 * after copy_job_run_pieces() returned for @cmd (still in its exec). If
 * the job still runs, @cmd completes GOOD now, the job goes on in the
 * background holding the session, as an EXTENDED COPY(LID4) with IMMED
 * does (copy_job.c), COPY OPERATION ABORT and task management stop it
 * (status TASK ABORTED), and when it ends @ended gets its result instead
 * of the ended function given to copy_job_run_pieces(). Returns false
 * when the job has ended already: its ended function has run and @cmd
 * is done, as without IMMED. On the session's reactor. */
struct scst_cmd;
bool copy_job_background(struct scst_cmd *cmd, copy_job_bg_ended_fn ended, void *ctx);

/* COPY OPERATION ABORT (0x83/0x1C, copy_job.c): stops the nexus's
 * running copy operations with the CDB's LIST IDENTIFIER, and completes
 * once they have stopped. */
int scst_copy_op_abort_parse(struct scst_cmd *cmd);
void scst_copy_op_abort_exec(struct scst_cmd *cmd);
int scst_rcv_copy_results_parse(struct scst_cmd *cmd);
void scst_rcv_copy_results_exec(struct scst_cmd *cmd);

/* VPD page 0x8F's payload for @dev's LUN (after the 4-byte header) into @d, which has
 * room for 508 bytes; returns its length. */
size_t scst_copy_vpd_page(const struct scst_device *dev, uint8_t *d);

#endif
