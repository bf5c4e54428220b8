/* SPC-2 reservations (RESERVE(6)/(10), RELEASE(6)/(10); SPC-2 7.21,
 * 7.24, 5.5.1) and how they meet persistent reservations (SPC-4 5.13.3),
 * on pr.sh's configuration (one device, targets T1 and T2).
 *
 * usage: reserve_spc2 127.0.0.1:PORT T1 T2 SCENARIO
 * SCENARIO: conflict vs_pr logout nexus_loss lun_reset warm_reset
 *           cold_reset
 * Each check prints a line; exit 1 on any failure. */
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "pr_client.h"

#define INI_A "iqn.2026-12.test:rsv-a"
#define INI_B "iqn.2026-12.test:rsv-b"
#define INI_C "iqn.2026-12.test:rsv-c"

static const char *t1, *t2;
static struct nexus a1, a2, b1, a1t2, b1t2;

static void reserve6(struct nexus *n, struct result *r)
{
	static const uint8_t cdb[6] = { 0x16 };

	send_cdb(n, cdb, 6, SCSI_XFER_NONE, NULL, 0, 0, r);
}

static void release6(struct nexus *n, struct result *r)
{
	static const uint8_t cdb[6] = { 0x17 };

	send_cdb(n, cdb, 6, SCSI_XFER_NONE, NULL, 0, 0, r);
}

static void reserve10(struct nexus *n, struct result *r)
{
	static const uint8_t cdb[10] = { 0x56 };

	send_cdb(n, cdb, 10, SCSI_XFER_NONE, NULL, 0, 0, r);
}

static void release10(struct nexus *n, struct result *r)
{
	static const uint8_t cdb[10] = { 0x57 };

	send_cdb(n, cdb, 10, SCSI_XFER_NONE, NULL, 0, 0, r);
}

struct tmf_wait {
	bool done;
	int status;
	uint32_t response;
};

static void tmf_cb(struct iscsi_context *c, int status, void *command_data, void *private)
{
	struct tmf_wait *w = private;

	(void)c;
	w->done = true;
	w->status = status;
	w->response = command_data ? *(uint32_t *)command_data : 0xff;
}

/* A task management function; true if the target answered Function
 * Complete (0). */
static bool tmf(struct nexus *n, enum iscsi_task_mgmt_funcs fn, const char *what)
{
	struct tmf_wait w = { 0 };

	if (iscsi_task_mgmt_async(n->c, 0, fn, 0xffffffff, 0, tmf_cb, &w) != 0) {
		pr_check(false, "%s: %s not sent: %s", n->label, what, iscsi_get_error(n->c));
		return false;
	}
	for (int i = 0; i < 1500 && !w.done; i++) {
		struct pollfd p = { .fd = iscsi_get_fd(n->c),
				    .events = (short)iscsi_which_events(n->c) };

		if (poll(&p, 1, 20) > 0 && iscsi_service(n->c, p.revents) < 0)
			break;
	}
	pr_check(w.done && w.status == SCSI_STATUS_GOOD && w.response == 0,
		 "%s: %s answered Function Complete (%s, response %u)", n->label, what,
		 w.done ? "answered" : "no answer", w.response);
	return w.done && w.response == 0;
}

/* Held by @holder: the others conflict as SPC-2 5.5.1 and SBC-2 say. */
static void expect_held_by(struct nexus *holder, struct nexus *other, const char *what)
{
	struct result r;

	read10(other, 8, 1, &r);
	expect(&r, "RESERVATION CONFLICT", "%s: %s READ(10)", what, other->label);
	write10(other, 8, 1, 0x77, &r);
	expect(&r, "RESERVATION CONFLICT", "%s: %s WRITE(10)", what, other->label);
	mode_sense6(other, &r);
	expect(&r, "RESERVATION CONFLICT", "%s: %s MODE SENSE(6)", what, other->label);
	inquiry(other, &r);
	expect(&r, "GOOD", "%s: %s INQUIRY", what, other->label);
	report_luns(other, &r);
	expect(&r, "GOOD", "%s: %s REPORT LUNS", what, other->label);
	request_sense(other, &r);
	expect(&r, "GOOD", "%s: %s REQUEST SENSE", what, other->label);
	tur(other, &r);
	expect(&r, "GOOD", "%s: %s TEST UNIT READY", what, other->label);
	read_capacity10(other, &r);
	expect(&r, "GOOD", "%s: %s READ CAPACITY(10)", what, other->label);
	read10(holder, 8, 1, &r);
	expect(&r, "GOOD", "%s: the holder %s READ(10)", what, holder->label);
	write10(holder, 8, 1, 0x66, &r);
	expect(&r, "GOOD", "%s: the holder %s WRITE(10)", what, holder->label);
	mode_sense6(holder, &r);
	expect(&r, "GOOD", "%s: the holder %s MODE SENSE(6)", what, holder->label);
}

