/* Core-private declarations shared by the files of src/core. Drivers and
 * handlers include scst.h only. */
#ifndef USCST_CORE_INTERNAL_H
#define USCST_CORE_INTERNAL_H

#include "core/scst.h"

/* Opcode lookup index of one operation table (op_index.c). */
struct scst_op_index;
struct scst_op_index *scst_op_index_build(const struct scst_op_desc *ops);
const struct scst_op_desc *scst_op_index_lookup(const struct scst_op_index *idx,
					       const uint8_t *cdb);
/* Whether @opcode has rows with service actions in the table: a lookup
 * that found none of them met an unknown service action. */
bool scst_op_index_has_service_actions(const struct scst_op_index *idx, uint8_t opcode);
/* The index of a handler's table, built at registration (registry.c). */
const struct scst_op_index *scst_dev_op_index(const struct scst_device *dev);

/* The core's own commands (INQUIRY, REPORT LUNS, REQUEST SENSE). */
extern const struct scst_op_desc scst_core_ops[];
const struct scst_op_index *scst_core_op_index(void);

/* The handler drops what @sess's nexus to @dev (NULL: every nexus) set
 * up in it: struct scst_dev_type's clear_nexus_state, if it has one. */
static inline void scst_dev_clear_nexus_state(struct scst_device *dev,
					      const struct scst_session *sess)
{
	if (dev->handler->clear_nexus_state)
		dev->handler->clear_nexus_state(dev, sess);
}

/* Unit attentions (ua.c; the rules are ua_rules.h's). */
void scst_tgt_dev_queue_ua(struct scst_tgt_dev *tgt_dev, struct scsi_sense sense);
/* The same with dev->lock held (inside a walk of the device's commands). */
void scst_tgt_dev_queue_ua_locked(struct scst_tgt_dev *tgt_dev, struct scsi_sense sense);
/* PRE_EXEC of a command that reports unit attentions: the condition it
 * ends with (CHECK CONDITION), cleared or not as UA_INTLCK_CTRL says;
 * false if none is pending. Lock-free when none is. */
bool scst_tgt_dev_ua_check_condition(struct scst_tgt_dev *tgt_dev, struct scsi_sense *sense);
/* REQUEST SENSE: takes the condition to report as its sense data; false
 * if none is pending. */
bool scst_tgt_dev_ua_request_sense(struct scst_tgt_dev *tgt_dev, struct scsi_sense *sense);
/* QUERY ASYNCHRONOUS EVENT: the condition the next command would report
 * (into @sense) and how many are queued (@n), clearing nothing; false if
 * none is pending. */
bool scst_tgt_dev_ua_peek(struct scst_tgt_dev *tgt_dev, struct scsi_sense *sense, unsigned *n);
/* REPORT LUNS ran: clears REPORTED LUNS DATA HAS CHANGED on every nexus
 * of the session; on its reactor. */
void scst_session_ua_report_luns(struct scst_session *sess);
/* A command of the nexus ends with @status: under UA_INTLCK_CTRL 11b,
 * BUSY, TASK SET FULL and RESERVATION CONFLICT establish PREVIOUS ...
 * STATUS for it. */
void scst_tgt_dev_ua_status(struct scst_tgt_dev *tgt_dev, uint8_t status);
/* Frees every UA queued on the nexus; dev->lock held. */
void scst_tgt_dev_clear_uas(struct scst_tgt_dev *tgt_dev);
/* Task management with TAS 0 aborted commands of @tgt_dev on behalf of
 * another I_T nexus: COMMANDS CLEARED BY ANOTHER INITIATOR for it (SAM-5
 * 7.5, 7.4: once per nexus, however many of its commands went). The
 * _locked form with dev->lock held, e.g. inside the walk of dev->cmds
 * that marks them aborted. */
void scst_ua_commands_cleared(struct scst_tgt_dev *tgt_dev);
void scst_ua_commands_cleared_locked(struct scst_tgt_dev *tgt_dev);
/* The I_T nexus of @sess is lost (the session ends without the
 * initiator logging out): remembered, so that the initiator port's next
 * login to the target port is told I_T NEXUS LOSS OCCURRED. */
void scst_ua_nexus_lost(const struct scst_session *sess);
/* The condition each LUN of a new session starts with: I_T NEXUS LOSS
 * OCCURRED if its I_T nexus was lost (and forgets that), else POWER ON,
 * RESET, OR BUS DEVICE RESET OCCURRED. sess->tgt and its TransportID set. */
