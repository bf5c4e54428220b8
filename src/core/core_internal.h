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
/* The index of a handler's table, built at registration (registry.c). */
const struct scst_op_index *scst_dev_op_index(const struct scst_device *dev);

/* The core's own commands (INQUIRY, REPORT LUNS, REQUEST SENSE). */
extern const struct scst_op_desc scst_core_ops[];
const struct scst_op_index *scst_core_op_index(void);

/* Unit attentions (ua.c). */
void scst_tgt_dev_queue_ua(struct scst_tgt_dev *tgt_dev, struct scsi_sense sense);
/* Pops the oldest UA of the nexus into @sense; false if none. */
bool scst_tgt_dev_take_ua(struct scst_tgt_dev *tgt_dev, struct scsi_sense *sense);
/* Frees every UA queued on the nexus; dev->lock held. */
void scst_tgt_dev_clear_uas(struct scst_tgt_dev *tgt_dev);

/* Command life cycle (cmd.c): ends a command without a response (it was
 * aborted), and the abort notification to its driver. */
void scst_cmd_finish_aborted(struct scst_cmd *cmd);
void scst_cmd_get(struct scst_cmd *cmd);
void scst_cmd_put(struct scst_cmd *cmd);

/* Task management (tmf.c): the command is finishing; wake whoever waits. */
void scst_tmf_cmd_finished(struct scst_tmf_waiter *waiters);
/* Marks @cmd aborted on behalf of @mcmd (may be NULL); dev->lock or, for
 * commands without a device, reactor-local. */
void scst_abort_cmd_locked(struct scst_cmd *cmd, struct scst_mgmt_cmd *mcmd);
/* The same from the command's own reactor, taking dev->lock if it has a
 * device. */
void scst_abort_cmd(struct scst_cmd *cmd, struct scst_mgmt_cmd *mcmd);

/* Sessions (session.c): the I_T_L nexus of @lun, or NULL if unmapped. */
struct scst_tgt_dev *scst_session_tgt_dev(struct scst_session *sess, uint64_t lun);
/* Sessions (session.c): called when a session's last command finished. */
void scst_session_cmd_gone(struct scst_session *sess);

/* Sense in the format the command's device wants. */
bool scst_cmd_wants_descriptor_sense(const struct scst_cmd *cmd);

#endif
