/* Persistent reservations (SPC-4 5.13): the state of one logical unit and
 * the calls the rest of the core makes about it. The service actions are
 * pr.c's, one function per action named after the standard; the state
 * file of APTPL is pr_store.c's.
 *
 * Ownership: struct scst_pr is embedded in its struct scst_device and
 * lives as long as it does. Everything in it is under dev->lock; the only
 * reads without the lock are each nexus's td->pr_access (an atomic the
 * lock's holder refreshes whenever the state changes, so that a command
 * checks for a conflict with one load). */
#ifndef USCST_CORE_PR_H
#define USCST_CORE_PR_H

#include <stdbool.h>
#include <stdint.h>

#include "base/list.h"

struct scst_device;
struct scst_tgt_dev;
struct scst_cmd;

/* PERSISTENT RESERVE OUT TYPE (SPC-4 table 170). */
enum scst_pr_type {
	SCST_PR_TYPE_WE = 0x1,   /* Write Exclusive */
	SCST_PR_TYPE_EA = 0x3,   /* Exclusive Access */
	SCST_PR_TYPE_WERO = 0x5, /* Write Exclusive, Registrants Only */
	SCST_PR_TYPE_EARO = 0x6, /* Exclusive Access, Registrants Only */
	SCST_PR_TYPE_WEAR = 0x7, /* Write Exclusive, All Registrants */
	SCST_PR_TYPE_EAAR = 0x8, /* Exclusive Access, All Registrants */
};

/* SCOPE: only LU_SCOPE exists in SPC-4. */
#define SCST_PR_SCOPE_LU 0x0

/* A registration: an I_T nexus (the initiator port's TransportID and the
 * relative target port identifier) with its reservation key. Registered
 * with ALL_TG_PT, it stands for that initiator port through every target
 * port, and rel_tgt_id is the port it was made through. */
struct scst_pr_registrant {
	uint64_t key;
	uint8_t transport_id[248]; /* SCST_TRANSPORT_ID_MAX */
	unsigned transport_id_len;
	uint16_t rel_tgt_id;
	bool all_tg_pt;
	struct list_head entry; /* pr->registrants, in registration order */
};

struct scst_pr {
	/* PRgeneration (SPC-4 6.16.2): bumped by each REGISTER, REGISTER
	 * AND IGNORE EXISTING KEY, CLEAR, PREEMPT, PREEMPT AND ABORT and
	 * REGISTER AND MOVE that succeeds and changes something; not by
	 * RESERVE or RELEASE, nor by a command that fails (pr.c). Kept
	 * across a restart with APTPL (pr_store.c). */
	uint32_t generation;
	/* Activate Persist Through Power Loss: the last registration asked
	 * for it; the state is then kept in the state directory. */
	bool aptpl;
	/* A persistent reservation exists: its type and scope, and for the
	 * types with a single holder, that registrant (all registrants hold
	 * a WEAR or EAAR reservation: holder is NULL). */
	bool reserved;
	uint8_t type;  /* enum scst_pr_type */
	uint8_t scope; /* SCST_PR_SCOPE_LU */
	struct scst_pr_registrant *holder;
	struct list_head registrants;
	unsigned nregistrants;
};

/* What a nexus may do given the device's reservations (td->pr_access). */
enum scst_pr_access {
	SCST_PR_ACCESS_FULL,      /* no reservation stands in its way */
	SCST_PR_ACCESS_READ,      /* SCST_OP_PR_READ and _ALLOWED rows only */
	SCST_PR_ACCESS_NONE,      /* SCST_OP_PR_ALLOWED rows only */
	SCST_PR_ACCESS_SPC2_OTHER, /* another nexus holds an SPC-2 reservation:
				   * SCST_OP_RESERVE_ALLOWED rows only */
};

#endif
