/* ALUA's rules (SPC-4 5.16), as pure functions of a snapshot: which
 * commands a target port in each asymmetric access state serves and the
 * sense the others get, the parameter list of SET TARGET PORT GROUPS, and
 * the data of REPORT TARGET PORT GROUPS. No locks, no I/O: alua.c takes
 * the snapshot under scst_mutex and applies the decision, and
 * tests/unit/test_alua_rules.c tests them alone. */
#ifndef USCST_CORE_ALUA_RULES_H
#define USCST_CORE_ALUA_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scsi/sense.h"

/* Asymmetric access states, with their SPC-4 codes (table 164 of RTPG's
 * descriptor; STPG's field uses the same). */
enum scst_alua_state {
	SCST_ALUA_ACTIVE = 0x0,        /* active/optimized */
	SCST_ALUA_NONOPTIMIZED = 0x1,  /* active/non-optimized */
	SCST_ALUA_STANDBY = 0x2,
	SCST_ALUA_UNAVAILABLE = 0x3,
	SCST_ALUA_LBA_DEPENDENT = 0x4, /* not supported */
	SCST_ALUA_OFFLINE = 0xe,
	SCST_ALUA_TRANSITIONING = 0xf,
};

/* TPGS field of standard INQUIRY (byte 5 bits 5..4): how a device
 * group's states may change. */
enum scst_alua_tpgs {
	SCST_ALUA_TPGS_NONE = 0,
	SCST_ALUA_TPGS_IMPLICIT = 1, /* by the target only (a reload) */
	SCST_ALUA_TPGS_EXPLICIT = 2, /* by SET TARGET PORT GROUPS only */
	SCST_ALUA_TPGS_BOTH = 3,
};

/* STATUS CODE of an RTPG target port group descriptor (SPC-4 6.37). */
enum scst_alua_status {
	SCST_ALUA_STATUS_NONE = 0x0,
	SCST_ALUA_STATUS_BY_STPG = 0x1,     /* altered by SET TARGET PORT GROUPS */
	SCST_ALUA_STATUS_IMPLICIT = 0x2,    /* altered by an implicit transition */
};

/* Additional sense codes of ALUA (SPC-4 annex D), ASC << 8 | ASCQ. */
#define SCST_ASC_ALUA_TRANSITION 0x040a  /* ASYMMETRIC ACCESS STATE TRANSITION */
#define SCST_ASC_ALUA_STANDBY 0x040b     /* TARGET PORT IN STANDBY STATE */
#define SCST_ASC_ALUA_UNAVAILABLE 0x040c /* TARGET PORT IN UNAVAILABLE STATE */
#define SCST_ASC_ALUA_OFFLINE 0x0412     /* LOGICAL UNIT NOT READY, OFFLINE */
#define SCST_ASC_STPG_FAILED 0x670a      /* SET TARGET PORT GROUPS COMMAND FAILED */

/* The state's name as scst.conf spells it (SCST's: active, nonoptimized,
 * standby, unavailable, offline, transitioning), or NULL. */
const char *scst_alua_state_name(unsigned state);
/* The state of a name; false if it names none. */
bool scst_alua_state_parse(const char *name, unsigned *state);

/* Whether a command whose op row has @op_flags is served through a port
 * in @state: true, or false with the NOT READY sense it ends with. */
bool scst_alua_allows(unsigned state, uint32_t op_flags, struct scsi_sense *sense);

/* ---- SET TARGET PORT GROUPS (SPC-4 6.44) ---- */

/* A target port group as STPG sees it. */
struct scst_alua_group_view {
	uint16_t group_id;
	uint8_t state;
};

/* One change a parameter list asks for: @group (an index into the
 * groups given to scst_alua_stpg_parse()) to @state. */
struct scst_alua_stpg_change {
	unsigned group;
	uint8_t state;
};

/* Descriptors one parameter list may carry: more is refused with
 * PARAMETER LIST LENGTH ERROR. */
#define SCST_ALUA_STPG_MAX 64

/* Checks STPG's parameter list (@len bytes: a 4-byte header, then 4-byte
 * descriptors) against the device group's @groups. Returns the number of
 * changes written into @out (at most SCST_ALUA_STPG_MAX; a group named
 * twice is changed as its last descriptor says), or -1 with the sense:
 *   a length that is not 4 + 4n, or more than the maximum: PARAMETER LIST
 *     LENGTH ERROR;
 *   a state STPG may not set (LBA dependent, transitioning, a reserved
 *     code): INVALID FIELD IN PARAMETER LIST at the descriptor's byte 0,
 *     bit 3;
 *   a group id the device group does not have: INVALID FIELD IN PARAMETER
 *     LIST at the descriptor's byte 2;
 *   a group in transition: NOT READY, ASYMMETRIC ACCESS STATE TRANSITION.
 * A length of 0 is no change (0 returned). Nothing is changed either way. */
int scst_alua_stpg_parse(const uint8_t *buf, uint32_t len,
			 const struct scst_alua_group_view *groups, unsigned ngroups,
			 struct scst_alua_stpg_change *out, struct scsi_sense *sense);

/* ---- REPORT TARGET PORT GROUPS (SPC-4 6.37) ---- */

struct scst_alua_rtpg_group {
	uint16_t group_id;
	uint8_t state;
	bool preferred;
	uint8_t status; /* enum scst_alua_status */
	const uint16_t *rel_tgt_ids;
	unsigned nports;
};

/* Writes RTPG's data for @groups into @buf (room for @cap bytes; what
 * does not fit is cut) in the length-only format, or with the extended
 * header (FORMAT TYPE 1) carrying @transition_time (IMPLICIT TRANSITION
 * TIME, seconds). Returns the full length the data has, which may be more
 * than @cap. */
size_t scst_alua_rtpg_build(const struct scst_alua_rtpg_group *groups, unsigned ngroups,
			    bool extended, uint8_t transition_time, uint8_t *buf, size_t cap);

#endif
