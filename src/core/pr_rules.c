/* Reservation rules; see pr_rules.h. */
#include "core/pr_rules.h"
#include "core/scst.h"

bool scst_pr_type_valid(uint8_t type)
{
	switch (type) {
	case SCST_PR_TYPE_WE:
	case SCST_PR_TYPE_EA:
	case SCST_PR_TYPE_WERO:
	case SCST_PR_TYPE_EARO:
	case SCST_PR_TYPE_WEAR:
	case SCST_PR_TYPE_EAAR:
		return true;
	default:
		return false;
	}
}

bool scst_pr_type_all_registrants(uint8_t type)
{
	return type == SCST_PR_TYPE_WEAR || type == SCST_PR_TYPE_EAAR;
}

bool scst_pr_type_registrants_access(uint8_t type)
{
	return scst_pr_type_valid(type) && type != SCST_PR_TYPE_WE && type != SCST_PR_TYPE_EA;
}

bool scst_pr_is_holder(const struct scst_pr *pr, const struct scst_pr_registrant *r)
{
	return pr->reserved && r &&
	       (scst_pr_type_all_registrants(pr->type) || pr->holder == r);
}

/* The Exclusive Access types keep others from reading too. */
static bool type_excludes_reads(uint8_t type)
{
	return type == SCST_PR_TYPE_EA || type == SCST_PR_TYPE_EARO || type == SCST_PR_TYPE_EAAR;
}

enum scst_pr_access scst_pr_access_of(bool spc2_other, bool reserved, uint8_t type,
				      bool holder, bool registered)
{
	if (spc2_other)
		return SCST_PR_ACCESS_SPC2_OTHER;
	if (!reserved || holder)
		return SCST_PR_ACCESS_FULL;
	/* Registrants Only and All Registrants: every registrant has the
	 * holder's access (SPC-4 5.13.1, table 72's "registered I_T nexus"
	 * column). */
	if (registered && scst_pr_type_registrants_access(type))
		return SCST_PR_ACCESS_FULL;
	return type_excludes_reads(type) ? SCST_PR_ACCESS_NONE : SCST_PR_ACCESS_READ;
}

bool scst_pr_conflicts(enum scst_pr_access access, uint32_t op_flags)
{
	switch (access) {
	case SCST_PR_ACCESS_FULL:
		return false;
	case SCST_PR_ACCESS_READ:
		return !(op_flags & (SCST_OP_PR_READ | SCST_OP_PR_ALLOWED));
	case SCST_PR_ACCESS_NONE:
		return !(op_flags & SCST_OP_PR_ALLOWED);
	case SCST_PR_ACCESS_SPC2_OTHER:
		return !(op_flags & SCST_OP_RESERVE_ALLOWED);
	}
	return true;
}

const char *scst_pr_type_name(uint8_t type)
{
	switch (type) {
	case SCST_PR_TYPE_WE:
		return "WE";
	case SCST_PR_TYPE_EA:
		return "EA";
	case SCST_PR_TYPE_WERO:
		return "WERO";
	case SCST_PR_TYPE_EARO:
		return "EARO";
	case SCST_PR_TYPE_WEAR:
		return "WEAR";
	case SCST_PR_TYPE_EAAR:
		return "EAAR";
	}
	return "?";
}

uint16_t scst_pr_type_mask(void)
{
	/* Byte 4: WR_EX_AR (7), EX_AC_RO (6), WR_EX_RO (5), EX_AC (3),
	 * WR_EX (1); byte 5: EX_AC_AR (0). */
	return (uint16_t)((0x80 | 0x40 | 0x20 | 0x08 | 0x02) << 8 | 0x01);
}
