/* A command's life (DESIGN.md): INIT -> PARSE -> PREPARE_SPACE ->
 * RDY_TO_XFER -> PRE_EXEC -> EXEC -> DEV_DONE -> PRE_XMIT -> XMIT ->
 * FINISHED. Each state is a function named after it; a command moves by
 * calling the next one. Aborts are noticed at state boundaries only
 * (PRE_EXEC, PRE_XMIT, and when the driver hands data back). */
#include <stdlib.h>
#include <string.h>

#include "base/buf_pool.h"
#include "base/log.h"
#include "core/core_internal.h"

/* Largest data buffer one command may ask for. Larger transfers are
 * refused in PARSE rather than failing an allocation later. */
#define SCST_MAX_BUFFLEN (128u << 20)
/* CONTROL byte, last byte of every CDB. */
#define CONTROL_NACA 0x04

static const char *const state_names[] = {
	[SCST_CMD_STATE_INIT] = "INIT",
	[SCST_CMD_STATE_PARSE] = "PARSE",
	[SCST_CMD_STATE_PREPARE_SPACE] = "PREPARE_SPACE",
	[SCST_CMD_STATE_RDY_TO_XFER] = "RDY_TO_XFER",
	[SCST_CMD_STATE_PRE_EXEC] = "PRE_EXEC",
	[SCST_CMD_STATE_EXEC] = "EXEC",
	[SCST_CMD_STATE_DEV_DONE] = "DEV_DONE",
	[SCST_CMD_STATE_PRE_XMIT] = "PRE_XMIT",
	[SCST_CMD_STATE_XMIT] = "XMIT",
	[SCST_CMD_STATE_FINISHED] = "FINISHED",
};

const char *scst_cmd_state_name(enum scst_cmd_state s)
{
	return s <= SCST_CMD_STATE_FINISHED ? state_names[s] : "?";
}

static void cmd_pre_exec(struct scst_cmd *cmd);
static void cmd_pre_xmit(struct scst_cmd *cmd);

/* ---- results ---- */

bool scst_cmd_wants_descriptor_sense(const struct scst_cmd *cmd)
{
	return cmd->dev && atomic_load(&cmd->dev->d_sense);
}

void scst_set_cmd_error(struct scst_cmd *cmd, struct scsi_sense sense)
{
	cmd->status = SAM_STAT_CHECK_CONDITION;
	cmd->sense_len = (uint8_t)scsi_sense_encode(&sense, scst_cmd_wants_descriptor_sense(cmd),
						     cmd->sense, sizeof(cmd->sense));
	/* A failed command returns no data. */
	cmd->resp_data_len = 0;
}

void scst_set_cmd_error_asc(struct scst_cmd *cmd, uint8_t key, uint16_t asc)
{
	scst_set_cmd_error(cmd, scsi_sense_make(key, asc));
}

void scst_set_cmd_status(struct scst_cmd *cmd, uint8_t status)
{
	cmd->status = status;
	cmd->sense_len = 0;
	cmd->resp_data_len = 0;
}

void scst_set_resp_data_len(struct scst_cmd *cmd, uint32_t len)
{
	cmd->resp_data_len = len < cmd->bufflen ? len : cmd->bufflen;
}

static bool cmd_failed(const struct scst_cmd *cmd)
{
	return cmd->status != SAM_STAT_GOOD;
}

/* ---- reference counting: a command outlives its FINISHED state while a
 * posted abort notification still points at it. ---- */

void scst_cmd_get(struct scst_cmd *cmd)
{
	atomic_fetch_add(&cmd->refcount, 1);
}

void scst_cmd_put(struct scst_cmd *cmd)
{
	if (atomic_fetch_sub(&cmd->refcount, 1) == 1) {
		buf_pool_free(cmd->buf, cmd->buf_cap);
		free(cmd);
	}
}

/* ---- INIT ---- */

struct scst_cmd *scst_rx_cmd(struct scst_session *sess, uint64_t lun, const uint8_t *cdb,
			     unsigned cdb_len, uint64_t tag, enum scst_task_attr attr,
			     enum scst_data_dir expected_dir, uint32_t expected_len)
{
	struct scst_cmd *cmd = calloc(1, sizeof(*cmd));

	if (!cmd)
		return NULL;
	if (cdb_len > SCSI_MAX_CDB_LEN)
		cdb_len = SCSI_MAX_CDB_LEN;
	cmd->state = SCST_CMD_STATE_INIT;
	cmd->sess = sess;
	cmd->reactor = sess->reactor;
	cmd->lun = lun;
	cmd->tag = tag;
	cmd->task_attr = attr;
	memcpy(cmd->cdb, cdb, cdb_len);
	cmd->cdb_len = cdb_len;
	cmd->expected_dir = expected_dir;
	cmd->expected_len = expected_dir == SCST_DATA_NONE ? 0 : expected_len;
	cmd->status = SAM_STAT_GOOD;
	atomic_init(&cmd->refcount, 1);
	atomic_init(&cmd->aborted, false);
	list_init(&cmd->dev_entry);
	list_add_tail(&cmd->sess_entry, &sess->cmds);
	sess->active_cmds++;
	return cmd;
}

