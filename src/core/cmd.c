/* A command's life (DESIGN.md): INIT -> PARSE -> PREPARE_SPACE ->
 * RDY_TO_XFER -> PRE_EXEC -> EXEC -> DEV_DONE -> PRE_XMIT -> XMIT ->
 * FINISHED.
 *
 * INIT and PARSE run synchronously when the driver has the header
 * (scst_cmd_prepare()); PREPARE_SPACE when the driver wants the buffer or
 * the command starts. From scst_cmd_start() on, one dispatcher, cmd_run(),
 * drives the command: it switches on cmd->state and calls that state's
 * function, which returns
 *   CMD_CONTINUE  it set the next state: go on;
 *   CMD_WAIT      an asynchronous step is under way (the driver's data
 *                 transfer, the handler's execution, the response going
 *                 out) or the command is parked in PRE_EXEC; whoever
 *                 completes it calls scst_cmd_resume() (through
 *                 scst_rx_data(), scst_cmd_done(), scst_tgt_cmd_done(), or
 *                 the task set waking it).
 * FINISHED frees the command and ends the dispatcher.
 * A completion that comes while the dispatcher is still in the state that
 * started it (a handler completing at once) only marks the command
 * resumed, and the loop goes on: no recursion, and nothing touches a
 * command after it was freed. Everything here runs on the command's
 * reactor. Aborts are noticed at state boundaries only: when the command
 * starts, in PRE_EXEC, PRE_XMIT and when the driver hands data back; there
 * an aborted command ends (end_aborted()). */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf_pool.h"
#include "base/log.h"
#include "core/pr_rules.h"
#include "core/alua.h"
#include "core/alua_rules.h"
#include "core/internal_cmd.h"
#include "core/copy_token.h"
#include "core/range_lock.h"
#include "core/task_mgmt.h"
#include "scsi/cdb.h"

/* Largest data buffer one command may ask for. Larger transfers are
 * refused in PARSE rather than failing an allocation later. */
#define SCST_MAX_BUFFLEN (128u << 20)

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

enum cmd_rc {
	CMD_CONTINUE,
	CMD_WAIT,
};

static void cmd_run(struct scst_cmd *cmd);
static void resume_deferred(struct reactor_deferred *d);

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
		if (!cmd->buf_borrowed)
			buf_pool_free(cmd->buf, cmd->buf_cap);
		free(cmd);
	}
}

/* ---- INIT ---- */

struct scst_cmd *scst_rx_cmd(struct scst_session *sess, uint64_t lun, const uint8_t *cdb,
			     unsigned cdb_len, uint64_t tag, enum scst_task_attr attr,
			     enum scst_data_dir expected_dir, uint32_t expected_len)
{
	struct scst_cmd *cmd;

	assert(reactor_self() == sess->reactor);
	assert(!sess->unregistering);
	cmd = calloc(1, sizeof(*cmd));
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
	list_init(&cmd->task_entry);
	list_init(&cmd->resume_later.entry);
	cmd->resume_later.fn = resume_deferred;
	list_add_tail(&cmd->sess_entry, &sess->cmds);
	sess->active_cmds++;
	return cmd;
}