/* Nobody holds it: @n reserves and releases it at once. */
static void expect_free(struct nexus *n, const char *what)
{
	struct result r;
	char uas[128];

	collect_uas(n, uas, sizeof(uas)); /* a reset's, if any */

	reserve6(n, &r);
	expect(&r, "GOOD", "%s: %s RESERVE(6) (the reservation is gone)", what, n->label);
	release6(n, &r);
	expect(&r, "GOOD", "%s: %s RELEASE(6)", what, n->label);
}

static void scenario_conflict(void)
{
	struct result r;

	reserve6(&a1, &r);
	expect(&r, "GOOD", "A1 RESERVE(6)");
	reserve6(&a1, &r);
	expect(&r, "GOOD", "A1 RESERVE(6) again (the holder)");
	reserve6(&b1, &r);
	expect(&r, "RESERVATION CONFLICT", "B1 RESERVE(6) (held by A1)");
	reserve10(&b1, &r);
	expect(&r, "RESERVATION CONFLICT", "B1 RESERVE(10) (held by A1)");
	reserve6(&a2, &r);
	expect(&r, "RESERVATION CONFLICT", "A2 (A's other ISID) RESERVE(6)");
	reserve6(&a1t2, &r);
	expect(&r, "RESERVATION CONFLICT", "A1@T2 (A1's port through T2) RESERVE(6)");
	expect_held_by(&a1, &b1, "RESERVE(6) by A1");
	expect_held_by(&a1, &a2, "RESERVE(6) by A1");
	expect_held_by(&a1, &a1t2, "RESERVE(6) by A1");

	/* PERSISTENT RESERVE IN and OUT conflict, regardless of initiator or
	 * service action, while an SPC-2 reservation exists (SPC-2 5.5.1). */
	prout(&b1, PRO_REGISTER, 0, 0, 0xbbbb, 0, NULL, 0, &r);
	expect(&r, "RESERVATION CONFLICT", "B1 PERSISTENT RESERVE OUT REGISTER (A1 holds RESERVE)");
	prin(&b1, PRI_READ_KEYS, 256, &r);
	expect(&r, "RESERVATION CONFLICT", "B1 PERSISTENT RESERVE IN READ KEYS (A1 holds RESERVE)");
	prout(&a1, PRO_REGISTER, 0, 0, 0xaaaa, 0, NULL, 0, &r);
	expect(&r, "RESERVATION CONFLICT",
	       "A1 (the holder) PERSISTENT RESERVE OUT REGISTER (SPC-2 5.5.1: regardless of initiator)");
	if (r.status == SCSI_STATUS_GOOD) {
		/* Undo it, or every RESERVE and RELEASE below conflicts
		 * because of this registration (as they should then). */
		prout(&a1, PRO_REGISTER, 0, 0xaaaa, 0, 0, NULL, 0, &r);
		printf("  (A1 unregisters again: %s)\n", describe(&r));
	}
	prin(&a1, PRI_READ_KEYS, 256, &r);
	expect(&r, "RESERVATION CONFLICT", "A1 (the holder) PERSISTENT RESERVE IN READ KEYS");

	/* RELEASE by another is a GOOD no-op (SPC-2 7.24). */
	release6(&b1, &r);
	expect(&r, "GOOD", "B1 RELEASE(6) (not the holder)");
	release10(&b1, &r);
	expect(&r, "GOOD", "B1 RELEASE(10) (not the holder)");
	expect_held_by(&a1, &b1, "after B1's RELEASEs");

	release6(&a1, &r);
	expect(&r, "GOOD", "A1 RELEASE(6)");
	read10(&b1, 8, 1, &r);
	expect(&r, "GOOD", "B1 READ(10) after A1's RELEASE");
	release6(&a1, &r);
	expect(&r, "GOOD", "A1 RELEASE(6) with nothing reserved");

	reserve10(&b1, &r);
	expect(&r, "GOOD", "B1 RESERVE(10)");
	expect_held_by(&b1, &a1, "RESERVE(10) by B1");
	reserve6(&a1, &r);
	expect(&r, "RESERVATION CONFLICT", "A1 RESERVE(6) (held by B1)");
	release10(&b1, &r);
	expect(&r, "GOOD", "B1 RELEASE(10)");
	expect_free(&a1, "after B1's RELEASE(10)");
}

/* SPC-2 5.5.1: while any I_T nexus is registered, every RESERVE and
 * RELEASE conflicts, whoever sends it. With CRH 1 (SPC-4 5.13.3) there are
 * two exceptions: from the persistent reservation's holder, or from a
 * registrant under a registrants-only or all-registrants type, RESERVE
 * and RELEASE complete with GOOD and change nothing; every other case is
 * SPC-2's. */