static void cmd_init(struct scst_cmd *cmd)
{
	cmd->tgt_dev = scst_session_tgt_dev(cmd->sess, cmd->lun);
	if (!cmd->tgt_dev)
		return;
	cmd->dev = cmd->tgt_dev->dev;
	pthread_mutex_lock(&cmd->dev->lock);
	list_add_tail(&cmd->dev_entry, &cmd->dev->cmds);
	cmd->dev->active_cmds++;
	pthread_mutex_unlock(&cmd->dev->lock);
}

/* ---- PARSE ---- */

static const struct scst_op_desc *lookup_op(struct scst_cmd *cmd)
{
	const struct scst_op_desc *op = scst_op_index_lookup(scst_core_op_index(), cmd->cdb);

	if (op || !cmd->dev)
		return op;
	return scst_op_index_lookup(scst_dev_op_index(cmd->dev), cmd->cdb);
}

/* How much data the initiator will move in the CDB's direction. */
static uint32_t expected_in_dir(const struct scst_cmd *cmd)
{
	return cmd->expected_dir == cmd->data_dir ? cmd->expected_len : 0;
}

static void cmd_parse(struct scst_cmd *cmd)
{
	cmd->state = SCST_CMD_STATE_PARSE;
	cmd->op = lookup_op(cmd);
	if (!cmd->op) {
		struct scsi_sense sense = scsi_sense_invalid_cdb_field(0, -1);

		sense.asc = ASC_INVALID_COMMAND_OPERATION_CODE;
		if (!cmd->tgt_dev)
			sense = scsi_sense_make(SK_ILLEGAL_REQUEST, ASC_LUN_NOT_SUPPORTED);
		scst_set_cmd_error(cmd, sense);
		return;
	}
	if (cmd->cdb[cmd->op->cdb_len - 1] & CONTROL_NACA) {
		/* ACA is not supported, so NACA=1 is an invalid field. */
		scst_set_cmd_error(cmd, scsi_sense_invalid_cdb_field(cmd->op->cdb_len - 1, 2));
		return;
	}
	cmd->op->parse(cmd);
}

/* ---- PREPARE_SPACE ---- */

static void cmd_prepare_space(struct scst_cmd *cmd)
{
	uint32_t len;

	cmd->state = SCST_CMD_STATE_PREPARE_SPACE;
	if (cmd_failed(cmd))
		return;
	/* When the CDB describes more data than the initiator will move
	 * (overflow), FCP-4 9.4.2 a): process the command normally, but move
	 * (and so read or write) no data beyond what the initiator expects;
	 * PRE_XMIT reports the overflow. */
	len = cmd->data_dir == SCST_DATA_NONE ? 0 : cmd->data_len;
	if (len > expected_in_dir(cmd))
		len = expected_in_dir(cmd);
	/* Handlers refuse block transfers beyond their maximum in PARSE, with
	 * a field pointer. What is left here is a backstop: a READ with a
	 * huge allocation length (REPORT LUNS takes 32 bits) needs no more
	 * room than any response has; a WRITE that large cannot be taken. */
	if (len > SCST_MAX_BUFFLEN && cmd->data_dir == SCST_DATA_READ)
		len = SCST_MAX_BUFFLEN;
	if (len > SCST_MAX_BUFFLEN) {
		scst_set_cmd_error_asc(cmd, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);
		return;
	}
	if (len) {
		cmd->buf = buf_pool_alloc(len, &cmd->buf_cap);
		if (!cmd->buf) {
			log_warn("session %s: no memory for a %u-byte buffer", cmd->sess->initiator_name,
				 len);
			scst_set_cmd_status(cmd, SAM_STAT_TASK_SET_FULL);
			return;
		}
	}
	cmd->bufflen = len;
}

void scst_cmd_prepare(struct scst_cmd *cmd)
{
	cmd_init(cmd);
	cmd_parse(cmd);
	cmd_prepare_space(cmd);
	if (cmd_failed(cmd))
		cmd->bufflen = 0;
}

/* ---- RDY_TO_XFER ---- */

void scst_cmd_start(struct scst_cmd *cmd)
{
	if (atomic_load(&cmd->aborted)) {
		scst_cmd_finish_aborted(cmd);
		return;
	}
	if (cmd_failed(cmd)) {
		cmd_pre_xmit(cmd);
		return;
	}
	if (cmd->data_dir == SCST_DATA_WRITE && cmd->data_received < cmd->bufflen) {
		cmd->state = SCST_CMD_STATE_RDY_TO_XFER;
		cmd->sess->tgt->tgtt->rdy_to_xfer(cmd);
		return;
	}
	cmd_pre_exec(cmd);
}

