/* What an established ACA condition (SAM-5 5.9) does to a command about to
 * leave PRE_EXEC. Pure: core/tmf.c describes the command and the ACA
 * state, the check in cmd.c applies the verdict.
 *
 * A command whose CDB has NACA=1 and that ends with CHECK CONDITION
 * establishes ACA on its I_T nexus (the faulted nexus). While it lasts:
 *   - on the faulted nexus, one command with the ACA task attribute at a
 *     time may run (to look at the fault, e.g. REQUEST SENSE or READ);
 *     a second one gets ACA ACTIVE;
 *   - every other command the faulted nexus sends gets ACA ACTIVE
 *     status (SAM-5 5.9.3);
 *   - when the task set is shared (TST 0), so does every command another
 *     nexus sends, ACA attribute or not (SAM-5 5.9.4); under TST 1 other
 *     nexuses have task sets of their own and go on;
 *   - commands already in the task set when the ACA was established (and
 *     not aborted by QErr) are blocked until it is cleared.
 * CLEAR ACA from the faulted nexus, LOGICAL UNIT RESET, a target reset and
 * I_T NEXUS RESET of the faulted nexus clear it. A command with the ACA
 * attribute when there is no ACA is an error: ILLEGAL REQUEST, INVALID
 * MESSAGE ERROR, as SCSI parallel and SAS answer an ACA tag out of turn. */
#ifndef USCST_CORE_ACA_RULES_H
#define USCST_CORE_ACA_RULES_H

#include <stdbool.h>

struct aca_view {
	bool own_nexus_faulted;  /* ACA established on the command's I_T nexus */
	bool shared_set_faulted; /* on another nexus, and TST 0 */
	bool aca_attr;           /* the command has the ACA task attribute */
	bool entered_before;     /* it was in the task set when ACA was established */
	bool other_aca_cmd;      /* another ACA command of the nexus is running */
};

enum aca_verdict {
	ACA_PASS,           /* next check */
	ACA_ACTIVE_STATUS,  /* complete with ACA ACTIVE */
	ACA_BLOCK,          /* wait until the ACA is cleared */
	ACA_NO_ACA,         /* ACA attribute without an ACA: CHECK CONDITION */
};

enum aca_verdict aca_rules_check(const struct aca_view *v);

#endif
