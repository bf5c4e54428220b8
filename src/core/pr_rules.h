/* The rules of persistent and SPC-2 reservations that need no state
 * beyond what the caller passes (SPC-4 5.13; SPC-2 5.5.1): pure, like
 * scsi/mode_pages.c, and unit-tested alone (tests/unit/test_pr_rules.c).
 * pr.c and reserve.c take the decision and apply it under dev->lock. */
#ifndef USCST_CORE_PR_RULES_H
#define USCST_CORE_PR_RULES_H

#include <stdbool.h>
#include <stdint.h>

#include "core/pr.h"

/* One of the six types of SPC-4 table 170. */
bool scst_pr_type_valid(uint8_t type);
/* WEAR and EAAR: every registrant holds the reservation. */
bool scst_pr_type_all_registrants(uint8_t type);
/* WERO, EARO, WEAR, EAAR: registrants have access; releasing or losing
 * one of them tells the others (RESERVATIONS RELEASED). */
bool scst_pr_type_registrants_access(uint8_t type);

/* Whether registration @r (NULL: none) holds @pr's persistent
 * reservation: it is the holder, or the type is All Registrants. */
bool scst_pr_is_holder(const struct scst_pr *pr, const struct scst_pr_registrant *r);

/* What an I_T nexus may do on the logical unit (SPC-4 5.13.1, table 72's
 * columns): @reserved and @type describe the persistent reservation,
 * @holder whether this nexus holds it, @registered whether it is
 * registered; @spc2_other whether another nexus holds an SPC-2
 * reservation. */
enum scst_pr_access scst_pr_access_of(bool spc2_other, bool reserved, uint8_t type,
				      bool holder, bool registered);

/* Whether a command whose op flags are @op_flags conflicts, for a nexus
 * with @access (RESERVATION CONFLICT). */
bool scst_pr_conflicts(enum scst_pr_access access, uint32_t op_flags);

/* The type's abbreviation (WE, EA, WERO, EARO, WEAR, EAAR), for logs,
 * the state dump and the state file's printout; "?" for another value. */
const char *scst_pr_type_name(uint8_t type);

/* PERSISTENT RESERVE IN REPORT CAPABILITIES' type mask (SPC-4 6.16.4):
 * the two bytes for the types scst_pr_type_valid() accepts. */
uint16_t scst_pr_type_mask(void);

#endif
