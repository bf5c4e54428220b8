/* ALUA's rules (alua_rules.h): pure functions, no locks, no I/O. */
#include "core/alua_rules.h"

#include <string.h>

#include "base/bytes.h"
#include "core/scst.h"

static const struct {
	unsigned state;
	const char *name;
} state_names[] = {
	{ SCST_ALUA_ACTIVE, "active" },
	{ SCST_ALUA_NONOPTIMIZED, "nonoptimized" },
	{ SCST_ALUA_STANDBY, "standby" },
	{ SCST_ALUA_UNAVAILABLE, "unavailable" },
	{ SCST_ALUA_OFFLINE, "offline" },
	{ SCST_ALUA_TRANSITIONING, "transitioning" },
};

const char *scst_alua_state_name(unsigned state)
{
	for (size_t i = 0; i < sizeof(state_names) / sizeof(state_names[0]); i++)
		if (state_names[i].state == state)
			return state_names[i].name;
	return NULL;
}

bool scst_alua_state_parse(const char *name, unsigned *state)
{
	for (size_t i = 0; i < sizeof(state_names) / sizeof(state_names[0]); i++) {
		if (strcmp(state_names[i].name, name) == 0) {
			*state = state_names[i].state;
			return true;
		}
	}
	return false;
}

bool scst_alua_allows(unsigned state, uint32_t op_flags, struct scsi_sense *sense)
{
	uint32_t need;
	uint16_t asc;

	switch (state) {
	case SCST_ALUA_ACTIVE:
	case SCST_ALUA_NONOPTIMIZED:
		return true;
	case SCST_ALUA_STANDBY:
		need = SCST_OP_ALUA_STANDBY_OK;
		asc = SCST_ASC_ALUA_STANDBY;
		break;
	case SCST_ALUA_UNAVAILABLE:
		need = SCST_OP_ALUA_UNAVAILABLE_OK;
		asc = SCST_ASC_ALUA_UNAVAILABLE;
		break;
	case SCST_ALUA_TRANSITIONING:
		need = SCST_OP_ALUA_TRANSITIONING_OK;
		asc = SCST_ASC_ALUA_TRANSITION;
		break;
	case SCST_ALUA_OFFLINE:
	default:
		/* No other state is ever set (alua.c refuses them): should
		 * one be, the port serves as little as an offline one. */
		need = SCST_OP_ALUA_OFFLINE_OK;
		asc = SCST_ASC_ALUA_OFFLINE;
		break;
	}
	if (op_flags & need)
		return true;
	*sense = scsi_sense_make(SK_NOT_READY, asc);
	return false;
}

/* States SET TARGET PORT GROUPS may ask for (SPC-4 6.44: not LBA
 * dependent, which uscst does not support, nor transitioning). */
static bool stpg_state_settable(unsigned state)
{
	switch (state) {
	case SCST_ALUA_ACTIVE:
	case SCST_ALUA_NONOPTIMIZED:
	case SCST_ALUA_STANDBY:
	case SCST_ALUA_UNAVAILABLE:
	case SCST_ALUA_OFFLINE:
		return true;
	}
	return false;
}

int scst_alua_stpg_parse(const uint8_t *buf, uint32_t len,
			 const struct scst_alua_group_view *groups, unsigned ngroups,
			 struct scst_alua_stpg_change *out, struct scsi_sense *sense)
{
	unsigned n = 0;

	if (len == 0)
		return 0; /* SPC-4 6.44: no data, no change */
	if (len < 4 || (len - 4) % 4 != 0 || (len - 4) / 4 > SCST_ALUA_STPG_MAX) {
		*sense = scsi_sense_make(SK_ILLEGAL_REQUEST, ASC_PARAMETER_LIST_LENGTH_ERROR);
		return -1;
	}
	for (uint32_t at = 4; at < len; at += 4) {
		unsigned state = buf[at] & 0x0f;
		uint16_t id = get_be16(buf + at + 2);
		unsigned g;

		if (!stpg_state_settable(state)) {
			*sense = scsi_sense_invalid_param_field((uint16_t)at, 3);
			return -1;
		}
		for (g = 0; g < ngroups && groups[g].group_id != id; g++)
			;
		if (g == ngroups) {
			*sense = scsi_sense_invalid_param_field((uint16_t)(at + 2), -1);
			return -1;
		}
		if (groups[g].state == SCST_ALUA_TRANSITIONING) {
			*sense = scsi_sense_make(SK_NOT_READY, SCST_ASC_ALUA_TRANSITION);
			return -1;
		}
		/* The last descriptor for a group wins: one change per group. */
		unsigned i;

		for (i = 0; i < n && out[i].group != g; i++)
			;
		out[i] = (struct scst_alua_stpg_change){ .group = g, .state = (uint8_t)state };
		if (i == n)
			n++;
	}
	return (int)n;
}

/* SUPPORTED states byte of every descriptor: T_SUP, O_SUP, U_SUP, S_SUP,
 * AN_SUP, AO_SUP (no LBA dependent). */
#define RTPG_SUPPORTED 0xcf

/* Copies @n bytes at offset @at of the data, as far as @cap allows. */
static void put_cut(uint8_t *buf, size_t cap, size_t at, const uint8_t *src, size_t n)
{
	if (at >= cap)
		return;
	memcpy(buf + at, src, n < cap - at ? n : cap - at);
}

size_t scst_alua_rtpg_build(const struct scst_alua_rtpg_group *groups, unsigned ngroups,
			    bool extended, uint8_t transition_time, uint8_t *buf, size_t cap)
{
	size_t at = extended ? 8 : 4;
	uint8_t hdr[8] = { 0 };

	for (unsigned g = 0; g < ngroups; g++) {
		const struct scst_alua_rtpg_group *grp = &groups[g];
		uint8_t d[8] = { 0 };

		d[0] = (uint8_t)((grp->preferred ? 0x80 : 0) | (grp->state & 0x0f));
		d[1] = RTPG_SUPPORTED;
		put_be16(d + 2, grp->group_id);
		d[5] = grp->status;
		d[7] = (uint8_t)grp->nports;
		put_cut(buf, cap, at, d, sizeof(d));
		at += sizeof(d);
		for (unsigned p = 0; p < grp->nports; p++) {
			uint8_t port[4] = { 0 };

			put_be16(port + 2, grp->rel_tgt_ids[p]);
			put_cut(buf, cap, at, port, sizeof(port));
			at += sizeof(port);
		}
	}
	/* RETURN DATA LENGTH counts what follows itself (the extended
	 * header's other 4 bytes too). */
	put_be32(hdr, (uint32_t)(at - 4));
	if (extended) {
		hdr[4] = 0x10; /* FORMAT TYPE 001b */
		hdr[5] = transition_time;
	}
	put_cut(buf, cap, 0, hdr, extended ? 8 : 4);
	return at;
}
