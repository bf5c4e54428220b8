/* Which tasks a task management action reaches, and how each one ends
 * (SAM-5 5.6, 7; SPC-4 7.5.8). Pure: the caller describes one task
 * relative to the nexus that acts and applies the fate under dev->lock.
 *
 * The control page decides two things:
 *   TST  0: the logical unit has one task set that every I_T nexus shares,
 *           so what clears "the task set" reaches other nexuses' tasks;
 *        1: each I_T nexus has its own, and only LOGICAL UNIT RESET (and
 *           the target resets made of it) reaches past the acting nexus.
 *   TAS  how a task ends when another nexus's action aborted it: 1 with
 *        TASK ABORTED status; 0 without a response, and (for CLEAR TASK
 *        SET and QErr) its nexus gets COMMANDS CLEARED BY ANOTHER
 *        INITIATOR. A reset announces itself with its own unit attention
 *        instead. Tasks of the acting nexus always end without a response:
 *        their initiator asked for it. */
#ifndef USCST_CORE_TMF_SCOPE_H
#define USCST_CORE_TMF_SCOPE_H

#include <stdbool.h>

/* What acts on the task set. */
enum tmf_scope_action {
	TMF_SCOPE_ABORT_TASK,      /* the referenced task of the acting nexus */
	TMF_SCOPE_ABORT_TASK_SET,  /* the acting nexus's tasks, whatever TST */
	TMF_SCOPE_CLEAR_TASK_SET,  /* the task set: all nexuses under TST 0 */
	TMF_SCOPE_CLEAR_ACA,       /* the acting nexus's ACA tasks */
	TMF_SCOPE_LUN_RESET,       /* every task of the logical unit */
	TMF_SCOPE_I_T_NEXUS_RESET, /* the acting nexus's tasks, every LUN */
	TMF_SCOPE_QERR_ABORT_ALL,  /* QErr 01b after a CHECK CONDITION */
	TMF_SCOPE_QERR_ABORT_NEXUS, /* QErr 11b after a CHECK CONDITION */
};

/* One task, seen from the acting nexus. */
struct tmf_task_view {
	bool same_nexus;   /* it came through the acting I_T nexus */
	bool referenced;   /* ABORT TASK: its tag is the one named */
	bool aca_attr;     /* it has the ACA task attribute */
};

enum tmf_fate {
	TMF_FATE_UNTOUCHED,
	TMF_FATE_ABORT_SILENT,        /* ends without data or status */
	TMF_FATE_ABORT_TASK_ABORTED,  /* ends with TASK ABORTED status */
	/* Ends without a response, and its I_T_L nexus gets a COMMANDS
	 * CLEARED BY ANOTHER INITIATOR unit attention. */
	TMF_FATE_ABORT_CLEARED_UA,
};

enum tmf_fate tmf_scope_fate(enum tmf_scope_action action, unsigned tst, bool tas,
			     const struct tmf_task_view *task);

/* Whether the action reaches other I_T nexuses at all under @tst (so the
 * caller knows whether to walk the device's commands or the nexus's). */
bool tmf_scope_reaches_others(enum tmf_scope_action action, unsigned tst);

#endif