static void cmd_init(struct scst_cmd *cmd)
{
	cmd->tgt_dev = scst_session_tgt_dev(cmd->sess, cmd->lun);
	/* Its arrival, counted on the nexus (or the session): stats.c. */
	scst_stats_cmd_received(cmd);
	if (!cmd->tgt_dev)
		return;
	/* Held to FINISHED: a LUN unmapped meanwhile leaves the session's
	 * table, not this command. */
	scst_tgt_dev_get(cmd->tgt_dev);
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

/* A CDB that needs Data-Out (a WRITE, a VERIFY with BYTCHK=1) sent
 * without the transport's Data-Out direction would otherwise end GOOD
 * having written or compared nothing: it is refused, with the sense SCST
 * gives a direction mismatch (INVALID MESSAGE ERROR). The other way round
 * loses nothing, and initiators rely on it (libiscsi's Read10Invalid sends
 * a READ flagged as a write and expects GOOD): the command moves no data
 * and reports the overflow. */
static bool direction_mismatch(const struct scst_cmd *cmd)
{
	return cmd->data_dir == SCST_DATA_WRITE && cmd->data_len != 0 &&
	       cmd->expected_dir != SCST_DATA_WRITE;
}

static void cmd_parse(struct scst_cmd *cmd)
{
	cmd->state = SCST_CMD_STATE_PARSE;
	cmd->op = lookup_op(cmd);
	if (cmd->op)
		cmd->op_flags = cmd->op->flags;
	/* A LUN with no unit behind it answers only the SCST_OP_ANY_LUN
	 * rows; a command the LUN does not know, or whose row says the LUN
	 * does not serve it, is an invalid operation code. */
	if (!cmd->tgt_dev && !(cmd->op_flags & SCST_OP_ANY_LUN)) {
		scst_set_cmd_error_asc(cmd, SK_ILLEGAL_REQUEST, ASC_LUN_NOT_SUPPORTED);
		return;
	}
	/* An operation code the LUN knows, with a service action it does
	 * not: SPC-4 4.2.5.1 makes that an invalid field, the service
	 * action (libiscsi's Sanitize.InvalidServiceAction). */
	if (!cmd->op && cmd->tgt_dev &&
	    (scst_op_index_has_service_actions(scst_core_op_index(), cmd->cdb[0]) ||
	     scst_op_index_has_service_actions(scst_dev_op_index(cmd->dev), cmd->cdb[0]))) {
		scst_set_cmd_error(cmd, scsi_sense_invalid_cdb_field(
						scsi_cdb_service_action_byte(cmd->cdb[0]),
						cmd->cdb[0] == VARIABLE_LENGTH_CMD ? 7 : 4));
		return;
	}
	if (!cmd->op || (cmd->op->available && !cmd->op->available(cmd->tgt_dev))) {
		struct scsi_sense sense = scsi_sense_invalid_cdb_field(0, -1);

		sense.asc = ASC_INVALID_COMMAND_OPERATION_CODE;
		scst_set_cmd_error(cmd, sense);
		return;
	}
	if (cmd->op->parse(cmd))
		return;
	if (direction_mismatch(cmd)) {
		log_warn_rl("session %s: %s (tag %#llx) with data direction %d, but its CDB moves %u "
			 "byte(s) in direction %d: refused",
			 cmd->sess->initiator_name, cmd->op->name, (unsigned long long)cmd->tag,
			 cmd->expected_dir, cmd->data_len, cmd->data_dir);
		scst_set_cmd_error_asc(cmd, SK_ILLEGAL_REQUEST, ASC_INVALID_MESSAGE_ERROR);
	}
}

/* ---- PREPARE_SPACE ---- */

/* The buffer's size: when the CDB describes more data than the initiator
 * will move (overflow), FCP-4 9.4.2 a): process the command normally, but
 * move (and so read or write) no data beyond what the initiator expects;
 * PRE_XMIT reports the overflow. Handlers refuse block transfers beyond
 * their maximum in PARSE, with a field pointer; what is left here is a
 * backstop: a READ with a huge allocation length (REPORT LUNS takes 32
 * bits) needs no more room than any response has; a WRITE that large
 * cannot be taken. */
static void cmd_size_buffer(struct scst_cmd *cmd)
{
	uint32_t len = cmd->data_dir == SCST_DATA_NONE ? 0 : cmd->data_len;

	if (len > expected_in_dir(cmd))
		len = expected_in_dir(cmd);
	if (len > SCST_MAX_BUFFLEN && cmd->data_dir == SCST_DATA_READ)
		len = SCST_MAX_BUFFLEN;
	if (len > SCST_MAX_BUFFLEN) {
		scst_set_cmd_error_asc(cmd, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);
		len = 0;
	}
	cmd->bufflen = len;
}

void scst_cmd_prepare(struct scst_cmd *cmd)
{
	assert(reactor_self() == cmd->reactor && cmd->state == SCST_CMD_STATE_INIT);
	cmd_init(cmd);
	cmd_parse(cmd);
	/* A command that failed keeps bufflen 0: it moves no data. */
	if (!cmd_failed(cmd))
		cmd_size_buffer(cmd);
}

void scst_cmd_alloc_space(struct scst_cmd *cmd)
{
	assert(reactor_self() == cmd->reactor && !cmd->started);
	if (cmd->space_ready)
		return;
	cmd->space_ready = true;
	cmd->state = SCST_CMD_STATE_PREPARE_SPACE;
	if (cmd_failed(cmd) || cmd->bufflen == 0)
		return;
	cmd->buf = buf_pool_alloc(cmd->bufflen, &cmd->buf_cap);
	if (!cmd->buf) {
		log_warn_rl("session %s: no memory for a %u-byte buffer", cmd->sess->initiator_name,
			 cmd->bufflen);
		scst_set_cmd_status(cmd, SAM_STAT_TASK_SET_FULL);
		cmd->bufflen = 0;
	}
}

/* ---- the dispatcher ---- */

/* An asynchronous step is over and has set the next state. */
static void scst_cmd_resume(struct scst_cmd *cmd)
{
	assert(reactor_self() == cmd->reactor);
	if (cmd->running) {
		cmd->resumed = true;
		return;
	}
	cmd_run(cmd);
}

static void resume_deferred(struct reactor_deferred *d)
{
	scst_cmd_resume(container_of(d, struct scst_cmd, resume_later));
}

void scst_cmd_resume_later(struct scst_cmd *cmd)
{
	reactor_defer(cmd->reactor, &cmd->resume_later);
}

/* ---- aborted commands ---- */

/* The state an aborted command goes on to: FINISHED, without data or
 * status, unless another nexus's action aborted it under TAS=1 (SAM-5
 * 5.6): then PRE_XMIT sends TASK ABORTED status and nothing else. */
static enum scst_cmd_state end_aborted(const struct scst_cmd *cmd)
{
	return atomic_load(&cmd->abort_fate) == SCST_ABORT_TASK_ABORTED ? SCST_CMD_STATE_PRE_XMIT
									 : SCST_CMD_STATE_FINISHED;
}

uint8_t scst_cdb_control(const struct scst_cmd *cmd)
{
	/* A variable-length CDB has it at byte 1, not at its end (where
	 * ORWRITE(32) has its TRANSFER LENGTH). */
	return cmd->cdb_len ? cmd->cdb[scsi_cdb_control_byte(cmd->cdb[0], cmd->cdb_len)] : 0;
}

/* ---- start ---- */

void scst_cmd_start(struct scst_cmd *cmd)
{
	assert(reactor_self() == cmd->reactor && !cmd->started);
	scst_cmd_alloc_space(cmd);
	cmd->started = true;
	if (atomic_load(&cmd->aborted)) {
		cmd->state = end_aborted(cmd);
	} else if (cmd_failed(cmd)) {
		cmd->state = SCST_CMD_STATE_PRE_XMIT;
	} else {
		/* Delivery order is task set order: the driver starts
		 * commands in the order the initiator numbered them. */
		if (cmd->tgt_dev)
			scst_order_enter(cmd);
		cmd->state = cmd->data_dir == SCST_DATA_WRITE && cmd->data_received < cmd->bufflen
				     ? SCST_CMD_STATE_RDY_TO_XFER
				     : SCST_CMD_STATE_PRE_EXEC;
	}
	cmd_run(cmd);
}

void scst_cmd_abandon(struct scst_cmd *cmd)
{
	assert(reactor_self() == cmd->reactor && !cmd->started);
	atomic_store(&cmd->aborted, true);
	cmd->started = true;
	cmd->state = SCST_CMD_STATE_FINISHED;
	cmd_run(cmd);
}

/* ---- internal commands (internal_cmd.h) ---- */

/* Tags of internal commands have the top bit set: no transport's tag
 * (iSCSI's are 32 bits) can name one, so ABORT TASK never reaches them
 * by mistake; ABORT TASK SET, resets and the session's end do. */
#define SCST_INTERNAL_TAG_BIT (1ull << 63)

bool scst_internal_cmd_start(struct scst_session *sess, uint64_t lun, const uint8_t *cdb,
			     unsigned cdb_len, enum scst_data_dir dir, void *buf, uint32_t len,
			     void (*done)(struct scst_cmd *cmd), void *ctx)
{
	return scst_internal_cmd_start_opts(sess, lun, cdb, cdb_len, dir, buf, len, NULL, done,
					    ctx);
}

bool scst_internal_cmd_start_opts(struct scst_session *sess, uint64_t lun, const uint8_t *cdb,
				  unsigned cdb_len, enum scst_data_dir dir, void *buf, uint32_t len,
				  const struct scst_internal_opts *opts,
				  void (*done)(struct scst_cmd *cmd), void *ctx)
{
	static _Thread_local uint64_t seq;
	struct scst_cmd *cmd;

	assert(reactor_self() == sess->reactor && done);
	if (sess->unregistering)
		return false;
	cmd = scst_rx_cmd(sess, lun, cdb, cdb_len, SCST_INTERNAL_TAG_BIT | ++seq,
			  SCST_TASK_HEAD_OF_QUEUE, dir, len);
	if (!cmd)
		return false;
	cmd->internal_done = done;
	cmd->internal_ctx = ctx;
	if (opts) {
		/* A probe moves no data; a copy_range WRITE is a WRITE. */
		assert(!(opts->flags & SCST_INTERNAL_PROBE) || dir == SCST_DATA_READ);
		assert(!opts->copy_src || dir == SCST_DATA_WRITE);
		cmd->internal_probe = opts->flags & SCST_INTERNAL_PROBE;
		cmd->copy_src = opts->copy_src;
		cmd->copy_src_lba = opts->copy_src_lba;
		cmd->copy_src_nexus = opts->copy_src_nexus;
		assert(!opts->copy_src || (opts->copy_src_nexus &&
					   opts->copy_src_nexus->dev == opts->copy_src));
		cmd->rod_token_claim = opts->rod_token_claim;
	}
	scst_cmd_prepare(cmd);
	/* The issuer's buffer is the command's: PREPARE_SPACE allocates
	 * nothing, and a WRITE has all of its data already. */
	assert(cmd->bufflen <= len);
	cmd->buf = buf;
	cmd->buf_cap = 0;
	cmd->buf_borrowed = true;
	cmd->space_ready = true;
	cmd->state = SCST_CMD_STATE_PREPARE_SPACE;
	if (dir == SCST_DATA_WRITE)
		cmd->data_received = cmd->bufflen;
	scst_cmd_start(cmd); /* may have run done() and freed cmd */
	return true;
}

/* ---- RDY_TO_XFER ---- */

static enum cmd_rc cmd_rdy_to_xfer(struct scst_cmd *cmd)
{
	if (atomic_load(&cmd->aborted)) {
		cmd->state = end_aborted(cmd);
		return CMD_CONTINUE;
	}
	cmd->sess->tgt->tgtt->rdy_to_xfer(cmd);
	return CMD_WAIT;
}

void scst_rx_data(struct scst_cmd *cmd, bool success)
{
	assert(cmd->state == SCST_CMD_STATE_RDY_TO_XFER);
	if (atomic_load(&cmd->aborted)) {
		cmd->state = end_aborted(cmd);
	} else if (!success) {
		/* The transport could not deliver the data: nothing is written.
		 * The driver may have said why already (iSCSI: a CRC error). */
		if (!cmd_failed(cmd))
			scst_set_cmd_error_asc(cmd, SK_ABORTED_COMMAND, ASC_DATA_PHASE_ERROR);
		cmd->state = SCST_CMD_STATE_PRE_XMIT;
	} else {
		cmd->state = SCST_CMD_STATE_PRE_EXEC;
	}
	scst_cmd_resume(cmd);
}

/* ---- PRE_EXEC: every reason a command may not run yet, in one ordered
 * list (SCST's __scst_check_local_events). Each check is gated by its op
 * row's flags, never by an opcode. The order matters: an aborted command
 * ends first; ordering comes before the checks that consume state (a
 * unit attention is reported by the command that runs, in task set
 * order); the reservation check goes between order and UA, the ALUA
 * state check right after UA, then whether the unit is ready. An
 * ACA condition comes before the task set's order: a command it refuses
 * must not wait for its turn first. ---- */

enum pre_exec_rc {
	PRE_EXEC_PASS,    /* next check */
	PRE_EXEC_FAILED,  /* status set: to PRE_XMIT */
	PRE_EXEC_ABORTED, /* ends without a response */
	PRE_EXEC_PARK,    /* must wait; the task set resumes it */
};

static enum pre_exec_rc check_aborted(struct scst_cmd *cmd)
{
	return atomic_load(&cmd->aborted) ? PRE_EXEC_ABORTED : PRE_EXEC_PASS;
}

static enum pre_exec_rc check_aca(struct scst_cmd *cmd)
{
	if (!cmd->tgt_dev)
		return PRE_EXEC_PASS;
	switch (scst_aca_check(cmd)) {
	case ACA_PASS:
		return PRE_EXEC_PASS;
	case ACA_ACTIVE_STATUS:
		scst_set_cmd_status(cmd, SAM_STAT_ACA_ACTIVE);
		return PRE_EXEC_FAILED;
	case ACA_BLOCK:
		return PRE_EXEC_PARK;
	case ACA_NO_ACA:
		scst_set_cmd_error_asc(cmd, SK_ILLEGAL_REQUEST, ASC_INVALID_MESSAGE_ERROR);
		return PRE_EXEC_FAILED;
	}
	return PRE_EXEC_PASS;
}

static enum pre_exec_rc check_task_set_order(struct scst_cmd *cmd)
{
	if (!cmd->in_task_set || scst_order_may_exec(cmd))
		return PRE_EXEC_PASS;
	return PRE_EXEC_PARK;
}

/* Reservations (SPC-4 5.13.1, SPC-2 5.5.1): what the nexus may do under
 * the device's persistent or SPC-2 reservation is one atomic load
 * (td->pr_access, pr.c keeps it), and the op row's flags say whether
 * this command needs more. Before the unit attention check, as SCST has
 * it: a command that conflicts does not consume a unit attention. */
static enum pre_exec_rc check_reservation(struct scst_cmd *cmd)
{
	if (!cmd->tgt_dev ||
	    !scst_pr_conflicts(atomic_load_explicit(&cmd->tgt_dev->pr_access,
						    memory_order_relaxed),
			       cmd->op_flags))
		return PRE_EXEC_PASS;
	scst_set_cmd_status(cmd, SAM_STAT_RESERVATION_CONFLICT);
	return PRE_EXEC_FAILED;
}

/* SAM-5 5.14: INQUIRY, REPORT LUNS and REQUEST SENSE (SCST_OP_SKIP_UA)
 * run with a condition pending; REQUEST SENSE reports it as its data and
 * REPORT LUNS clears REPORTED LUNS DATA HAS CHANGED, in their own exec.
 * Every other command ends with it (whether that clears it is
 * UA_INTLCK_CTRL's, ua_rules.c). */
static enum pre_exec_rc check_unit_attention(struct scst_cmd *cmd)
{
	struct scsi_sense ua;

	if (!cmd->tgt_dev || (cmd->op_flags & SCST_OP_SKIP_UA) || cmd->internal_done ||
	    !scst_tgt_dev_ua_check_condition(cmd->tgt_dev, &ua))
		return PRE_EXEC_PASS;
	scst_set_cmd_error(cmd, ua);
	return PRE_EXEC_FAILED;
}

/* ALUA (SPC-4 5.16.2.4): through a target port in standby, unavailable,
 * offline or transitioning, a command its row does not mark served there
 * ends with NOT READY and the state's sense (alua_rules.c). After the unit
 * attention check, as LIO orders it: the ASYMMETRIC ACCESS STATE CHANGED
 * that told of the new state is reported first. An active port costs one
 * relaxed load of the nexus's cached state. A transitioning port refuses
 * at once (SCST retries once after half a second first); initiators
 * retry on 04/0A. */
static enum pre_exec_rc check_alua_state(struct scst_cmd *cmd)
{
	struct scsi_sense sense;
	unsigned state;

	if (!cmd->tgt_dev)
		return PRE_EXEC_PASS;
	state = scst_alua_word_state(atomic_load_explicit(&cmd->tgt_dev->alua,
							  memory_order_relaxed));
	if (state <= SCST_ALUA_NONOPTIMIZED || scst_alua_allows(state, cmd->op_flags, &sense))
		return PRE_EXEC_PASS;
	scst_set_cmd_error(cmd, sense);
	return PRE_EXEC_FAILED;
}

/* A logical unit that is not ready (no medium, stopped, a SANITIZE or
 * FORMAT UNIT in progress) answers NOT READY with the handler's sense
 * (struct scst_dev_type's not_ready), unless the row is served anyway
 * (SCST_OP_NOT_READY_OK). Where in the list, and why:
 * - after the reservation check: SPC-4 5.13 makes a conflicting command
 *   end in RESERVATION CONFLICT whatever the logical unit's state, and a
 *   reservation holder must be able to keep others off a unit being
 *   loaded (SCST's __scst_check_local_events too checks reservations
 *   first, and its vdisk reports a missing medium only in exec);
 * - after the unit attention check: SAM-5 5.14 reports a pending unit
 *   attention to any command but INQUIRY, REPORT LUNS and REQUEST SENSE,
 *   and the one that announces a newly loaded medium (NOT READY TO READY
 *   CHANGE) or a finished sanitize must be seen before anything else;
 * - after the ALUA check: a port in standby makes the unit inaccessible
 *   through it whatever the medium, and 04/0B says so more precisely;
 * - before the read-only check: without a medium there is nothing to be
 *   write-protected (libiscsi's NoMedia expects MEDIUM NOT PRESENT for a
 *   WRITE on any LUN). */
static enum pre_exec_rc check_not_ready(struct scst_cmd *cmd)
{
	struct scsi_sense sense;

	if (!cmd->tgt_dev || !cmd->dev->handler->not_ready ||
	    (cmd->op_flags & SCST_OP_NOT_READY_OK) ||
	    !cmd->dev->handler->not_ready(cmd->dev, cmd->op_flags, &sense))
		return PRE_EXEC_PASS;
	/* MEDIUM ERROR: the failure mode a failed SANITIZE or FORMAT UNIT
	 * leaves the unit in (SBC-4 4.11.3, 5.3), which blocks commands as
	 * not being ready does. */
	assert(sense.key == SK_NOT_READY || sense.key == SK_MEDIUM_ERROR);
	scst_set_cmd_error(cmd, sense);
	return PRE_EXEC_FAILED;
}

/* A read-only LUN, or a medium write-protected by the control page's SWP
 * (MODE SELECT). */
static enum pre_exec_rc check_read_only(struct scst_cmd *cmd)
{
	if (!(cmd->op_flags & SCST_OP_WRITES_MEDIUM) || !cmd->tgt_dev ||
	    (!atomic_load(&cmd->tgt_dev->read_only) && !atomic_load(&cmd->dev->swp)))
		return PRE_EXEC_PASS;
	scst_set_cmd_error_asc(cmd, SK_DATA_PROTECT, ASC_WRITE_PROTECTED);
	return PRE_EXEC_FAILED;
}

/* COMPARE AND WRITE's atomicity (range_lock.c): a writer waits while an
 * overlapping COMPARE AND WRITE executes, and one of those for the writers
 * executing before it, of any session. Last: a command refused for
 * another reason never waits here first. */
static enum pre_exec_rc check_write_range(struct scst_cmd *cmd)
{
	/* Readers too (SCST_OP_RANGE_READER): they wait for an exclusive
	 * command like writers do, and never conflict with each other. */
	if (!(cmd->op_flags & (SCST_OP_WRITES_MEDIUM | SCST_OP_RANGE_READER)) || !cmd->tgt_dev)
		return PRE_EXEC_PASS;
	/* A ROD token of these blocks no longer stands for what they held
	 * at POPULATE TOKEN (copy_token.h): one relaxed load while there
	 * is no token. Once per command: a parked writer comes back here.
	 * A WRITE USING TOKEN's own WRITE onto its claimed token's blocks
	 * spares that token (copy_token.h). */
	if ((cmd->op_flags & SCST_OP_WRITES_MEDIUM) && cmd->range_state == SCST_RANGE_NONE)
		copy_token_note_write(cmd->dev, cmd->lba, cmd->nblocks, cmd->rod_token_claim);
	return scst_range_lock_enter(cmd) ? PRE_EXEC_PASS : PRE_EXEC_PARK;
}

static enum pre_exec_rc (*const pre_exec_checks[])(struct scst_cmd *cmd) = {
	check_aborted,
	check_aca,
	check_task_set_order,
	check_reservation,
	check_unit_attention,
	check_alua_state,
	check_not_ready,
	check_read_only,
	check_write_range,
};

static enum cmd_rc cmd_pre_exec(struct scst_cmd *cmd)
{
	for (size_t i = 0; i < sizeof(pre_exec_checks) / sizeof(pre_exec_checks[0]); i++) {
		switch (pre_exec_checks[i](cmd)) {
		case PRE_EXEC_PASS:
			continue;
		case PRE_EXEC_FAILED:
			cmd->state = SCST_CMD_STATE_PRE_XMIT;
			return CMD_CONTINUE;
		case PRE_EXEC_ABORTED:
			cmd->state = end_aborted(cmd);
			return CMD_CONTINUE;
		case PRE_EXEC_PARK:
			/* Parked by its task set or an ACA after a wake: it
			 * keeps no place in the range lock meanwhile. */
			if (pre_exec_checks[i] != check_write_range)
				scst_range_lock_leave(cmd);
			scst_order_park(cmd);
			return CMD_WAIT;
		}
	}
	cmd->state = SCST_CMD_STATE_EXEC;
	return CMD_CONTINUE;
}

/* ---- EXEC, DEV_DONE ---- */

static enum cmd_rc cmd_exec(struct scst_cmd *cmd)
{
	/* The copy manager's check-only READ: the checks are behind it, and
	 * the bytes will be moved by the handler's copy_range() (its WRITE
	 * below). */
	if (cmd->internal_probe) {
		scst_set_resp_data_len(cmd, cmd->bufflen);
		scst_cmd_done(cmd);
		return CMD_WAIT;
	}
	if (cmd->copy_src) {
		const struct scst_dev_type *h = cmd->dev->handler;

		/* copy_job.c asks only for a pair of one handler with one. */
		assert(h->copy_range && cmd->copy_src->handler == h);
		/* The kernel reads the source while this executes: its blocks
		 * are held as a READ would hold them, so that a COMPARE AND
		 * WRITE on them is seen whole or not at all; with one queued
		 * there the issuer reads and writes the chunk instead. */
		if (!scst_range_lock_src_try(cmd->copy_src_nexus)) {
			cmd->copy_range_busy = true;
			scst_cmd_done(cmd);
			return CMD_WAIT;
		}
		cmd->copy_src_held = true;
		if (!h->copy_range(cmd, cmd->copy_src, cmd->copy_src_lba)) {
			cmd->copy_range_refused = true;
			scst_cmd_done(cmd);
		}
		return CMD_WAIT;
	}
	cmd->op->exec(cmd);
	return CMD_WAIT;
}

void scst_cmd_done(struct scst_cmd *cmd)
{
	assert(reactor_self() == cmd->reactor && cmd->state == SCST_CMD_STATE_EXEC);
	cmd->state = SCST_CMD_STATE_DEV_DONE;
	scst_cmd_resume(cmd);
}

static enum cmd_rc cmd_dev_done(struct scst_cmd *cmd)
{
	cmd->state = SCST_CMD_STATE_PRE_XMIT;
	return CMD_CONTINUE;
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

static enum cmd_rc cmd_pre_xmit(struct scst_cmd *cmd)
{
	/* Execution is over (or never happens): later commands of the task
	 * set, and writers of other sessions, may go. */
	scst_range_lock_leave(cmd);
	if (cmd->copy_src_held) {
		cmd->copy_src_held = false;
		scst_range_lock_src_leave(cmd->copy_src_nexus);
	}
	if (cmd->in_task_set)
		scst_order_leave(cmd);
	if (atomic_load(&cmd->aborted)) {
		if (end_aborted(cmd) == SCST_CMD_STATE_FINISHED) {
			cmd->state = SCST_CMD_STATE_FINISHED;
			return CMD_CONTINUE;
		}
		scst_set_cmd_status(cmd, SAM_STAT_TASK_ABORTED);
	} else if (cmd->internal_done) {
		/* An internal command's status goes to its issuer, not to an
		 * initiator: no QErr, ACA or PREVIOUS ... STATUS condition. */
	} else if (cmd->status == SAM_STAT_CHECK_CONDITION && cmd->dev) {
		/* QErr and ACA act before the status leaves: the other tasks
		 * it aborts never return theirs after this one. */
		scst_tmf_check_condition(cmd);
	} else if (cmd->status != SAM_STAT_GOOD && cmd->tgt_dev) {
		/* UA_INTLCK_CTRL 11b: BUSY, TASK SET FULL and RESERVATION
		 * CONFLICT leave a PREVIOUS ... STATUS condition behind. */
		scst_tgt_dev_ua_status(cmd->tgt_dev, cmd->status);
	}
	if (cmd->data_dir != SCST_DATA_READ)
		cmd->resp_data_len = 0;
	compute_residual(cmd);
	cmd->state = SCST_CMD_STATE_XMIT;
	return CMD_CONTINUE;
}

static enum cmd_rc cmd_xmit(struct scst_cmd *cmd)
{
	if (cmd->internal_done) {
		/* Nothing to send: FINISHED hands the result to the issuer. */
		cmd->state = SCST_CMD_STATE_FINISHED;
		return CMD_CONTINUE;
	}
	cmd->sess->tgt->tgtt->xmit_response(cmd);
	return CMD_WAIT;
}

void scst_tgt_cmd_done(struct scst_cmd *cmd)
{
	assert(reactor_self() == cmd->reactor && cmd->state == SCST_CMD_STATE_XMIT);
	cmd->state = SCST_CMD_STATE_FINISHED;
	scst_cmd_resume(cmd);
}

/* ---- FINISHED ---- */

static void cmd_finish(struct scst_cmd *cmd)
{
	struct scst_session *sess = cmd->sess;
	struct scst_tmf_waiter *waiters = NULL;

	if (atomic_load(&cmd->aborted))
		log_debug("session %s: tag %#llx aborted", sess->initiator_name,
			  (unsigned long long)cmd->tag);
	/* Counted while it still holds its nexus: stats.c. */
	scst_stats_cmd_done(cmd);
	scst_range_lock_leave(cmd);
	if (cmd->in_task_set)
		scst_order_leave(cmd);
	assert(!cmd->parked && !cmd->resume_later.queued);
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
	if (!cmd->internal_done && sess->tgt->tgtt->on_free_cmd)
		sess->tgt->tgtt->on_free_cmd(cmd);
	if (cmd->tgt_dev)
		scst_tgt_dev_put(cmd->tgt_dev);
	list_del(&cmd->sess_entry);
	assert(sess->active_cmds > 0);
	sess->active_cmds--;
	/* Out of every list, its result final: the issuer may issue the
	 * next one from here (the session is held by the issuer's own
	 * command, so it is still there). */
	if (cmd->internal_done)
		cmd->internal_done(cmd);
	scst_tmf_cmd_finished(waiters);
	scst_cmd_put(cmd);
	scst_session_cmd_gone(sess);
}

static void cmd_run(struct scst_cmd *cmd)
{
	assert(reactor_self() == cmd->reactor && !cmd->running);
	cmd->running = true;
	for (;;) {
		enum cmd_rc rc;

		cmd->resumed = false;
		switch (cmd->state) {
		case SCST_CMD_STATE_RDY_TO_XFER:
			rc = cmd_rdy_to_xfer(cmd);
			break;
		case SCST_CMD_STATE_PRE_EXEC:
			rc = cmd_pre_exec(cmd);
			break;
		case SCST_CMD_STATE_EXEC:
			rc = cmd_exec(cmd);
			break;
		case SCST_CMD_STATE_DEV_DONE:
			rc = cmd_dev_done(cmd);
			break;
		case SCST_CMD_STATE_PRE_XMIT:
			rc = cmd_pre_xmit(cmd);
			break;
		case SCST_CMD_STATE_XMIT:
			rc = cmd_xmit(cmd);
			break;
		case SCST_CMD_STATE_FINISHED:
			cmd_finish(cmd);
			return; /* freed */
		default:
			log_error("command tag %#llx in state %s cannot be dispatched",
				  (unsigned long long)cmd->tag, scst_cmd_state_name(cmd->state));
			abort();
		}
		if (rc == CMD_WAIT && !cmd->resumed)
			break;
	}
	cmd->running = false;
}
