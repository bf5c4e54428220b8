/* Task management scope (see tmf_scope.h). The tables of SAM-5 7.1 and
 * 5.6 in one function, so the rules can be read, and tested, in one place. */
#include "core/tmf_scope.h"

bool tmf_scope_reaches_others(enum tmf_scope_action action, unsigned tst)
{
	switch (action) {
	case TMF_SCOPE_LUN_RESET:
		return true;
	case TMF_SCOPE_CLEAR_TASK_SET:
	case TMF_SCOPE_QERR_ABORT_ALL:
		/* "The task set" is every nexus's only when they share it. */
		return tst == 0;
	case TMF_SCOPE_ABORT_TASK:
	case TMF_SCOPE_ABORT_TASK_SET:
	case TMF_SCOPE_CLEAR_ACA:
	case TMF_SCOPE_I_T_NEXUS_RESET:
	case TMF_SCOPE_QERR_ABORT_NEXUS:
		return false;
	}
	return false;
}

static bool reaches(enum tmf_scope_action action, unsigned tst, const struct tmf_task_view *t)
{
	if (!t->same_nexus && !tmf_scope_reaches_others(action, tst))
		return false;
	switch (action) {
	case TMF_SCOPE_ABORT_TASK:
		return t->referenced;
	case TMF_SCOPE_CLEAR_ACA:
		return t->aca_attr;
	default:
		return true;
	}
}

enum tmf_fate tmf_scope_fate(enum tmf_scope_action action, unsigned tst, bool tas,
			     const struct tmf_task_view *task)
{
	if (!reaches(action, tst, task))
		return TMF_FATE_UNTOUCHED;
	if (task->same_nexus)
		return TMF_FATE_ABORT_SILENT;
	if (tas)
		return TMF_FATE_ABORT_TASK_ABORTED;
	/* A reset's own unit attention (BUS DEVICE RESET FUNCTION OCCURRED)
	 * tells the other nexuses what happened; clearing the task set or
	 * QErr leaves them only COMMANDS CLEARED BY ANOTHER INITIATOR. */
	return action == TMF_SCOPE_LUN_RESET ? TMF_FATE_ABORT_SILENT : TMF_FATE_ABORT_CLEARED_UA;
}