static void scenario_vs_pr(void)
{
	struct result r;
	bool crh;

	prin(&a1, PRI_REPORT_CAPABILITIES, 8, &r);
	crh = r.status == SCSI_STATUS_GOOD && r.len >= 3 && (r.data[2] & 0x10);
	printf("  REPORT CAPABILITIES: CRH %d\n", crh);
	prout(&a1, PRO_REGISTER, 0, 0, 0xaaaa, 0, NULL, 0, &r);
	expect(&r, "GOOD", "A1 PERSISTENT RESERVE OUT REGISTER");
	reserve6(&b1, &r);
	expect(&r, "RESERVATION CONFLICT", "B1 (not registered) RESERVE(6) while A1 is registered");
	reserve10(&b1, &r);
	expect(&r, "RESERVATION CONFLICT", "B1 (not registered) RESERVE(10) while A1 is registered");
	reserve6(&a1, &r);
	expect(&r, "RESERVATION CONFLICT", "A1 (registered, holds no PR) RESERVE(6)");
	release6(&a1, &r);
	expect(&r, "RESERVATION CONFLICT", "A1 (registered, holds no PR) RELEASE(6)");
	release6(&b1, &r);
	expect(&r, "RESERVATION CONFLICT", "B1 RELEASE(6) while A1 is registered");
	read10(&b1, 8, 1, &r);
	expect(&r, "GOOD", "B1 READ(10): the refused RESERVEs reserved nothing");

	/* A1 holds WE; B1@T2 is not registered. */
	prout(&a1, PRO_RESERVE, WE, 0xaaaa, 0, 0, NULL, 0, &r);
	expect(&r, "GOOD", "A1 PERSISTENT RESERVE OUT RESERVE WE");
	reserve6(&a1, &r);
	expect(&r, crh ? "GOOD" : "RESERVATION CONFLICT",
	       "A1 (the PR holder) RESERVE(6) (CRH %d)", crh);
	release6(&a1, &r);
	expect(&r, crh ? "GOOD" : "RESERVATION CONFLICT",
	       "A1 (the PR holder) RELEASE(6) (CRH %d)", crh);
	prin(&b1t2, PRI_READ_RESERVATION, 64, &r);
	pr_check(r.status == SCSI_STATUS_GOOD && r.len >= 24 && be32(r.data + 4) == 16 &&
		 (r.data[21] & 0x0f) == WE,
		 "A1's RESERVE(6)/RELEASE(6) left the persistent reservation WE in place (%s)",
		 describe(&r));
	read10(&b1, 8, 1, &r);
	expect(&r, "GOOD", "B1 READ(10): no SPC-2 reservation was made (WE lets it read)");
	reserve6(&b1t2, &r);
	expect(&r, "RESERVATION CONFLICT", "B1@T2 (not registered) RESERVE(6) under A1's WE");
	release6(&b1t2, &r);
	expect(&r, "RESERVATION CONFLICT", "B1@T2 (not registered) RELEASE(6) under A1's WE");
	prout(&a1, PRO_RELEASE, WE, 0xaaaa, 0, 0, NULL, 0, &r);
	expect(&r, "GOOD", "A1 PERSISTENT RESERVE OUT RELEASE WE");

	prout(&a1, PRO_REGISTER, 0, 0xaaaa, 0, 0, NULL, 0, &r);
	expect(&r, "GOOD", "A1 unregisters");
	expect_free(&b1, "no registration left");
}

/* A1 holds an SPC-2 reservation; B1 is refused. */
static void reserved_by_a1(void)
{
	struct result r;
	char uas[128];

	collect_uas(&a1, uas, sizeof(uas));
	collect_uas(&b1, uas, sizeof(uas));

	reserve6(&a1, &r);
	expect(&r, "GOOD", "A1 RESERVE(6)");
	read10(&b1, 8, 1, &r);
	expect(&r, "RESERVATION CONFLICT", "B1 READ(10) while A1 holds it");
}

static void expect_free_soon(struct nexus *n, const char *what)
{
	struct result r;
	char uas[128];

	collect_uas(n, uas, sizeof(uas));

	/* The target learns of a dropped connection from its socket: give
	 * it up to 3 s. */
	for (int i = 0; i < 30; i++) {
		reserve6(n, &r);
		if (r.status != SCSI_STATUS_RESERVATION_CONFLICT)
			break;
		usleep(100 * 1000);
	}
	expect(&r, "GOOD", "%s: %s RESERVE(6)", what, n->label);
	release6(n, &r);
}