void scst_rx_data(struct scst_cmd *cmd, bool success)
{
	if (atomic_load(&cmd->aborted)) {
		scst_cmd_finish_aborted(cmd);
		return;
	}
	if (!success) {
		/* The transport could not deliver the data: nothing is written.
		 * The driver may have said why already (iSCSI: a CRC error). */
		if (!cmd_failed(cmd))
			scst_set_cmd_error_asc(cmd, SK_ABORTED_COMMAND, ASC_DATA_PHASE_ERROR);
		cmd_pre_xmit(cmd);
		return;
	}
	cmd_pre_exec(cmd);
}

/* ---- PRE_EXEC, EXEC ---- */

static void cmd_pre_exec(struct scst_cmd *cmd)
{
	struct scsi_sense ua;

	cmd->state = SCST_CMD_STATE_PRE_EXEC;
	if (atomic_load(&cmd->aborted)) {
		scst_cmd_finish_aborted(cmd);
		return;
	}
	if (cmd->tgt_dev && !(cmd->op->flags & SCST_OP_SKIP_UA) &&
	    scst_tgt_dev_take_ua(cmd->tgt_dev, &ua)) {
		scst_set_cmd_error(cmd, ua);
		cmd_pre_xmit(cmd);
		return;
	}
	if ((cmd->op->flags & SCST_OP_WRITES_MEDIUM) && cmd->tgt_dev && cmd->tgt_dev->read_only) {
		scst_set_cmd_error_asc(cmd, SK_DATA_PROTECT, ASC_WRITE_PROTECTED);
		cmd_pre_xmit(cmd);
		return;
	}
	cmd->state = SCST_CMD_STATE_EXEC;
	cmd->op->exec(cmd);
}

void scst_cmd_done(struct scst_cmd *cmd)
{
	cmd->state = SCST_CMD_STATE_DEV_DONE;
	cmd_pre_xmit(cmd);
}

/* ---- PRE_XMIT, XMIT ---- */

/* Residuals as iSCSI (RFC 7143 11.4.5) and FCP report them: overflow when
 * the CDB asked for more than the initiator expected, underflow when less
 * moved than it expected. */
static void compute_residual(struct scst_cmd *cmd)
{
	uint32_t expected = cmd->expected_len;
	uint32_t moved = 0;

	if (cmd->data_dir != SCST_DATA_NONE && cmd->data_dir == cmd->expected_dir &&
	    cmd->data_len > expected) {
		cmd->resid_overflow = true;
		cmd->resid = cmd->data_len - expected;
		return;
	}
	if (cmd->data_dir == SCST_DATA_READ)
		moved = cmd->resp_data_len;
	else if (cmd->data_dir == SCST_DATA_WRITE)
		moved = cmd->bufflen;
	if (moved < expected) {
		cmd->resid_underflow = true;
		cmd->resid = expected - moved;
	}
}

static void cmd_pre_xmit(struct scst_cmd *cmd)
{
	cmd->state = SCST_CMD_STATE_PRE_XMIT;
	if (atomic_load(&cmd->aborted)) {
		scst_cmd_finish_aborted(cmd);
		return;
	}
	if (cmd->data_dir != SCST_DATA_READ)
		cmd->resp_data_len = 0;
	compute_residual(cmd);
	cmd->state = SCST_CMD_STATE_XMIT;
	cmd->sess->tgt->tgtt->xmit_response(cmd);
}

/* ---- FINISHED ---- */

static void cmd_finish(struct scst_cmd *cmd)
{
	struct scst_session *sess = cmd->sess;
	struct scst_tmf_waiter *waiters = NULL;

	cmd->state = SCST_CMD_STATE_FINISHED;
	if (cmd->dev) {
		pthread_mutex_lock(&cmd->dev->lock);
		list_del(&cmd->dev_entry);
		cmd->dev->active_cmds--;
		waiters = cmd->tmf_waiters;
		cmd->tmf_waiters = NULL;
		pthread_mutex_unlock(&cmd->dev->lock);
	} else {
		waiters = cmd->tmf_waiters;
		cmd->tmf_waiters = NULL;
	}
	if (sess->tgt->tgtt->on_free_cmd)
		sess->tgt->tgtt->on_free_cmd(cmd);
	list_del(&cmd->sess_entry);
	sess->active_cmds--;
	scst_tmf_cmd_finished(waiters);
	scst_cmd_put(cmd);
	scst_session_cmd_gone(sess);
}

void scst_tgt_cmd_done(struct scst_cmd *cmd)
{
	cmd_finish(cmd);
}

void scst_cmd_finish_aborted(struct scst_cmd *cmd)
{
	log_debug("session %s: tag %#llx aborted in %s", cmd->sess->initiator_name,
		  (unsigned long long)cmd->tag, scst_cmd_state_name(cmd->state));
	cmd_finish(cmd);
}
