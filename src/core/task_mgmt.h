/* The parts of task management (tmf.c) that the command pipeline (cmd.c)
 * and the task set (order.c) call: QErr and ACA at a CHECK CONDITION, the
 * ACA check of PRE_EXEC, and how an aborted command ends. Core-private. */
#ifndef USCST_CORE_TASK_MGMT_H
#define USCST_CORE_TASK_MGMT_H

#include "core/aca_rules.h"
#include "core/core_internal.h"

/* PRE_XMIT of a command ending with CHECK CONDITION (not aborted): applies
 * the control page's QErr to the other tasks of its task set and, when its
 * CDB had NACA=1, establishes ACA on its I_T nexus. Command's reactor. */
void scst_tmf_check_condition(struct scst_cmd *cmd);

/* PRE_EXEC: what an ACA condition says about @cmd (aca_rules.h). On
 * ACA_PASS for an ACA command, it becomes the nexus's running ACA
 * command. Command's reactor. */
enum aca_verdict scst_aca_check(struct scst_cmd *cmd);

/* Marks @cmd aborted on behalf of @mcmd (may be NULL) with @fate, unless
 * it was aborted already (the first abort decides how it ends). dev->lock
 * held, or reactor-local for a command without a device. */
void scst_abort_cmd_fate_locked(struct scst_cmd *cmd, struct scst_mgmt_cmd *mcmd,
				enum scst_abort_fate fate);

/* The nexus's parked commands run PRE_EXEC again (an ACA that blocked
 * them is gone). Session's reactor. */
void scst_order_recheck(struct scst_tgt_dev *td);

/* CONTROL byte of the CDB (by its group code; last byte of cdb_len for
 * the variable-length groups). */
uint8_t scst_cdb_control(const struct scst_cmd *cmd);
#define SCST_CONTROL_NACA 0x04

#endif