static void scenario_logout(void)
{
	reserved_by_a1();
	nexus_logout(&a1);
	/* The Logout Response has come: the I_T nexus is gone (RFC 7143
	 * 11.14, SAM-5 I_T nexus loss), and so is its reservation. */
	expect_free(&b1, "right after the holder's Logout Response");
	nexus_login(&a1, "A1@T1", INI_A, t1, 1, 0x00a000, 1);
}

static void scenario_nexus_loss(void)
{
	reserved_by_a1();
	nexus_drop(&a1);
	expect_free_soon(&b1, "after the holder's connection dropped without logout");
	nexus_login(&a1, "A1@T1", INI_A, t1, 1, 0x00a000, 1);
}

static void scenario_lun_reset(void)
{
	reserved_by_a1();
	tmf(&b1, ISCSI_TM_LUN_RESET, "LOGICAL UNIT RESET (by another initiator)");
	expect_free(&b1, "after B1's LOGICAL UNIT RESET");
	expect_uas(&a1, "29/03", "LOGICAL UNIT RESET");

	reserved_by_a1();
	tmf(&a1, ISCSI_TM_LUN_RESET, "LOGICAL UNIT RESET (by the holder)");
	expect_free(&b1, "after A1's LOGICAL UNIT RESET");
}

static void scenario_warm_reset(void)
{
	reserved_by_a1();
	tmf(&b1, ISCSI_TM_TARGET_WARM_RESET, "TARGET WARM RESET of T1");
	expect_free(&b1, "after TARGET WARM RESET of T1");
	expect_uas(&a1, "29/03", "TARGET WARM RESET");

	/* Through the other target port: the logical unit is reset too. */
	reserved_by_a1();
	tmf(&b1t2, ISCSI_TM_TARGET_WARM_RESET, "TARGET WARM RESET of T2");
	expect_free(&b1, "after TARGET WARM RESET of T2 (the reservation was made through T1)");
}

static void scenario_cold_reset(void)
{
	struct nexus c1;

	reserved_by_a1();
	/* TARGET COLD RESET: every connection of the target closes (SAM-5;
	 * the target sends the response first). */
	tmf(&b1, ISCSI_TM_TARGET_COLD_RESET, "TARGET COLD RESET of T1");
	nexus_drop(&a1);
	nexus_drop(&b1);
	nexus_drop(&a2);
	if (!nexus_login(&c1, "C1@T1", INI_C, t1, 1, 0x00c000, 1))
		return;
	expect_free_soon(&c1, "after TARGET COLD RESET");
	nexus_logout(&c1);
	nexus_login(&a1, "A1@T1", INI_A, t1, 1, 0x00a000, 1);
	nexus_login(&a2, "A2@T1", INI_A, t1, 1, 0x00a000, 2);
	nexus_login(&b1, "B1@T1", INI_B, t1, 1, 0x00b000, 1);
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		void (*run)(void);
	} scenarios[] = {
		{ "conflict", scenario_conflict },
		{ "vs_pr", scenario_vs_pr },
		{ "logout", scenario_logout },
		{ "nexus_loss", scenario_nexus_loss },
		{ "lun_reset", scenario_lun_reset },
		{ "warm_reset", scenario_warm_reset },
		{ "cold_reset", scenario_cold_reset },
	};
	char prog[64];
	bool found = false, ok = true;

	if (argc != 5) {
		fprintf(stderr, "usage: %s HOST:PORT TARGET1 TARGET2 SCENARIO|all\n", argv[0]);
		return 2;
	}
	pr_portal = argv[1];
	t1 = argv[2];
	t2 = argv[3];
	snprintf(prog, sizeof(prog), "reserve_spc2 %s", argv[4]);
	ok &= nexus_login(&a1, "A1@T1", INI_A, t1, 1, 0x00a000, 1);
	ok &= nexus_login(&a2, "A2@T1", INI_A, t1, 1, 0x00a000, 2);
	ok &= nexus_login(&b1, "B1@T1", INI_B, t1, 1, 0x00b000, 1);
	ok &= nexus_login(&a1t2, "A1@T2", INI_A, t2, 2, 0x00a000, 1);
	ok &= nexus_login(&b1t2, "B1@T2", INI_B, t2, 2, 0x00b000, 1);
	if (!ok)
		return pr_summary(prog);
	for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++) {
		if (strcmp(argv[4], "all") && strcmp(argv[4], scenarios[i].name))
			continue;
		found = true;
		printf("--- scenario %s\n", scenarios[i].name);
		scenarios[i].run();
	}
	if (!found) {
		fprintf(stderr, "reserve_spc2: unknown scenario '%s'\n", argv[4]);
		return 2;
	}
	nexus_logout(&a1);
	nexus_logout(&a2);
	nexus_logout(&b1);
	nexus_logout(&a1t2);
	nexus_logout(&b1t2);
	return pr_summary(prog);
}