struct scsi_sense scst_ua_initial_sense(const struct scst_session *sess);

/* Command life cycle (cmd.c). A reference keeps the memory of a command
 * that a posted abort notification still points at. */
void scst_cmd_get(struct scst_cmd *cmd);
void scst_cmd_put(struct scst_cmd *cmd);
/* Runs the dispatcher for @cmd once the reactor's current batch is over
 * (a parked command the task set or an abort lets go). */
void scst_cmd_resume_later(struct scst_cmd *cmd);

/* The task set of an I_T_L nexus (order.c); all on the session's reactor.
 * enter: at scst_cmd_start(), in delivery order (HEAD OF QUEUE in front).
 * may_exec: whether the command may leave PRE_EXEC now (SAM-5 8.6: ORDERED
 * waits for everything before it and holds everything after it; SIMPLE
 * commands overlapping an earlier one, one of them writing, wait for it
 * under QUEUE ALGORITHM MODIFIER 0; HEAD OF QUEUE never waits).
 * park: it may not; it waits in PRE_EXEC until leave() of an earlier
 * command (or an abort) resumes it.
 * leave: its execution is over, or it ends without executing. */
void scst_order_enter(struct scst_cmd *cmd);
bool scst_order_may_exec(const struct scst_cmd *cmd);
void scst_order_park(struct scst_cmd *cmd);
void scst_order_leave(struct scst_cmd *cmd);
/* An aborted command parked in PRE_EXEC goes on to end. */
void scst_order_unpark_aborted(struct scst_cmd *cmd);

/* ACA (tmf.c): the nexus @td leaves its device (its session ended: an
 * I_T nexus loss clears its ACA); the nexuses whose commands its ACA
 * blocked look again at once. dev->lock held, @td already off the
 * device's list. */
void scst_aca_nexus_gone_locked(struct scst_tgt_dev *td);

/* Task management (tmf.c): the command is finishing; wake whoever waits. */
void scst_tmf_cmd_finished(struct scst_tmf_waiter *waiters);
/* Something other than a command (a copy job, copy_job.c) makes @mcmd
 * wait until it has stopped: hold under the lock the function scans with,
 * release on any reactor once it has stopped. */
void scst_tmf_hold(struct scst_mgmt_cmd *mcmd);
void scst_tmf_release(struct scst_mgmt_cmd *mcmd);
/* Marks @cmd aborted on behalf of @mcmd (may be NULL); dev->lock or, for
 * commands without a device, reactor-local. */
void scst_abort_cmd_locked(struct scst_cmd *cmd, struct scst_mgmt_cmd *mcmd);
/* The same from the command's own reactor, taking dev->lock if it has a
 * device. */
void scst_abort_cmd(struct scst_cmd *cmd, struct scst_mgmt_cmd *mcmd);

/* A session's LUN table (session.c): its I_T_L nexuses sorted by LUN,
 * immutable once published; each entry holds a reference. */
struct scst_lun_table {
	struct reactor_msg retire_msg; /* sent once, when it is replaced */
	struct scst_session *sess;
	unsigned n;
	struct scst_tgt_dev *tgt_devs[];
};

/* The session's current table, on its reactor; NULL once it is detached.
 * Valid until the reactor's current callback returns. */
struct scst_lun_table *scst_session_luns(const struct scst_session *sess);
/* The I_T_L nexus of @lun, or NULL if unmapped; on the session's reactor.
 * Whoever keeps it past the current callback takes a reference. */
struct scst_tgt_dev *scst_session_tgt_dev(struct scst_session *sess, uint64_t lun);
void scst_tgt_dev_get(struct scst_tgt_dev *td);
/* The last reference is dropped on the session's reactor (or by
 * management, for a nexus it created and never published). */
void scst_tgt_dev_put(struct scst_tgt_dev *td);

/* Device references (registry.c): scst_device_get()/put() in scst.h. */

/* Groups (acg.c); scst_mutex held. */
/* Whether the group's initiator patterns take @initiator_name. */
bool scst_acg_takes(const struct scst_acg *acg, const char *initiator_name);
/* Sessions (session.c): a command or TMF of the session has ended; frees
 * an unregistering session that has none left. */
void scst_session_cmd_gone(struct scst_session *sess);

/* Sense in the format the command's device wants. */
bool scst_cmd_wants_descriptor_sense(const struct scst_cmd *cmd);

#endif
