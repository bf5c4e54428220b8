/* The ACA rules of SAM-5 5.9.3 and 5.9.4 (see aca_rules.h). */
#include "core/aca_rules.h"

enum aca_verdict aca_rules_check(const struct aca_view *v)
{
	if (!v->own_nexus_faulted && !v->shared_set_faulted)
		return v->aca_attr ? ACA_NO_ACA : ACA_PASS;
	if (v->own_nexus_faulted && v->aca_attr)
		return v->other_aca_cmd ? ACA_ACTIVE_STATUS : ACA_PASS;
	/* A command that was waiting before the fault is held, not failed:
	 * its initiator sent it while nothing was wrong, and it runs once
	 * the application client has dealt with the fault. */
	if (v->entered_before && !v->aca_attr)
		return ACA_BLOCK;
	return ACA_ACTIVE_STATUS;
}
