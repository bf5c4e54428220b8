/* Persistent reservations (SPC-4 5.13, 6.15, 6.16) as initiators see
 * them, on pr.sh's configuration: one device exported by two targets, T1
 * (rel_tgt_id 1) and T2 (rel_tgt_id 2). Three initiators (A, B, C), two
 * ISIDs each, through T1; A's and B's first ISIDs also through T2 (the
 * same initiator ports through another target port: other I_T nexuses).
 *
 * usage: pr_scenarios 127.0.0.1:PORT T1 T2 SCENARIO
 * SCENARIO: register reserve types clear preempt abort move spec_i_pt
 *           all_tg_pt capabilities full_status badinput persist
 * Each check prints a line with what was sent, what came back and, on a
 * failure, what the standard asks for; exit 1 on any failure. */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pr_client.h"

#define INI_A "iqn.2026-12.test:pr-a"
#define INI_B "iqn.2026-12.test:pr-b"
#define INI_C "iqn.2026-12.test:pr-c"
#define INI_O "iqn.2026-12.test:pr-observer"

#define KA 0xa1a1a1a1a1a1a1a1ull
#define KA2 0xa2a2a2a2a2a2a2a2ull
#define KB 0xb1b1b1b1b1b1b1b1ull
#define KC 0xc1c1c1c1c1c1c1c1ull
#define KT 0x7272727272727272ull     /* a registration through T2 */
#define KX 0x0123456789abcdefull     /* nobody's key */
#define KCLEAN 0xdeaddeaddeaddeadull /* reset_pr()'s */

static const char *t1, *t2;
static struct nexus a1, a2, b1, b2, c1, c2, a1t2, b1t2;
/* Never registers: it reads the state (PERSISTENT RESERVE IN is allowed
 * under every type) without taking a unit attention meant for another. */
static struct nexus obs;
static struct nexus *const everyone[] = { &a1, &a2, &b1, &b2, &c1, &c2, &a1t2, &b1t2, &obs };
#define NEVERYONE (sizeof(everyone) / sizeof(everyone[0]))

static bool login_all(void)
{
	bool ok = true;

	ok &= nexus_login(&a1, "A1@T1", INI_A, t1, 1, 0x00a000, 1);
	ok &= nexus_login(&a2, "A2@T1", INI_A, t1, 1, 0x00a000, 2);
	ok &= nexus_login(&b1, "B1@T1", INI_B, t1, 1, 0x00b000, 1);
	ok &= nexus_login(&b2, "B2@T1", INI_B, t1, 1, 0x00b000, 2);
	ok &= nexus_login(&c1, "C1@T1", INI_C, t1, 1, 0x00c000, 1);
	ok &= nexus_login(&c2, "C2@T1", INI_C, t1, 1, 0x00c000, 2);
	ok &= nexus_login(&a1t2, "A1@T2", INI_A, t2, 2, 0x00a000, 1);
	ok &= nexus_login(&b1t2, "B1@T2", INI_B, t2, 2, 0x00b000, 1);
	ok &= nexus_login(&obs, "O@T1", INI_O, t1, 1, 0x00f000, 1);
	return ok;
}

static void drain_uas(void)
{
	char buf[256];

	for (size_t i = 0; i < NEVERYONE; i++)
		collect_uas(everyone[i], buf, sizeof(buf));
}

/* No registration, no reservation, no unit attention pending. */
static void reset_pr(void)
{
	struct result r;

	prout(&a1, PRO_REGISTER_AND_IGNORE, 0, 0, KCLEAN, 0, NULL, 0, &r);
	if (r.status == SCSI_STATUS_GOOD)
		prout(&a1, PRO_CLEAR, 0, KCLEAN, 0, 0, NULL, 0, &r);
	if (r.status != SCSI_STATUS_GOOD)
		pr_check(false, "reset: A1 REGISTER AND IGNORE + CLEAR: %s", describe(&r));
	drain_uas();
}

/* PR OUT that must be GOOD. */
static bool must(struct nexus *n, int sa, int type, uint64_t key, uint64_t sark, uint8_t flags,
		 const char *what)
{
	struct result r;

	prout(n, sa, type, key, sark, flags, NULL, 0, &r);
	return expect(&r, "GOOD", "%s: %s", n->label, what);
}

static void expect_generation_from(struct nexus *n, uint32_t want, const char *what)
{
	uint32_t got = pr_generation(n);

	pr_check(got == want, "%s: PRgeneration %u%s (%u)", what, got,
		 got == want ? "" : ", expected", want);
}

/* PRgeneration as the observer reads it. */
static void expect_generation(uint32_t want, const char *what)
{
	expect_generation_from(&obs, want, what);
}

static void expect_keys(const uint64_t *keys, int nkeys, const char *what)
{
	struct pr_state s;
	char buf[2048];
	bool ok;

	pr_state_read(&obs, &s);
	ok = s.ok && s.nkeys == nkeys;
	/* As a multiset: each wanted key as often as asked. */
	for (int i = 0; ok && i < nkeys; i++) {
		int want = 0, got = 0;

		for (int j = 0; j < nkeys; j++)
			want += keys[j] == keys[i];
		for (int j = 0; j < s.nkeys; j++)
			got += s.keys[j] == keys[i];
		ok = want == got;
	}
	pr_state_format(&s, buf, sizeof(buf));
	char want[512] = "";

	for (int i = 0; i < nkeys; i++) {
		size_t used = strlen(want);

		snprintf(want + used, sizeof(want) - used, " %llx", (unsigned long long)keys[i]);
	}
	pr_check(ok, "%s: READ KEYS %s [%s ] (state: %s)", what, ok ? "has" : "should have",
		 want, buf);
}

/* READ RESERVATION: @type 0 means none. */
static void expect_reservation(int type, uint64_t key, const char *what)
{
	struct pr_state s;
	char buf[2048];
	bool ok;

	pr_state_read(&obs, &s);
	pr_state_format(&s, buf, sizeof(buf));
	if (!type)
		ok = s.ok && !s.reserved;
	else
		ok = s.ok && s.reserved && s.res_type == type && s.res_scope == 0 &&
		     s.res_key == key;
	pr_check(ok, "%s: READ RESERVATION %s%s key %llx (%s)", what, type ? "" : "none",
		 type ? type_name(type) : "", (unsigned long long)key, buf);
}

/* The whole PR state as one line, to compare before and after. */
static void snapshot(char *out, size_t len)
{
	struct pr_state s;

	pr_state_read(&obs, &s);
	pr_state_format(&s, out, len);
}

/* A probe that changes nothing but PRgeneration: REGISTER with
 * RESERVATION KEY and SERVICE ACTION RESERVATION KEY both @key is GOOD
 * only from a nexus registered with @key (an unregistered one gets
 * RESERVATION CONFLICT for the non-zero key, and so does one registered
 * with another key). */
static bool registered_with(struct nexus *n, uint64_t key)
{
	struct result r;

	prout(n, PRO_REGISTER, 0, key, key, 0, NULL, 0, &r);
	if (r.status != SCSI_STATUS_GOOD && r.status != SCSI_STATUS_RESERVATION_CONFLICT)
		printf("  (probe of %s: %s)\n", n->label, describe(&r));
	return r.status == SCSI_STATUS_GOOD;
}

/* ---- REGISTER and REGISTER AND IGNORE EXISTING KEY ---- */
static void scenario_register(void)
{
	struct result r;
	uint32_t g;

	reset_pr();
	g = pr_generation(&obs);
	must(&a1, PRO_REGISTER, 0, 0, KA, 0, "REGISTER key 0 -> KA (unregistered)");
	expect_generation(++g, "REGISTER that succeeds bumps");
	expect_keys((uint64_t[]){ KA }, 1, "after A1's REGISTER");

	prout(&a1, PRO_REGISTER, 0, KX, KA2, 0, NULL, 0, &r);
	expect(&r, "RESERVATION CONFLICT",
	       "A1 (registered with KA): REGISTER with RESERVATION KEY KX (mismatch)");
	expect_generation(g, "a REGISTER in conflict does not bump");
	prout(&b1, PRO_REGISTER, 0, KA, KB, 0, NULL, 0, &r);
	expect(&r, "RESERVATION CONFLICT",
	       "B1 (unregistered): REGISTER with a non-zero RESERVATION KEY");
	expect_generation(g, "a REGISTER in conflict does not bump");

	must(&a1, PRO_REGISTER, 0, KA, KA2, 0, "REGISTER KA -> KA2 (re-register)");
	expect_generation(++g, "re-REGISTER bumps");
	expect_keys((uint64_t[]){ KA2 }, 1, "KA replaced by KA2");

	/* The I_T nexus is the registrant: A's other ISID, and A's first
	 * ISID through T2, are other nexuses. */
	must(&a2, PRO_REGISTER, 0, 0, KA, 0, "REGISTER 0 -> KA (A's other ISID)");
	must(&a1t2, PRO_REGISTER, 0, 0, KT, 0, "REGISTER 0 -> KT (A1 through T2)");
	g += 2;
	expect_keys((uint64_t[]){ KA2, KA, KT }, 3, "three nexuses of A, three registrations");
	expect_generation(g, "two more REGISTERs");

	must(&a1, PRO_REGISTER, 0, KA2, 0, 0, "REGISTER KA2 -> 0 (unregister)");
	expect_generation(++g, "unregister bumps");
	expect_keys((uint64_t[]){ KA, KT }, 2, "A1 unregistered, A2 and A1@T2 remain");
	prout(&a1, PRO_REGISTER, 0, KA2, KX, 0, NULL, 0, &r);
	expect(&r, "RESERVATION CONFLICT", "A1 (unregistered again): REGISTER with its old key");
	expect_generation(g, "the conflict did not bump");

	prout(&b1, PRO_REGISTER_AND_IGNORE, 0, KX, KB, 0, NULL, 0, &r);
	expect(&r, "GOOD", "B1 (unregistered): REGISTER AND IGNORE (RESERVATION KEY KX ignored) -> KB");
	expect_generation(++g, "REGISTER AND IGNORE bumps");
	prout(&b1, PRO_REGISTER_AND_IGNORE, 0, KX, KC, 0, NULL, 0, &r);
	expect(&r, "GOOD", "B1 (registered with KB): REGISTER AND IGNORE -> KC");
	expect_generation(++g, "REGISTER AND IGNORE of a registered nexus bumps");
	expect_keys((uint64_t[]){ KA, KT, KC }, 3, "B1's key replaced, not added");
	prout(&b1, PRO_REGISTER_AND_IGNORE, 0, 0, 0, 0, NULL, 0, &r);
	expect(&r, "GOOD", "B1: REGISTER AND IGNORE -> 0 (unregister)");
	expect_generation(++g, "unregister by REGISTER AND IGNORE bumps");
	expect_keys((uint64_t[]){ KA, KT }, 2, "B1 unregistered");

	/* Two nexuses may register the same key. */
	must(&c1, PRO_REGISTER, 0, 0, KC, 0, "REGISTER 0 -> KC");
	must(&c2, PRO_REGISTER, 0, 0, KC, 0, "REGISTER 0 -> KC (the same key)");
	g += 2;
	expect_keys((uint64_t[]){ KA, KT, KC, KC }, 4, "KC twice");

	/* Unregistering the holder of a WE reservation releases it, with no
	 * unit attention (SPC-4 5.13.11.2.2: only WERO and EARO are
	 * announced). */
	must(&c1, PRO_RESERVE, WE, KC, 0, 0, "RESERVE WE");
	expect_generation(g, "RESERVE does not bump");
	must(&c1, PRO_REGISTER, 0, KC, 0, 0, "REGISTER KC -> 0 (the WE holder unregisters)");
	expect_generation(++g, "unregister bumps");
	expect_reservation(0, 0, "the holder's unregistration released WE");
	expect_uas(&c2, "", "WE released by unregistration");
	expect_uas(&a2, "", "WE released by unregistration");

	/* ... of a WERO reservation: RESERVATIONS RELEASED to every other
	 * registrant (SPC-4 5.13.11.2.2), to no non-registrant. */
	must(&c2, PRO_RESERVE, WERO, KC, 0, 0, "RESERVE WERO");
	must(&c2, PRO_REGISTER, 0, KC, 0, 0, "REGISTER KC -> 0 (the WERO holder unregisters)");
	expect_reservation(0, 0, "the holder's unregistration released WERO");
	expect_uas(&a2, "2A/04", "WERO released by unregistration (A2 registered)");
	expect_uas(&a1t2, "2A/04", "WERO released by unregistration (A1@T2 registered)");
	expect_uas(&c2, "", "WERO released by unregistration (the one that left)");
	expect_uas(&b1, "", "WERO released by unregistration (B1 not registered)");
	expect_uas(&a1, "", "WERO released by unregistration (A1 not registered)");

	/* Under an all-registrants reservation a registrant that leaves does
	 * not end it while others remain. */
	must(&a2, PRO_RESERVE, WEAR, KA, 0, 0, "RESERVE WEAR");
	must(&a2, PRO_REGISTER, 0, KA, 0, 0, "REGISTER KA -> 0 (a WEAR holder leaves)");
	expect_reservation(WEAR, 0, "WEAR stays while A1@T2 is registered");
	must(&a1t2, PRO_REGISTER, 0, KT, 0, 0, "REGISTER KT -> 0 (the last registrant leaves)");
	expect_reservation(0, 0, "WEAR ends with its last registrant");
}

/* ---- RESERVE and RELEASE ---- */
static void scenario_reserve(void)
{
	struct result r;
	uint32_t g;

	reset_pr();
	must(&a1, PRO_REGISTER, 0, 0, KA, 0, "REGISTER 0 -> KA");
	must(&b1, PRO_REGISTER, 0, 0, KB, 0, "REGISTER 0 -> KB");
	g = pr_generation(&obs);

	must(&a1, PRO_RESERVE, WE, KA, 0, 0, "RESERVE WE");
	expect_generation(g, "RESERVE does not bump");
	expect_reservation(WE, KA, "A1 holds WE");
	must(&a1, PRO_RESERVE, WE, KA, 0, 0, "RESERVE WE again (the holder, same type)");
	expect_reservation(WE, KA, "unchanged");
	prout(&a1, PRO_RESERVE, EA, KA, 0, 0, NULL, 0, &r);
	expect(&r, "RESERVATION CONFLICT", "A1 (holds WE): RESERVE EA (another type)");
	prout(&b1, PRO_RESERVE, WE, KB, 0, 0, NULL, 0, &r);
	expect(&r, "RESERVATION CONFLICT", "B1 (registered): RESERVE WE held by A1");
	prout(&c1, PRO_RESERVE, WE, 0, 0, 0, NULL, 0, &r);
	expect(&r, "RESERVATION CONFLICT", "C1 (unregistered): RESERVE WE");
	prout(&a2, PRO_RESERVE, WE, KA, 0, 0, NULL, 0, &r);
	expect(&r, "RESERVATION CONFLICT", "A2 (A's other ISID, unregistered) RESERVE WE with KA");
	prout(&a1, PRO_RESERVE, WE, KX, 0, 0, NULL, 0, &r);
	expect(&r, "RESERVATION CONFLICT", "A1: RESERVE WE with a wrong key");
	expect_reservation(WE, KA, "still A1's WE");

	prout(&b1, PRO_RELEASE, WE, KB, 0, 0, NULL, 0, &r);
	expect(&r, "GOOD", "B1 (registered, not the holder): RELEASE WE (no-op)");
	expect_reservation(WE, KA, "still A1's WE after B1's RELEASE");
	prout(&a1, PRO_RELEASE, EA, KA, 0, 0, NULL, 0, &r);
	expect(&r, "CHECK CONDITION 5/26/04", "A1 (holds WE): RELEASE EA (wrong type)");
	expect_reservation(WE, KA, "still A1's WE after the wrong-type RELEASE");
	prout(&c1, PRO_RELEASE, WE, 0, 0, 0, NULL, 0, &r);
	expect(&r, "RESERVATION CONFLICT", "C1 (unregistered): RELEASE");
	prout(&a1, PRO_RELEASE, WE, KX, 0, 0, NULL, 0, &r);
	expect(&r, "RESERVATION CONFLICT", "A1: RELEASE with a wrong key");
	expect_reservation(WE, KA, "still A1's WE");

	must(&a1, PRO_RELEASE, WE, KA, 0, 0, "RELEASE WE");
	expect_reservation(0, 0, "released");
	expect_generation(g, "RESERVE and RELEASE never bump");
	expect_uas(&b1, "", "WE released (no UA for WE)");
	must(&a1, PRO_RELEASE, WE, KA, 0, 0, "RELEASE with no reservation (GOOD)");

	/* RESERVATIONS RELEASED: for the types other than WE and EA, to every
	 * registrant but the releasing one (SPC-4 5.13.11.2.2). */
	static const int types[] = { EA, WERO, EARO, WEAR, EAAR };

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		int t = types[i];
		bool ar = t == WEAR || t == EAAR;
		char what[96];

		snprintf(what, sizeof(what), "A1 RESERVE %s", type_name(t));
		must(&a1, PRO_RESERVE, t, KA, 0, 0, what);
		expect_reservation(t, ar ? 0 : KA,
				   ar ? "all registrants hold it: key 0" : "A1 holds it");
		/* Under all-registrants every registrant is a holder: B1
		 * releases it. */
		struct nexus *rel = ar ? &b1 : &a1;
		struct nexus *other = ar ? &a1 : &b1;

		snprintf(what, sizeof(what), "RELEASE %s", type_name(t));
		must(rel, PRO_RELEASE, t, rel == &a1 ? KA : KB, 0, 0, what);
		expect_reservation(0, 0, "released");
		snprintf(what, sizeof(what), "%s released by %s", type_name(t), rel->label);
		expect_uas(other, t == EA ? "" : "2A/04", what);
		expect_uas(rel, "", what);
		expect_uas(&c1, "", what);
	}
	expect_generation(g, "RESERVE and RELEASE never bump");
}

/* ---- who may read and write under each type (SPC-4 5.13.1 table 59,
 * SBC-3 table 14) ---- */
enum access { FULL, READ_ONLY, NONE };

static const char *access_name(enum access a)
{
	return a == FULL ? "full" : a == READ_ONLY ? "read" : "none";
}

/* REPORT CAPABILITIES' ALLOW COMMANDS (SPC-4 6.15.4): whether MODE SENSE
 * passes a Write Exclusive reservation (table 65: "Allowed", or for a
 * logical unit of an earlier standard RESERVATION CONFLICT; 010b says
 * conflict, 011b and up say allowed, 000b and 001b say nothing). */
static int allow_commands = -1;

static void expect_access(struct nexus *n, enum access a, const char *what)
{
	struct result r;
	char ctx[160];
	const char *conflict_unless_full = a == FULL ? "GOOD" : "RESERVATION CONFLICT";

	snprintf(ctx, sizeof(ctx), "%s: %s (%s access)", what, n->label, access_name(a));
	read10(n, 16, 1, &r);
	expect(&r, a == NONE ? "RESERVATION CONFLICT" : "GOOD", "%s READ(10)", ctx);
	write10(n, 16, 1, 0x5a, &r);
	expect(&r, conflict_unless_full, "%s WRITE(10)", ctx);
	mode_sense6(n, &r);
	if (a == READ_ONLY && allow_commands <= 1)
		pr_check(r.status == SCSI_STATUS_GOOD ||
			 r.status == SCSI_STATUS_RESERVATION_CONFLICT,
			 "%s MODE SENSE(6) under a Write Exclusive type: %s (ALLOW COMMANDS %d: "
			 "either is right)", ctx, describe(&r), allow_commands);
	else if (a == READ_ONLY)
		expect(&r, allow_commands == 2 ? "RESERVATION CONFLICT" : "GOOD",
		       "%s MODE SENSE(6) under a Write Exclusive type (ALLOW COMMANDS %d)", ctx,
		       allow_commands);
	else
		expect(&r, conflict_unless_full, "%s MODE SENSE(6)", ctx);
	tur(n, &r);
	expect(&r, "GOOD", "%s TEST UNIT READY", ctx);
	inquiry(n, &r);
	expect(&r, "GOOD", "%s INQUIRY", ctx);
	read_capacity10(n, &r);
	expect(&r, "GOOD", "%s READ CAPACITY(10)", ctx);
	report_luns(n, &r);
	expect(&r, "GOOD", "%s REPORT LUNS", ctx);
}

static void scenario_types(void)
{
	static const int types[] = { WE, EA, WERO, EARO, WEAR, EAAR };

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		int t = types[i];
		bool ro_ar = t == WERO || t == EARO || t == WEAR || t == EAAR;
		bool wx = t == WE || t == WERO || t == WEAR;
		enum access nonreg = wx ? READ_ONLY : NONE;
		char what[64];

		reset_pr();
		snprintf(what, sizeof(what), "%s", type_name(t));
		must(&a1, PRO_REGISTER, 0, 0, KA, 0, "REGISTER 0 -> KA");
		must(&b1, PRO_REGISTER, 0, 0, KB, 0, "REGISTER 0 -> KB");
		must(&a1, PRO_RESERVE, t, KA, 0, 0, what);
		expect_access(&a1, FULL, what);
		/* A registrant: full access under the registrants-only and
		 * all-registrants types, else a non-holder like any other. */
		expect_access(&b1, ro_ar ? FULL : nonreg, what);
		expect_access(&c1, nonreg, what);
		/* The holder's initiator with another ISID, and the holder's
		 * port through the other target port: not registered. */
		expect_access(&a2, nonreg, what);
		expect_access(&a1t2, nonreg, what);
		snprintf(what, sizeof(what), "RELEASE %s", type_name(t));
		must(&a1, PRO_RELEASE, t, KA, 0, 0, what);
		expect_access(&c1, FULL, "after RELEASE");
	}
}

/* ---- CLEAR ---- */
static void scenario_clear(void)
{
	struct result r;
	char before[4096], after[4096];
	uint32_t g;

	reset_pr();
	must(&a1, PRO_REGISTER, 0, 0, KA, 0, "REGISTER 0 -> KA");
	must(&b1, PRO_REGISTER, 0, 0, KB, 0, "REGISTER 0 -> KB");
	must(&c1, PRO_REGISTER, 0, 0, KC, 0, "REGISTER 0 -> KC");
	must(&a1t2, PRO_REGISTER, 0, 0, KT, 0, "REGISTER 0 -> KT");
	must(&a1, PRO_RESERVE, WERO, KA, 0, 0, "RESERVE WERO");
	g = pr_generation(&obs);
	snapshot(before, sizeof(before));

	prout(&b1, PRO_CLEAR, 0, KX, 0, 0, NULL, 0, &r);
	expect(&r, "RESERVATION CONFLICT", "B1 (KB): CLEAR with a wrong key");
	prout(&c2, PRO_CLEAR, 0, 0, 0, 0, NULL, 0, &r);
	expect(&r, "RESERVATION CONFLICT", "C2 (unregistered): CLEAR");
	snapshot(after, sizeof(after));
	pr_check(strcmp(before, after) == 0, "refused CLEARs changed nothing (%s)", after);

	must(&b1, PRO_CLEAR, 0, KB, 0, 0, "CLEAR (not the holder)");
	expect_generation(g + 1, "CLEAR bumps");
	expect_keys(NULL, 0, "CLEAR removed every registration");
	expect_reservation(0, 0, "CLEAR removed the reservation");
	/* RESERVATIONS PREEMPTED to every registrant but the clearing one
	 * (SPC-4 5.13.11.2.6). */
	expect_uas(&a1, "2A/03", "CLEAR");
	expect_uas(&c1, "2A/03", "CLEAR");
	expect_uas(&a1t2, "2A/03", "CLEAR");
	expect_uas(&b1, "", "CLEAR (the clearing nexus)");
	expect_uas(&c2, "", "CLEAR (never registered)");
	expect_uas(&a2, "", "CLEAR (never registered)");
	expect_uas(&b1t2, "", "CLEAR (never registered)");
	prout(&b1, PRO_CLEAR, 0, KB, 0, 0, NULL, 0, &r);
	expect(&r, "RESERVATION CONFLICT", "B1 (no longer registered): CLEAR");
}

/* ---- PREEMPT ---- */
static void scenario_preempt(void)
{
	struct result r;
	struct pr_state s;
	char before[4096], after[4096];
	uint32_t g;

	/* Of the holder: its registration goes, the reservation (of a new
	 * type) goes to the preempting nexus. */
	reset_pr();
	must(&a1, PRO_REGISTER, 0, 0, KA, 0, "REGISTER 0 -> KA");
	must(&b1, PRO_REGISTER, 0, 0, KB, 0, "REGISTER 0 -> KB");
	must(&c1, PRO_REGISTER, 0, 0, KC, 0, "REGISTER 0 -> KC");
	must(&c2, PRO_REGISTER, 0, 0, KC, 0, "REGISTER 0 -> KC");
	must(&a1, PRO_RESERVE, WE, KA, 0, 0, "RESERVE WE");
	g = pr_generation(&obs);
	prout(&b1, PRO_PREEMPT, EA, KB, KA, 0, NULL, 0, &r);
	expect(&r, "GOOD", "B1: PREEMPT EA of the holder's key KA");
	expect_generation(++g, "PREEMPT bumps");
	expect_reservation(EA, KB, "B1 holds EA now");
	expect_keys((uint64_t[]){ KB, KC, KC }, 3, "A1's registration removed");
	expect_uas(&a1, "2A/05", "PREEMPT of the holder (A1 preempted)");
	/* The type changed: RESERVATIONS RELEASED to the registrants that
	 * remain (SPC-4 5.13.11.2.4 c). */
	expect_uas(&c1, "2A/04", "PREEMPT changed WE to EA (C1 still registered)");
	expect_uas(&c2, "2A/04", "PREEMPT changed WE to EA (C2 still registered)");
	expect_uas(&b1, "", "PREEMPT (the preempting nexus)");
	expect_uas(&a2, "", "PREEMPT (never registered)");

	/* Of registrants only: KC is not the holder's key; C1 and C2 lose
	 * their registrations, the reservation stays. */
	prout(&b1, PRO_PREEMPT, EA, KB, KC, 0, NULL, 0, &r);
	expect(&r, "GOOD", "B1 (holds EA): PREEMPT of KC (two registrants, not the holder)");
	expect_generation(++g, "PREEMPT bumps");
	expect_reservation(EA, KB, "B1 still holds EA");
	expect_keys((uint64_t[]){ KB }, 1, "both KC registrations removed");
	expect_uas(&c1, "2A/05", "PREEMPT of KC");
	expect_uas(&c2, "2A/05", "PREEMPT of KC");
	expect_uas(&b1, "", "PREEMPT of KC (the preempting nexus)");

	must(&a1, PRO_REGISTER, 0, 0, KA, 0, "REGISTER 0 -> KA");
	g++;
	snapshot(before, sizeof(before));
	prout(&a1, PRO_PREEMPT, EA, KA, KX, 0, NULL, 0, &r);
	expect(&r, "RESERVATION CONFLICT",
	       "A1: PREEMPT of a key nobody has, while a reservation exists");
	prout(&c1, PRO_PREEMPT, EA, 0, KB, 0, NULL, 0, &r);
	expect(&r, "RESERVATION CONFLICT", "C1 (unregistered): PREEMPT");
	prout(&a1, PRO_PREEMPT, EA, KX, KB, 0, NULL, 0, &r);
	expect(&r, "RESERVATION CONFLICT", "A1: PREEMPT with a wrong own key");
	snapshot(after, sizeof(after));
	pr_check(strcmp(before, after) == 0, "refused PREEMPTs changed nothing (%s)", after);
	expect_generation(g, "refused PREEMPTs do not bump");

	/* Without a reservation: the registrations of the key go. */
	must(&b1, PRO_RELEASE, EA, KB, 0, 0, "RELEASE EA");
	drain_uas();
	prout(&a1, PRO_PREEMPT, WE, KA, KB, 0, NULL, 0, &r);
	expect(&r, "GOOD", "A1: PREEMPT of KB with no reservation");
	expect_generation(++g, "PREEMPT bumps");
	expect_reservation(0, 0, "no reservation is created");
	expect_keys((uint64_t[]){ KA }, 1, "B1 removed");
	expect_uas(&b1, "2A/05", "PREEMPT of KB without a reservation");
	snapshot(before, sizeof(before));
	prout(&a1, PRO_PREEMPT, WE, KA, 0, 0, NULL, 0, &r);
	expect(&r, "CHECK CONDITION 5/26/00",
	       "A1: PREEMPT with SERVICE ACTION RESERVATION KEY 0 and no all-registrants reservation");
	snapshot(after, sizeof(after));
	pr_check(strcmp(before, after) == 0, "the refused PREEMPT changed nothing (%s)", after);

	/* Of an all-registrants reservation with key 0: every other
	 * registration goes, the preempting nexus holds the new type. */
	reset_pr();
	must(&a1, PRO_REGISTER, 0, 0, KA, 0, "REGISTER 0 -> KA");
	must(&b1, PRO_REGISTER, 0, 0, KB, 0, "REGISTER 0 -> KB");
	must(&c1, PRO_REGISTER, 0, 0, KC, 0, "REGISTER 0 -> KC");
	must(&a1, PRO_RESERVE, WEAR, KA, 0, 0, "RESERVE WEAR");
	g = pr_generation(&obs);
	prout(&c1, PRO_PREEMPT, WE, KC, 0, 0, NULL, 0, &r);
	expect(&r, "GOOD", "C1: PREEMPT WE of key 0 under WEAR");
	expect_generation(++g, "PREEMPT bumps");
	expect_reservation(WE, KC, "C1 holds WE");
	expect_keys((uint64_t[]){ KC }, 1, "every other registration removed");
	expect_uas(&a1, "2A/05", "PREEMPT of all registrants");
	expect_uas(&b1, "2A/05", "PREEMPT of all registrants");
	expect_uas(&c1, "", "PREEMPT of all registrants (the preempting nexus)");

	/* The holder preempts itself (SPC-4 5.13.11.2.4.3): the new type is
	 * its, it stays registered, and the other registrants of its key
	 * go. */
	reset_pr();
	must(&b1, PRO_REGISTER, 0, 0, KB, 0, "REGISTER 0 -> KB");
	must(&c1, PRO_REGISTER, 0, 0, KC, 0, "REGISTER 0 -> KC");
	must(&c2, PRO_REGISTER, 0, 0, KC, 0, "REGISTER 0 -> KC");
	must(&c1, PRO_RESERVE, WE, KC, 0, 0, "RESERVE WE");
	prout(&c1, PRO_PREEMPT, EA, KC, KC, 0, NULL, 0, &r);
	expect(&r, "GOOD", "C1 (holds WE with KC): PREEMPT EA of its own key KC");
	expect_reservation(EA, KC, "C1 holds EA now");
	expect_keys((uint64_t[]){ KB, KC }, 2, "C1 keeps its registration, C2 (KC too) loses it");
	pr_state_read(&obs, &s);
	pr_check(s.ok && pr_entry_of(&s, &c1) && pr_entry_of(&s, &c1)->r_holder &&
		 !pr_entry_of(&s, &c2), "READ FULL STATUS: C1 the holder, C2 gone");
	expect_uas(&c2, "2A/05", "self-PREEMPT (C2 shared the key)");
	expect_uas(&b1, "2A/04", "self-PREEMPT changed WE to EA (B1 still registered)");
	expect_uas(&c1, "", "self-PREEMPT (the preempting nexus)");

	/* Removing registrations with one's own key (SPC-4 5.13.11.2.5):
	 * every registration of the key goes, the sender's too, and it gets
	 * no unit attention. */
	reset_pr();
	must(&b1, PRO_REGISTER, 0, 0, KB, 0, "REGISTER 0 -> KB");
	must(&c1, PRO_REGISTER, 0, 0, KC, 0, "REGISTER 0 -> KC");
	must(&c2, PRO_REGISTER, 0, 0, KC, 0, "REGISTER 0 -> KC");
	prout(&c1, PRO_PREEMPT, WE, KC, KC, 0, NULL, 0, &r);
	expect(&r, "GOOD", "C1: PREEMPT of its own key KC with no reservation");
	expect_keys((uint64_t[]){ KB }, 1, "both KC registrations removed, C1's included");
	expect_uas(&c2, "2A/05", "PREEMPT of KC by C1");
	expect_uas(&c1, "", "PREEMPT of KC by C1 (the sender)");

	/* Of an all-registrants reservation with a non-zero key: only that
	 * key's registrations go; the reservation stays. */
	reset_pr();
	must(&a1, PRO_REGISTER, 0, 0, KA, 0, "REGISTER 0 -> KA");
	must(&b1, PRO_REGISTER, 0, 0, KB, 0, "REGISTER 0 -> KB");
	must(&c1, PRO_REGISTER, 0, 0, KC, 0, "REGISTER 0 -> KC");
	must(&a1, PRO_RESERVE, EAAR, KA, 0, 0, "RESERVE EAAR");
	prout(&c1, PRO_PREEMPT, EAAR, KC, KB, 0, NULL, 0, &r);
	expect(&r, "GOOD", "C1: PREEMPT EAAR of KB under EAAR");
	expect_reservation(EAAR, 0, "EAAR stays");
	expect_keys((uint64_t[]){ KA, KC }, 2, "only KB removed");
	expect_uas(&b1, "2A/05", "PREEMPT of KB under EAAR");
	expect_uas(&a1, "", "PREEMPT of KB under EAAR (A1 untouched)");
}

/* ---- PREEMPT AND ABORT with the victim's WRITEs in flight ---- */
struct async_cmd {
	bool done;
	int status;
	struct scsi_task *task;
};

/* The task is freed only after its context is gone: libiscsi may still
 * hold Data-Out PDUs (answers to R2Ts that came before the TASK ABORTED
 * status) that point into it. */
static void async_cb(struct iscsi_context *c, int status, void *command_data, void *private)
{
	struct async_cmd *a = private;

	(void)c;
	(void)command_data;
	if (a->done)
		return; /* the cancellation by iscsi_destroy_context() */
	a->done = true;
	a->status = status;
}

/* Services @n's socket for @ms milliseconds (or until *@stop). */
static void service_for(struct nexus *n, int ms, const bool *stop)
{
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct pollfd p = { .fd = iscsi_get_fd(n->c), .events = (short)iscsi_which_events(n->c) };

		if (stop && *stop)
			return;
		clock_gettime(CLOCK_MONOTONIC, &t);
		long el = (t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;

		if (el >= ms)
			return;
		if (poll(&p, 1, 20) > 0 && iscsi_service(n->c, p.revents) < 0)
			return;
	}
}

/* Sends @n's queued PDUs without reading anything (its R2Ts stay
 * unanswered, so its WRITEs wait for Data-Out at the target). */
static void flush_out(struct nexus *n)
{
	for (int i = 0; i < 500 && (iscsi_which_events(n->c) & POLLOUT); i++) {
		struct pollfd p = { .fd = iscsi_get_fd(n->c), .events = POLLOUT };

		if (poll(&p, 1, 20) > 0)
			iscsi_service(n->c, POLLOUT);
	}
}

/* The control mode page's TAS bit (byte 5 bit 6), via MODE SENSE(6) /
 * MODE SELECT(6). Returns the value now in effect, -1 on error. */
static int set_tas(struct nexus *n, int want)
{
	static const uint8_t sense_cdb[6] = { 0x1a, 0x08, 0x0a, 0, 255, 0 };
	struct result r;
	uint8_t param[4 + 12];

	send_cdb(n, sense_cdb, 6, SCSI_XFER_READ, NULL, 0, 255, &r);
	if (r.status != SCSI_STATUS_GOOD || r.len < 4 + 12 || (r.data[4] & 0x3f) != 0x0a)
		return -1;
	if (want >= 0) {
		memset(param, 0, 4);
		memcpy(param + 4, r.data + 4, 12);
		param[4] &= 0x3f;
		param[4 + 5] = (uint8_t)((param[4 + 5] & ~0x40) | (want ? 0x40 : 0));
		uint8_t sel_cdb[6] = { 0x15, 0x10, 0, 0, sizeof(param), 0 };

		send_cdb(n, sel_cdb, 6, SCSI_XFER_WRITE, param, sizeof(param), 0, &r);
		if (r.status != SCSI_STATUS_GOOD) {
			pr_check(false, "MODE SELECT(6) control page TAS=%d: %s", want, describe(&r));
			return -1;
		}
		return set_tas(n, -1);
	}
	return (r.data[4 + 5] & 0x40) ? 1 : 0;
}

#define ABORT_WRITES 8
#define ABORT_BLOCKS 2048 /* 1 MiB: more than the immediate data */
#define ABORT_LBA 4096

static bool region_read(struct nexus *n, unsigned char *out)
{
	for (int i = 0; i < ABORT_WRITES; i++) {
		struct result r;

		read10(n, ABORT_LBA + (uint32_t)i * ABORT_BLOCKS, 16, &r);
		if (r.status != SCSI_STATUS_GOOD || r.len != 16 * 512)
			return false;
		/* The first and the last 512 bytes of the first 16 blocks and
		 * the last block stand for the write: read the last too. */
		memcpy(out + (size_t)i * 2 * 8192, r.data, 8192);
		read10(n, ABORT_LBA + (uint32_t)i * ABORT_BLOCKS + ABORT_BLOCKS - 16, 16, &r);
		if (r.status != SCSI_STATUS_GOOD || r.len != 16 * 512)
			return false;
		memcpy(out + (size_t)i * 2 * 8192 + 8192, r.data, 8192);
	}
	return true;
}

static bool all_bytes(const unsigned char *p, size_t len, unsigned char v)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != v)
			return false;
	return true;
}

/* B1 has WRITEs in flight when A1 preempts its key and aborts. With
 * @victim_holds, B1 holds WE and A1 takes it over; else A1 holds WERO
 * and B1 is a registrant with full access: its registration and its
 * tasks go all the same (SPC-4 5.13.11.2.6: "without regard for whether
 * the preempted I_T nexuses hold the persistent reservation"), and A1's
 * WERO stays. */
static void abort_round(int tas, bool victim_holds)
{
	struct result r;
	struct async_cmd w[ABORT_WRITES], pa = { 0 };
	static unsigned char s1[ABORT_WRITES * 2 * 8192], s2[ABORT_WRITES * 2 * 8192];
	char what[96];
	int got_tas;
	int type = victim_holds ? WE : WERO;

	snprintf(what, sizeof(what), "PREEMPT AND ABORT (TAS=%d, %s)", tas,
		 victim_holds ? "of the WE holder" : "of a WERO registrant");
	reset_pr();
	got_tas = set_tas(&a1, tas);
	pr_check(got_tas == tas, "%s: the control page's TAS is %d", what, got_tas);
	drain_uas(); /* MODE PARAMETERS CHANGED */
	for (int i = 0; i < ABORT_WRITES; i++) {
		write10(&a1, ABORT_LBA + (uint32_t)i * ABORT_BLOCKS, ABORT_BLOCKS, 0x11, &r);
		if (r.status != SCSI_STATUS_GOOD)
			pr_check(false, "%s: A1 fills the region: %s", what, describe(&r));
	}
	must(&a1, PRO_REGISTER, 0, 0, KA, 0, "REGISTER 0 -> KA");
	must(&b1, PRO_REGISTER, 0, 0, KB, 0, "REGISTER 0 -> KB (the victim)");
	if (victim_holds)
		must(&b1, PRO_RESERVE, WE, KB, 0, 0, "RESERVE WE");
	else
		must(&a1, PRO_RESERVE, WERO, KA, 0, 0, "RESERVE WERO");

	/* The victim's WRITEs, each of its own byte, sent and left waiting
	 * for their R2Ts to be answered. */
	unsigned char *bufs[ABORT_WRITES];

	for (int i = 0; i < ABORT_WRITES; i++) {
		uint32_t lba = ABORT_LBA + (uint32_t)i * ABORT_BLOCKS;
		uint8_t cdb[10] = { 0x2a, 0, (uint8_t)(lba >> 24), (uint8_t)(lba >> 16),
				    (uint8_t)(lba >> 8), (uint8_t)lba, 0, ABORT_BLOCKS >> 8,
				    ABORT_BLOCKS & 0xff, 0 };
		struct scsi_task *t = scsi_create_task(10, cdb, SCSI_XFER_WRITE,
						       ABORT_BLOCKS * 512);

		bufs[i] = malloc(ABORT_BLOCKS * 512);
		memset(bufs[i], 0xb0 + i, ABORT_BLOCKS * 512);
		struct iscsi_data d = { .size = ABORT_BLOCKS * 512, .data = bufs[i] };

		w[i] = (struct async_cmd){ .task = t };
		if (iscsi_scsi_command_async(b1.c, 0, t, async_cb, &d, &w[i]) != 0) {
			pr_check(false, "%s: B1's WRITE %d not queued", what, i);
			w[i].done = true;
			w[i].status = -2;
		}
	}
	flush_out(&b1);
	usleep(200 * 1000);

	/* A1 preempts B1 and aborts its tasks. The PR OUT may wait for the
	 * tasks to end: serve only A1 for a while, then both. */
	uint8_t cdb[10] = { 0x5f, PRO_PREEMPT_AND_ABORT, (uint8_t)type, 0, 0, 0, 0, 0, 24, 0 };
	uint8_t param[24] = { 0 };

	for (int i = 0; i < 8; i++) {
		param[i] = (uint8_t)(KA >> (56 - 8 * i));
		param[8 + i] = (uint8_t)(KB >> (56 - 8 * i));
	}
	struct scsi_task *pt = scsi_create_task(10, cdb, SCSI_XFER_WRITE, 24);
	struct iscsi_data pd = { .size = 24, .data = param };

	pa.task = pt;

	if (iscsi_scsi_command_async(a1.c, 0, pt, async_cb, &pd, &pa) != 0) {
		pr_check(false, "%s: not queued", what);
		scsi_free_scsi_task(pt);
		return;
	}
	service_for(&a1, 3000, &pa.done);
	bool waited = !pa.done;

	for (int i = 0; i < 500 && !pa.done; i++) {
		service_for(&b1, 10, NULL);
		service_for(&a1, 10, &pa.done);
	}
	pr_check(pa.done && pa.status == SCSI_STATUS_GOOD, "%s: A1's PR OUT %s%s", what,
		 pa.done ? (pa.status == 0 ? "GOOD" : "not GOOD") : "never answered",
		 waited ? " (it waited for B1's connection to be served)" : "");
	bool s1_ok = region_read(&a1, s1);

	/* Now B1 reads its R2Ts and answers; nothing of it may land. */
	service_for(&b1, 2000, NULL);
	bool s2_ok = region_read(&a1, s2);

	pr_check(s1_ok && s2_ok, "%s: A1 reads the region back", what);
	pr_check(s1_ok && s2_ok && memcmp(s1, s2, sizeof(s1)) == 0,
		 "%s: nothing of B1's was written after the PR OUT completed", what);
	int aborted = 0;

	for (int i = 0; i < ABORT_WRITES; i++) {
		const unsigned char *blk = s2 + (size_t)i * 2 * 8192;
		const char *st = !w[i].done ? "no response" :
				 w[i].status == SCSI_STATUS_GOOD ? "GOOD" :
				 w[i].status == SCSI_STATUS_TASK_ABORTED ? "TASK ABORTED" :
				 w[i].status == SCSI_STATUS_RESERVATION_CONFLICT ? "RESERVATION CONFLICT" :
				 "other";

		if (w[i].done && w[i].status == SCSI_STATUS_GOOD) {
			pr_check(all_bytes(blk, 2 * 8192, (unsigned char)(0xb0 + i)),
				 "%s: B1's WRITE %d ended GOOD before the preemption: its data is there",
				 what, i);
			continue;
		}
		aborted++;
		pr_check(all_bytes(blk, 2 * 8192, 0x11),
			 "%s: B1's WRITE %d (%s) left the old data", what, i, st);
		if (tas)
			pr_check(w[i].done && w[i].status == SCSI_STATUS_TASK_ABORTED,
				 "%s: B1's WRITE %d ends with TASK ABORTED under TAS=1: %s", what, i,
				 st);
		else
			pr_check(!w[i].done, "%s: B1's WRITE %d gets no response under TAS=0: %s",
				 what, i, st);
	}
	pr_check(aborted > 0, "%s: %d of B1's %d WRITEs were still in flight (a test that "
		 "caught none could not fail)", what, aborted, ABORT_WRITES);
	expect_reservation(type, KA, victim_holds ? "A1 holds WE after PREEMPT AND ABORT"
						  : "A1 still holds WERO");
	expect_keys((uint64_t[]){ KA }, 1, "B1's registration removed");
	/* B1 lost its registration: REGISTRATIONS PREEMPTED (SPC-4
	 * 5.13.11.2.4.3 e); under TAS 0 SAM-5 may add COMMANDS CLEARED BY
	 * ANOTHER INITIATOR, which is not checked here. */
	char uas[256];

	collect_uas(&b1, uas, sizeof(uas));
	pr_check(strstr(uas, "2A/05") != NULL, "%s: B1's unit attentions [%s] include 2A/05", what,
		 uas);
	/* B1's unfinished tasks are abandoned with its connection; a new
	 * login with the same ISID takes its place. */
	nexus_drop(&b1);
	for (int i = 0; i < ABORT_WRITES; i++) {
		scsi_free_scsi_task(w[i].task);
		free(bufs[i]);
	}
	if (pa.done) /* else A1's context still holds it */
		scsi_free_scsi_task(pt);
	nexus_login(&b1, "B1@T1", INI_B, t1, 1, 0x00b000, 1);
	must(&a1, PRO_RELEASE, type, KA, 0, 0, "RELEASE");
}

static void scenario_abort(void)
{
	/* The victim's UA is checked on a nexus that keeps its connection:
	 * B2 registered, its READ in flight is not needed for that. */
	struct result r;

	reset_pr();
	must(&a1, PRO_REGISTER, 0, 0, KA, 0, "REGISTER 0 -> KA");
	must(&b2, PRO_REGISTER, 0, 0, KB, 0, "REGISTER 0 -> KB");
	must(&b2, PRO_RESERVE, EA, KB, 0, 0, "RESERVE EA");
	uint32_t g = pr_generation(&obs);

	prout(&a1, PRO_PREEMPT_AND_ABORT, WE, KA, KB, 0, NULL, 0, &r);
	expect(&r, "GOOD", "A1: PREEMPT AND ABORT WE of the EA holder's key KB");
	expect_generation(g + 1, "PREEMPT AND ABORT bumps");
	expect_reservation(WE, KA, "A1 holds WE");
	expect_uas(&b2, "2A/05", "PREEMPT AND ABORT (B2 preempted)");
	expect_uas(&a1, "", "PREEMPT AND ABORT (the preempting nexus)");
	expect_uas(&c1, "", "PREEMPT AND ABORT (never registered)");

	abort_round(1, true);
	abort_round(0, true);
	abort_round(1, false);
	abort_round(0, false);
}

/* ---- REGISTER AND MOVE ---- */
static void scenario_move(void)
{
	struct result r;
	struct pr_state s;
	char before[4096], after[4096], buf[4096];
	uint8_t tid[256], bad[256];
	int len;
	uint32_t g;

	reset_pr();
	must(&a1, PRO_REGISTER, 0, 0, KA, 0, "REGISTER 0 -> KA");
	must(&b1, PRO_REGISTER, 0, 0, KB, 0, "REGISTER 0 -> KB");
	must(&a1, PRO_RESERVE, WERO, KA, 0, 0, "RESERVE WERO");
	g = pr_generation(&obs);

	/* To C1 through T1, the source stays registered (UNREG 0). */
	len = transport_id(tid, INI_C, &c1);
	prout_move(&a1, WERO, KA, KC, false, false, 1, tid, len, &r);
	expect(&r, "GOOD", "A1: REGISTER AND MOVE to C1 (TransportID name+ISID, RTPI 1), UNREG 0");
	expect_generation(++g, "REGISTER AND MOVE bumps");
	expect_reservation(WERO, KC, "C1 holds WERO with KC");
	pr_state_read(&obs, &s);
	pr_state_format(&s, buf, sizeof(buf));
	const struct full_status_entry *e = pr_entry_of(&s, &c1);

	pr_check(e && e->key == KC && e->r_holder && e->rel_tgt_id == 1,
		 "READ FULL STATUS: C1 registered with KC, R_HOLDER, RTPI 1 (%s)", buf);
	e = pr_entry_of(&s, &a1);
	pr_check(e && e->key == KA && !e->r_holder,
		 "READ FULL STATUS: A1 still registered with KA, not the holder (%s)", buf);

	/* To A's first port through T2 (RTPI 2), UNREG 1. */
	len = transport_id(tid, INI_A, &a1t2);
	prout_move(&c1, WERO, KC, KT, true, false, 2, tid, len, &r);
	expect(&r, "GOOD", "C1: REGISTER AND MOVE to A1 through T2 (RTPI 2), UNREG 1");
	expect_generation(++g, "REGISTER AND MOVE bumps");
	expect_reservation(WERO, KT, "A1@T2 holds WERO with KT");
	pr_state_read(&obs, &s);
	pr_state_format(&s, buf, sizeof(buf));
	pr_check(pr_entry_of(&s, &c1) == NULL, "UNREG 1: C1 no longer registered (%s)", buf);
	e = pr_entry_of(&s, &a1t2);
	pr_check(e && e->key == KT && e->r_holder && e->rel_tgt_id == 2,
		 "READ FULL STATUS: A1@T2 holds with KT through RTPI 2 (%s)", buf);
	pr_check(registered_with(&a1t2, KT), "A1@T2 is registered with KT");
	drain_uas();

	/* Refusals; each changes nothing. */
	snapshot(before, sizeof(before));
	len = transport_id(tid, INI_C, &c2);
	prout_move(&b1, WERO, KB, KC, false, false, 1, tid, len, &r);
	expect(&r, "RESERVATION CONFLICT", "B1 (registered, not the holder): REGISTER AND MOVE");
	prout_move(&c2, WERO, 0, KC, false, false, 1, tid, len, &r);
	expect(&r, "RESERVATION CONFLICT", "C2 (unregistered): REGISTER AND MOVE");
	prout_move(&a1t2, WERO, KX, KC, false, false, 1, tid, len, &r);
	expect(&r, "RESERVATION CONFLICT", "A1@T2 (holder): REGISTER AND MOVE with a wrong key");
	prout_move(&a1t2, WERO, KT, 0, false, false, 1, tid, len, &r);
	expect(&r, "CHECK CONDITION 5/26/00",
	       "A1@T2: REGISTER AND MOVE with SERVICE ACTION RESERVATION KEY 0");
	len = transport_id(tid, INI_A, &a1t2);
	prout_move(&a1t2, WERO, KT, KC, false, false, 2, tid, len, &r);
	expect(&r, "CHECK CONDITION 5/26/00",
	       "A1@T2: REGISTER AND MOVE to itself (its own TransportID through RTPI 2)");
	len = transport_id(tid, INI_C, &c2);
	prout_move(&a1t2, WERO, KT, KC, false, false, 9, tid, len, &r);
	expect(&r, "CHECK CONDITION 5/26/00",
	       "A1@T2: REGISTER AND MOVE through RTPI 9 (no such target port)");
	memcpy(bad, tid, (size_t)len);
	bad[0] = 0x40 | 0x00; /* FORMAT 01b, PROTOCOL IDENTIFIER 0 (Fibre Channel) */
	prout_move(&a1t2, WERO, KT, KC, false, false, 1, bad, len, &r);
	expect(&r, "CHECK CONDITION 5/26/00",
	       "A1@T2: REGISTER AND MOVE with a Fibre Channel TransportID");
	if (r.status == SCSI_STATUS_CHECK_CONDITION)
		pr_check(r.sks_valid && !r.cd && r.field >= 24,
			 "A1@T2: the field pointer points into the TransportID: %s",
			 describe_pointer(&r));
	prout_raw(&a1t2, PRO_REGISTER_AND_MOVE, WERO, 24, (uint8_t[24]){ 0 }, 24, &r);
	pr_check(r.status == SCSI_STATUS_CHECK_CONDITION && r.sense_key == 5,
		 "A1@T2: REGISTER AND MOVE without a TransportID (list of 24 bytes): %s",
		 describe(&r));
	snapshot(after, sizeof(after));
	pr_check(strcmp(before, after) == 0, "refused REGISTER AND MOVEs changed nothing (%s)",
		 after);

	/* No reservation to move: INVALID FIELD IN CDB (SPC-4 5.13.8). */
	reset_pr();
	must(&a1, PRO_REGISTER, 0, 0, KA, 0, "REGISTER 0 -> KA");
	snapshot(before, sizeof(before));
	len = transport_id(tid, INI_C, &c1);
	prout_move(&a1, WE, KA, KC, false, false, 1, tid, len, &r);
	expect(&r, "CHECK CONDITION 5/24/00", "A1 (registered): REGISTER AND MOVE with no reservation");
	snapshot(after, sizeof(after));
	pr_check(strcmp(before, after) == 0, "it changed nothing (%s)", after);

	/* Under an all-registrants reservation there is no single holder to
	 * move: RESERVATION CONFLICT (SPC-4 5.13.8). */
	reset_pr();
	must(&a1, PRO_REGISTER, 0, 0, KA, 0, "REGISTER 0 -> KA");
	must(&a1, PRO_RESERVE, WEAR, KA, 0, 0, "RESERVE WEAR");
	len = transport_id(tid, INI_C, &c1);
	prout_move(&a1, WEAR, KA, KC, false, false, 1, tid, len, &r);
	expect(&r, "RESERVATION CONFLICT", "A1: REGISTER AND MOVE of a WEAR reservation");
	expect_reservation(WEAR, 0, "still WEAR");
}

/* ---- SPEC_I_PT ---- */
static void scenario_spec_i_pt(void)
{
	struct result r;
	struct pr_state s;
	uint8_t tids[512];
	char buf[4096];
	int len;
	uint32_t g;

	reset_pr();
	g = pr_generation(&obs);
	/* Format 01b: C1's port only. */
	len = transport_id(tids, INI_C, &c1);
	prout(&a1, PRO_REGISTER, 0, 0, KA, PR_SPEC_I_PT, tids, len, &r);
	expect(&r, "GOOD", "A1: REGISTER KA, SPEC_I_PT with C1's TransportID (name+ISID)");
	expect_generation(++g, "one REGISTER with SPEC_I_PT bumps once");
	pr_state_read(&obs, &s);
	pr_state_format(&s, buf, sizeof(buf));
	pr_check(s.nentries == 2 && pr_entry_of(&s, &a1) && pr_entry_of(&s, &c1) &&
		 pr_entry_of(&s, &c1)->key == KA && pr_entry_of(&s, &c1)->rel_tgt_id == 1,
		 "READ FULL STATUS: A1 and C1 registered with KA through RTPI 1 (%s)", buf);
	pr_check(registered_with(&c1, KA), "C1 acts as registered with KA");
	pr_check(!registered_with(&c2, KA), "C2 (C's other ISID) is not registered");

	/* Format 00b: every port of initiator B, through T1 (the port the
	 * command came through) only. */
	reset_pr();
	len = transport_id(tids, INI_B, NULL);
	prout(&a1, PRO_REGISTER, 0, 0, KA, PR_SPEC_I_PT, tids, len, &r);
	expect(&r, "GOOD", "A1: REGISTER KA, SPEC_I_PT with B's TransportID (name only)");
	pr_check(registered_with(&b1, KA), "B1 (name matches, through T1) is registered with KA");
	pr_check(registered_with(&b2, KA), "B2 (name matches, through T1) is registered with KA");
	pr_check(!registered_with(&b1t2, KA), "B1@T2 (another target port) is not registered");
	pr_check(!registered_with(&c1, KA), "C1 is not registered");

	/* Two TransportIDs in one list, together with ALL_TG_PT. */
	reset_pr();
	len = transport_id(tids, INI_C, &c1);
	len += transport_id(tids + len, INI_C, &c2);
	prout(&a2, PRO_REGISTER, 0, 0, KA2, PR_SPEC_I_PT | PR_ALL_TG_PT, tids, len, &r);
	expect(&r, "GOOD", "A2: REGISTER KA2, SPEC_I_PT + ALL_TG_PT with C1 and C2");
	pr_state_read(&obs, &s);
	pr_state_format(&s, buf, sizeof(buf));
	pr_check(s.ok && pr_entry_of(&s, &c1) && pr_entry_of(&s, &c1)->all_tg_pt &&
		 pr_entry_of(&s, &c2) && pr_entry_of(&s, &c2)->all_tg_pt,
		 "READ FULL STATUS: C1's and C2's registrations have ALL_TG_PT (%s)", buf);
	pr_check(registered_with(&c1, KA2) && registered_with(&c2, KA2),
		 "C1 and C2 registered with KA2");

	/* SPEC_I_PT from a registered nexus (SPC-4 table 67, footnote c). */
	reset_pr();
	must(&a1, PRO_REGISTER, 0, 0, KA, 0, "REGISTER 0 -> KA");
	g = pr_generation(&obs);
	len = transport_id(tids, INI_C, &c1);
	prout(&a1, PRO_REGISTER, 0, KA, KA2, PR_SPEC_I_PT, tids, len, &r);
	expect(&r, "CHECK CONDITION 5/26/00", "A1 (registered): REGISTER KA -> KA2 with SPEC_I_PT");
	expect_generation(g, "the refused REGISTER did not bump");
	expect_keys((uint64_t[]){ KA }, 1, "A1 keeps KA, C1 not registered");

	/* Unregistered, both keys zero: nothing happens, GOOD. */
	prout(&b1, PRO_REGISTER, 0, 0, 0, 0, NULL, 0, &r);
	expect(&r, "GOOD", "B1 (unregistered): REGISTER 0 -> 0 (does nothing)");
	expect_keys((uint64_t[]){ KA }, 1, "B1 still not registered");

	/* A TransportID of an I_T nexus already registered. */
	reset_pr();
	must(&c1, PRO_REGISTER, 0, 0, KC, 0, "REGISTER 0 -> KC");
	g = pr_generation(&obs);
	len = transport_id(tids, INI_C, &c1);
	prout(&a1, PRO_REGISTER, 0, 0, KA, PR_SPEC_I_PT, tids, len, &r);
	expect(&r, "CHECK CONDITION 5/26/00",
	       "A1: SPEC_I_PT naming C1, which is registered already");
	expect_generation(g, "the refused REGISTER did not bump");
	pr_check(!registered_with(&a1, KA), "A1 was not registered by the refused command");
	pr_check(registered_with(&c1, KC), "C1 keeps KC");
}

/* ---- ALL_TG_PT ---- */
static void scenario_all_tg_pt(void)
{
	struct result r;
	struct pr_state s;
	char buf[4096];

	reset_pr();
	prin(&a1, PRI_REPORT_CAPABILITIES, 8, &r);
	pr_check(r.status == SCSI_STATUS_GOOD && r.len >= 4 && (r.data[2] & 0x04),
		 "REPORT CAPABILITIES: ATP_C is 1 (%s, byte 2 = %02x)", describe(&r),
		 r.len >= 4 ? r.data[2] : 0);
	must(&a1, PRO_REGISTER, 0, 0, KA, PR_ALL_TG_PT, "REGISTER 0 -> KA with ALL_TG_PT (through T1)");
	pr_state_read(&obs, &s);
	pr_state_format(&s, buf, sizeof(buf));
	const struct full_status_entry *e = pr_entry_of(&s, &a1);

	pr_check(e && e->all_tg_pt && e->key == KA,
		 "READ FULL STATUS: A1's registration has ALL_TG_PT (%s)", buf);
	/* The same initiator port through T2 is registered. */
	prout(&a1t2, PRO_REGISTER, 0, 0, KT, 0, NULL, 0, &r);
	expect(&r, "RESERVATION CONFLICT",
	       "A1@T2: REGISTER as if unregistered (key 0): it is registered (ALL_TG_PT)");
	must(&a1t2, PRO_RESERVE, EA, KA, 0, 0, "RESERVE EA with KA through T2");
	expect_reservation(EA, KA, "A1 (through T2) holds EA");
	/* Both nexuses of the port are the holder; A's other ISID is not. */
	write10(&a1, 32, 1, 0x33, &r);
	expect(&r, "GOOD", "A1@T1 (the port registered with ALL_TG_PT) WRITE under EA");
	write10(&a1t2, 32, 1, 0x33, &r);
	expect(&r, "GOOD", "A1@T2 WRITE under EA");
	read10(&a2, 32, 1, &r);
	expect(&r, "RESERVATION CONFLICT", "A2 (not registered) READ under EA");
	read10(&b1t2, 32, 1, &r);
	expect(&r, "RESERVATION CONFLICT", "B1@T2 (not registered) READ under EA");
	must(&a1t2, PRO_RELEASE, EA, KA, 0, 0, "RELEASE EA through T2");

	/* Without ALL_TG_PT, the registration is the one port's. */
	reset_pr();
	must(&b1, PRO_REGISTER, 0, 0, KB, 0, "REGISTER 0 -> KB without ALL_TG_PT");
	prout(&b1t2, PRO_RESERVE, WE, KB, 0, 0, NULL, 0, &r);
	expect(&r, "RESERVATION CONFLICT", "B1@T2: RESERVE with B1@T1's key (not registered)");
	pr_state_read(&obs, &s);
	pr_state_format(&s, buf, sizeof(buf));
	e = pr_entry_of(&s, &b1);
	pr_check(s.nentries == 1 && e && !e->all_tg_pt && e->rel_tgt_id == 1,
		 "READ FULL STATUS: one registration, RTPI 1, no ALL_TG_PT (%s)", buf);
}

/* ---- REPORT CAPABILITIES, APTPL ---- */
static void scenario_capabilities(void)
{
	struct result r;

	reset_pr();
	prin(&a1, PRI_REPORT_CAPABILITIES, 8, &r);
	expect(&r, "GOOD", "REPORT CAPABILITIES");
	if (r.status != SCSI_STATUS_GOOD || r.len < 8) {
		pr_check(false, "REPORT CAPABILITIES: %d bytes, expected 8", r.len);
		return;
	}
	unsigned char *d = r.data;

	printf("  REPORT CAPABILITIES: %02x %02x %02x %02x %02x %02x %02x %02x\n", d[0], d[1],
	       d[2], d[3], d[4], d[5], d[6], d[7]);
	pr_check(be16(d) == 8, "LENGTH is 8 (%u)", be16(d));
	pr_check(d[2] & 0x08, "SIP_C (SPEC_I_PT supported) is 1");
	pr_check(d[2] & 0x04, "ATP_C (ALL_TG_PT supported) is 1");
	pr_check(d[2] & 0x01, "PTPL_C (APTPL supported) is 1");
	pr_check(d[3] & 0x80, "TMV (type mask valid) is 1");
	int allow = (d[3] >> 4) & 0x07;

	/* 000b says nothing; 110b and 111b are reserved (SPC-4 table 163). */
	pr_check(allow <= 5, "ALLOW COMMANDS %d is a defined value", allow);
	pr_check(d[4] == 0xea && d[5] == 0x01,
		 "type mask: WR_EX_AR EX_AC_RO WR_EX_RO EX_AC WR_EX, EX_AC_AR, no reserved bit "
		 "(%02x %02x, expected ea 01)", d[4], d[5]);
	pr_check(!(d[3] & 0x01), "PTPL_A is 0 with no APTPL registration");

	must(&a1, PRO_REGISTER, 0, 0, KA, PR_APTPL, "REGISTER 0 -> KA with APTPL");
	prin(&b1, PRI_REPORT_CAPABILITIES, 8, &r);
	pr_check(r.status == SCSI_STATUS_GOOD && r.len >= 4 && (r.data[3] & 0x01),
		 "PTPL_A is 1 after a REGISTER with APTPL (byte 3 = %02x)", r.len >= 4 ? r.data[3] : 0);
	must(&b1, PRO_REGISTER, 0, 0, KB, 0, "REGISTER 0 -> KB without APTPL");
	prin(&b1, PRI_REPORT_CAPABILITIES, 8, &r);
	pr_check(r.status == SCSI_STATUS_GOOD && r.len >= 4 && !(r.data[3] & 0x01),
		 "PTPL_A is 0 after the last REGISTER cleared APTPL (byte 3 = %02x)",
		 r.len >= 4 ? r.data[3] : 0);

	/* Truncated: 4 bytes asked, 4 given, LENGTH still 8. */
	prin(&a1, PRI_REPORT_CAPABILITIES, 4, &r);
	pr_check(r.status == SCSI_STATUS_GOOD && r.len == 4 && be16(r.data) == 8,
		 "REPORT CAPABILITIES with ALLOCATION LENGTH 4: %s, %d bytes, LENGTH %u",
		 describe(&r), r.len, r.len >= 2 ? be16(r.data) : 0);
}

/* ---- READ KEYS, READ RESERVATION, READ FULL STATUS contents ---- */
static void check_entry(const struct pr_state *s, const struct nexus *m, uint64_t key,
			bool holder, int type, const char *buf)
{
	const struct full_status_entry *e = pr_entry_of(s, m);
	char isid[16];

	snprintf(isid, sizeof(isid), "%02x%06x%04x", 0x80, m->isid_rnd, m->isid_qual);
	pr_check(e != NULL, "READ FULL STATUS has %s (%s,i,0x%s, RTPI %u): %s", m->label,
		 m->initiator, isid, m->rel_tgt_id, buf);
	if (!e)
		return;
	pr_check(e->key == key, "%s: key %llx", m->label, (unsigned long long)e->key);
	pr_check(e->protocol == 5 && e->format == 1,
		 "%s: TransportID iSCSI (5) format 01b (protocol %d, format %d)", m->label,
		 e->protocol, e->format);
	pr_check(!e->all_tg_pt, "%s: ALL_TG_PT 0", m->label);
	pr_check(e->rel_tgt_id == m->rel_tgt_id, "%s: RELATIVE TARGET PORT IDENTIFIER %u",
		 m->label, e->rel_tgt_id);
	pr_check(e->r_holder == holder, "%s: R_HOLDER %d", m->label, e->r_holder);
	if (holder)
		pr_check(e->type == type && e->scope == 0, "%s: SCOPE/TYPE %d/%s", m->label,
			 e->scope, type_name(e->type));
}

static void scenario_full_status(void)
{
	struct result r;
	struct pr_state s;
	char buf[4096];

	reset_pr();
	must(&a1, PRO_REGISTER, 0, 0, KA, 0, "REGISTER 0 -> KA");
	must(&a2, PRO_REGISTER, 0, 0, KA2, 0, "REGISTER 0 -> KA2");
	must(&b1, PRO_REGISTER, 0, 0, KB, 0, "REGISTER 0 -> KB");
	must(&a1t2, PRO_REGISTER, 0, 0, KT, 0, "REGISTER 0 -> KT");
	must(&a1, PRO_RESERVE, WE, KA, 0, 0, "RESERVE WE");
	pr_state_read(&obs, &s);
	pr_state_format(&s, buf, sizeof(buf));
	pr_check(s.ok && s.nentries == 4, "READ FULL STATUS: 4 descriptors (%s)", buf);
	check_entry(&s, &a1, KA, true, WE, buf);
	check_entry(&s, &a2, KA2, false, 0, buf);
	check_entry(&s, &b1, KB, false, 0, buf);
	check_entry(&s, &a1t2, KT, false, 0, buf);

	/* The lengths: ADDITIONAL LENGTH is the sum of the descriptors, each
	 * 24 bytes plus its TransportID (a multiple of 4). */
	prin(&c1, PRI_READ_FULL_STATUS, 8192, &r);
	uint32_t alen = r.len >= 8 ? be32(r.data + 4) : 0, sum = 0;
	bool lens_ok = r.status == SCSI_STATUS_GOOD;

	for (uint32_t off = 8; lens_ok && off + 24 <= (uint32_t)r.len && off < 8 + alen;) {
		uint32_t dlen = be32(r.data + off + 20);

		lens_ok = dlen % 4 == 0 && dlen >= 24 &&
			  be16(r.data + off + 24 + 2) + 4u == dlen;
		sum += 24 + dlen;
		off += 24 + dlen;
	}
	pr_check(lens_ok && sum == alen && (uint32_t)r.len == 8 + alen,
		 "READ FULL STATUS: ADDITIONAL LENGTH %u = the descriptors' %u, %d bytes sent",
		 alen, sum, r.len);
	unsigned full_len = 8 + alen;

	/* Truncation: ALLOCATION LENGTH below the data; ADDITIONAL LENGTH
	 * still says the whole. */
	prin(&c1, PRI_READ_FULL_STATUS, 40, &r);
	pr_check(r.status == SCSI_STATUS_GOOD && r.len == 40 && be32(r.data + 4) == alen,
		 "READ FULL STATUS, ALLOCATION LENGTH 40: %s, %d bytes, ADDITIONAL LENGTH %u "
		 "(full %u)", describe(&r), r.len, r.len >= 8 ? be32(r.data + 4) : 0, full_len);
	prin(&c1, PRI_READ_KEYS, 12, &r);
	pr_check(r.status == SCSI_STATUS_GOOD && r.len == 12 && be32(r.data + 4) == 32,
		 "READ KEYS, ALLOCATION LENGTH 12: %s, %d bytes, ADDITIONAL LENGTH %u (4 keys: 32)",
		 describe(&r), r.len, r.len >= 8 ? be32(r.data + 4) : 0);
	prin(&c1, PRI_READ_RESERVATION, 8, &r);
	pr_check(r.status == SCSI_STATUS_GOOD && r.len == 8 && be32(r.data + 4) == 16,
		 "READ RESERVATION, ALLOCATION LENGTH 8: %s, %d bytes, ADDITIONAL LENGTH %u (16)",
		 describe(&r), r.len, r.len >= 8 ? be32(r.data + 4) : 0);
	prin(&c1, PRI_READ_KEYS, 0, &r);
	expect(&r, "GOOD", "READ KEYS with ALLOCATION LENGTH 0 (no data)");

	/* Every nexus reads the same generation, registered or not. */
	uint32_t g = pr_generation(&obs);

	expect_generation_from(&c2, g, "C2 (unregistered) reads the same PRgeneration");
	expect_generation_from(&b1t2, g, "B1@T2 reads the same PRgeneration");

	/* Under all-registrants every registrant is a holder, key 0. */
	must(&a1, PRO_RELEASE, WE, KA, 0, 0, "RELEASE WE");
	must(&b1, PRO_RESERVE, WEAR, KB, 0, 0, "RESERVE WEAR");
	pr_state_read(&obs, &s);
	pr_state_format(&s, buf, sizeof(buf));
	check_entry(&s, &a1, KA, true, WEAR, buf);
	check_entry(&s, &a2, KA2, true, WEAR, buf);
	check_entry(&s, &b1, KB, true, WEAR, buf);
	check_entry(&s, &a1t2, KT, true, WEAR, buf);
	pr_check(s.reserved && s.res_key == 0 && s.res_type == WEAR,
		 "READ RESERVATION under WEAR: key 0 (%s)", buf);
}

/* ---- what does not end a persistent reservation (SPC-4 5.13.1: "not
 * reset by hard reset, logical unit reset, or I_T nexus loss") ---- */
struct tmf_wait {
	bool done;
	uint32_t response;
};

static void tmf_cb(struct iscsi_context *c, int status, void *command_data, void *private)
{
	struct tmf_wait *w = private;

	(void)c;
	(void)status;
	w->done = true;
	w->response = command_data ? *(uint32_t *)command_data : 0xff;
}

static void tmf(struct nexus *n, enum iscsi_task_mgmt_funcs fn, const char *what)
{
	struct tmf_wait w = { 0 };

	if (iscsi_task_mgmt_async(n->c, 0, fn, 0xffffffff, 0, tmf_cb, &w) == 0)
		for (int i = 0; i < 1500 && !w.done; i++) {
			struct pollfd p = { .fd = iscsi_get_fd(n->c),
					    .events = (short)iscsi_which_events(n->c) };

			if (poll(&p, 1, 20) > 0 && iscsi_service(n->c, p.revents) < 0)
				break;
		}
	pr_check(w.done && w.response == 0, "%s: %s answered Function Complete (%s, response %u)",
		 n->label, what, w.done ? "answered" : "no answer", w.response);
}

static void scenario_persist(void)
{
	char before[4096], after[4096];
	struct result r;

	reset_pr();
	must(&a1, PRO_REGISTER, 0, 0, KA, 0, "REGISTER 0 -> KA");
	must(&b1, PRO_REGISTER, 0, 0, KB, 0, "REGISTER 0 -> KB");
	must(&a1, PRO_RESERVE, EA, KA, 0, 0, "RESERVE EA");
	snapshot(before, sizeof(before));

	tmf(&b1, ISCSI_TM_LUN_RESET, "LOGICAL UNIT RESET");
	drain_uas();
	snapshot(after, sizeof(after));
	pr_check(strcmp(before, after) == 0, "LOGICAL UNIT RESET: registrations and EA remain (%s)",
		 after);
	tmf(&b1, ISCSI_TM_TARGET_WARM_RESET, "TARGET WARM RESET");
	drain_uas();
	snapshot(after, sizeof(after));
	pr_check(strcmp(before, after) == 0, "TARGET WARM RESET: registrations and EA remain (%s)",
		 after);

	/* I_T nexus loss of the holder: its registration and EA stay; the
	 * same initiator port through the same target port is the same I_T
	 * nexus again when it logs back in. */
	nexus_drop(&a1);
	usleep(300 * 1000);
	snapshot(after, sizeof(after));
	pr_check(strcmp(before, after) == 0, "the holder's I_T nexus loss: state unchanged (%s)",
		 after);
	read10(&b1, 16, 1, &r);
	expect(&r, "RESERVATION CONFLICT", "B1 READ(10) under EA while the holder is away");
	nexus_login(&a1, "A1@T1", INI_A, t1, 1, 0x00a000, 1);
	write10(&a1, 16, 1, 0x44, &r);
	expect(&r, "GOOD", "A1 (back, same ISID) WRITE(10): still the EA holder");
	nexus_logout(&a1);
	snapshot(after, sizeof(after));
	pr_check(strcmp(before, after) == 0, "the holder's logout: state unchanged (%s)", after);
	nexus_login(&a1, "A1@T1", INI_A, t1, 1, 0x00a000, 1);
	must(&a1, PRO_RELEASE, EA, KA, 0, 0, "RELEASE EA (after logging in again)");
}

/* ---- bad input: the sense the standard names, nothing changed ---- */
static void unchanged(const char *before, const char *what)
{
	char after[4096];

	snapshot(after, sizeof(after));
	pr_check(strcmp(before, after) == 0, "%s: state unchanged%s%s", what,
		 strcmp(before, after) ? ": " : "", strcmp(before, after) ? after : "");
}

static void scenario_badinput(void)
{
	struct result r;
	char before[4096], what[160];
	uint8_t p[128], tids[256];
	int len;

	reset_pr();
	must(&a1, PRO_REGISTER, 0, 0, KA, 0, "REGISTER 0 -> KA");
	must(&b1, PRO_REGISTER, 0, 0, KB, 0, "REGISTER 0 -> KB");
	must(&a1, PRO_RESERVE, WE, KA, 0, 0, "RESERVE WE");
	snapshot(before, sizeof(before));
	printf("  state: %s\n", before);

	/* PARAMETER LIST LENGTH other than 24 (SPC-4 6.16.3). */
	static const int plls[] = { 0, 8, 23, 25, 32 };

	for (size_t i = 0; i < sizeof(plls) / sizeof(plls[0]); i++) {
		memset(p, 0, sizeof(p));
		for (int k = 0; k < 8; k++) {
			p[k] = (uint8_t)(KB >> (56 - 8 * k));
			p[8 + k] = (uint8_t)(KX >> (56 - 8 * k));
		}
		snprintf(what, sizeof(what), "B1: REGISTER KB -> KX with PARAMETER LIST LENGTH %d",
			 plls[i]);
		prout_raw(&b1, PRO_REGISTER, 0, (uint32_t)plls[i], p, plls[i], &r);
		expect(&r, "CHECK CONDITION 5/1A/00", "%s", what);
		unchanged(before, what);
	}

	/* Unsupported types and scopes (CDB byte 2). */
	static const int bad_types[] = { 0, 2, 4, 9, 0xf };

	for (size_t i = 0; i < sizeof(bad_types) / sizeof(bad_types[0]); i++) {
		snprintf(what, sizeof(what), "B1: RESERVE TYPE %d", bad_types[i]);
		prout(&b1, PRO_RESERVE, bad_types[i], KB, 0, 0, NULL, 0, &r);
		expect(&r, "CHECK CONDITION 5/24/00", "%s", what);
		/* The bit pointer names a field's most significant bit
		 * (SPC-4 4.5.2.4.2): TYPE is bits 3..0. */
		expect_pointer(&r, true, 2, 3, what);
		unchanged(before, what);
		snprintf(what, sizeof(what), "B1: PREEMPT TYPE %d of KA", bad_types[i]);
		prout(&b1, PRO_PREEMPT, bad_types[i], KB, KA, 0, NULL, 0, &r);
		expect(&r, "CHECK CONDITION 5/24/00", "%s", what);
		expect_pointer(&r, true, 2, 3, what);
		unchanged(before, what);
	}
	for (int scope = 1; scope < 16; scope += 7) {
		snprintf(what, sizeof(what), "A1: RESERVE WE with SCOPE %d", scope);
		prout_raw(&a1, PRO_RESERVE, (uint8_t)(scope << 4 | WE), 24,
			  (uint8_t[24]){ (uint8_t)(KA >> 56), (uint8_t)(KA >> 48), (uint8_t)(KA >> 40),
					 (uint8_t)(KA >> 32), (uint8_t)(KA >> 24), (uint8_t)(KA >> 16),
					 (uint8_t)(KA >> 8), (uint8_t)KA },
			  24, &r);
		expect(&r, "CHECK CONDITION 5/24/00", "%s", what);
		expect_pointer(&r, true, 2, 7, what); /* SCOPE: bits 7..4 */
		unchanged(before, what);
	}

	/* The service action ranges. */
	for (int sa = 8; sa <= 0x1f; sa++) {
		snprintf(what, sizeof(what), "B1: PERSISTENT RESERVE OUT service action 0x%02x", sa);
		prout(&b1, sa, WE, KB, 0, 0, NULL, 0, &r);
		/* 08h is REPLACE LOST RESERVATION: with nothing lost, INVALID
		 * RELEASE OF PERSISTENT RESERVATION (SPC-4 5.13.11.3); a
		 * device server without it refuses the service action. */
		if (sa == 8 && r.status == SCSI_STATUS_CHECK_CONDITION && r.asc == 0x26) {
			expect(&r, "CHECK CONDITION 5/26/04", "%s (REPLACE LOST RESERVATION)", what);
			continue;
		}
		expect(&r, "CHECK CONDITION 5/24/00", "%s", what);
		expect_pointer(&r, true, 1, 4, what); /* SERVICE ACTION: bits 4..0 */
	}
	for (int sa = 4; sa <= 0x1f; sa++) {
		snprintf(what, sizeof(what), "B1: PERSISTENT RESERVE IN service action 0x%02x", sa);
		prin(&b1, sa, 8192, &r);
		expect(&r, "CHECK CONDITION 5/24/00", "%s", what);
		expect_pointer(&r, true, 1, 4, what);
	}
	unchanged(before, "after the service action ranges");

	/* A key of zero where it is forbidden. */
	snprintf(what, sizeof(what), "B1: PREEMPT with SERVICE ACTION RESERVATION KEY 0 (WE held)");
	prout(&b1, PRO_PREEMPT, WE, KB, 0, 0, NULL, 0, &r);
	expect(&r, "CHECK CONDITION 5/26/00", "%s", what);
	expect_pointer(&r, false, 8, -1, what);
	unchanged(before, what);
	len = transport_id(tids, INI_C, &c1);
	snprintf(what, sizeof(what), "A1: REGISTER AND MOVE with SERVICE ACTION RESERVATION KEY 0");
	prout_move(&a1, WE, KA, 0, false, false, 1, tids, len, &r);
	expect(&r, "CHECK CONDITION 5/26/00", "%s", what);
	expect_pointer(&r, false, 8, -1, what);
	unchanged(before, what);

	/* SPEC_I_PT with REGISTER AND IGNORE EXISTING KEY. */
	snprintf(what, sizeof(what), "C1: REGISTER AND IGNORE with SPEC_I_PT");
	len = transport_id(tids, INI_C, &c2);
	prout(&c1, PRO_REGISTER_AND_IGNORE, 0, 0, KC, PR_SPEC_I_PT, tids, len, &r);
	expect(&r, "CHECK CONDITION 5/26/00", "%s", what);
	expect_pointer(&r, false, 20, 3, what);
	unchanged(before, what);

	/* SPEC_I_PT with any other service action (SPC-4 6.16.3): refused,
	 * and the action (a CLEAR!) not done. */
	static const struct {
		int sa;
		const char *name;
	} not_register[] = {
		{ PRO_RESERVE, "RESERVE WE" },
		{ PRO_RELEASE, "RELEASE WE" },
		{ PRO_CLEAR, "CLEAR" },
		{ PRO_PREEMPT, "PREEMPT WE of KB" },
		{ PRO_PREEMPT_AND_ABORT, "PREEMPT AND ABORT WE of KB" },
	};

	for (size_t i = 0; i < sizeof(not_register) / sizeof(not_register[0]); i++) {
		len = transport_id(tids, INI_C, &c2);
		snprintf(what, sizeof(what), "A1 (the holder): %s with SPEC_I_PT",
			 not_register[i].name);
		prout(&a1, not_register[i].sa, WE, KA, KB, PR_SPEC_I_PT, tids, len, &r);
		expect(&r, "CHECK CONDITION 5/26/00", "%s", what);
		expect_pointer(&r, false, 20, 3, what);
		unchanged(before, what);
	}

	/* SPEC_I_PT with a list too short for its TransportID length. */
	snprintf(what, sizeof(what), "C1: REGISTER SPEC_I_PT with PARAMETER LIST LENGTH 24");
	memset(p, 0, sizeof(p));
	p[15] = 0x42;
	p[20] = PR_SPEC_I_PT;
	prout_raw(&c1, PRO_REGISTER, 0, 24, p, 24, &r);
	expect(&r, "CHECK CONDITION 5/1A/00", "%s", what);
	unchanged(before, what);

	/* Bad TransportIDs (SPC-4 7.6.4.6, 6.16.3). */
	struct {
		const char *name;
		int byte;      /* which byte of the TransportID to spoil */
		uint8_t value;
		bool or_length_error; /* PARAMETER LIST LENGTH ERROR is as right */
	} bad_tids[] = {
		{ "PROTOCOL IDENTIFIER 0 (Fibre Channel)", 0, 0x40 | 0x0, false },
		{ "PROTOCOL IDENTIFIER 0xf", 0, 0x40 | 0xf, false },
		{ "FORMAT CODE 10b", 0, 0x80 | 0x5, false },
		{ "ADDITIONAL LENGTH 18 (not a multiple of 4)", 3, 18, false },
		{ "ADDITIONAL LENGTH 8 (below 20)", 3, 8, false },
		{ "ADDITIONAL LENGTH beyond the list", 3, 200, true },
	};

	for (size_t i = 0; i < sizeof(bad_tids) / sizeof(bad_tids[0]); i++) {
		len = transport_id(tids, INI_C, &c2);
		tids[bad_tids[i].byte] = bad_tids[i].value;
		snprintf(what, sizeof(what), "C1: REGISTER SPEC_I_PT with a TransportID: %s",
			 bad_tids[i].name);
		prout(&c1, PRO_REGISTER, 0, 0, KC, PR_SPEC_I_PT, tids, len, &r);
		if (bad_tids[i].or_length_error && r.status == SCSI_STATUS_CHECK_CONDITION &&
		    r.sense_key == 5 && r.asc == 0x1a && r.ascq == 0)
			expect(&r, "CHECK CONDITION 5/1A/00", "%s", what);
		else
			expect(&r, "CHECK CONDITION 5/26/00", "%s", what);
		if (r.status == SCSI_STATUS_CHECK_CONDITION && r.asc == 0x26)
			pr_check(r.sks_valid && !r.cd && r.field >= 24 && r.field < 28u + len,
				 "%s: field pointer %s (within the TransportID list, bytes 24..%d)",
				 what, describe_pointer(&r), 27 + len);
		unchanged(before, what);
	}
	/* A name that is not NUL-terminated within its ADDITIONAL LENGTH. */
	len = transport_id(tids, INI_C, &c2);
	memset(tids + 4, 'x', (size_t)len - 4);
	snprintf(what, sizeof(what), "C1: REGISTER SPEC_I_PT, TransportID name without NUL");
	prout(&c1, PRO_REGISTER, 0, 0, KC, PR_SPEC_I_PT, tids, len, &r);
	expect(&r, "CHECK CONDITION 5/26/00", "%s", what);
	unchanged(before, what);
	/* TRANSPORTID PARAMETER DATA LENGTH beyond the list. */
	len = transport_id(tids, INI_C, &c2);
	memset(p, 0, sizeof(p));
	for (int k = 0; k < 8; k++)
		p[8 + k] = (uint8_t)(KC >> (56 - 8 * k));
	p[20] = PR_SPEC_I_PT;
	p[27] = (uint8_t)(len + 8);
	memcpy(p + 28, tids, (size_t)len);
	snprintf(what, sizeof(what), "C1: REGISTER SPEC_I_PT, TRANSPORTID PARAMETER DATA LENGTH "
		 "%d with %d bytes of TransportIDs", len + 8, len);
	prout_raw(&c1, PRO_REGISTER, 0, (uint32_t)(28 + len), p, 28 + len, &r);
	pr_check(r.status == SCSI_STATUS_CHECK_CONDITION && r.sense_key == 5 &&
		 ((r.asc == 0x1a && r.ascq == 0) || (r.asc == 0x26 && r.ascq == 0)),
		 "%s: %s (PARAMETER LIST LENGTH ERROR or INVALID FIELD IN PARAMETER LIST)", what,
		 describe(&r));
	unchanged(before, what);
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		void (*run)(void);
	} scenarios[] = {
		{ "register", scenario_register },
		{ "reserve", scenario_reserve },
		{ "types", scenario_types },
		{ "clear", scenario_clear },
		{ "preempt", scenario_preempt },
		{ "abort", scenario_abort },
		{ "move", scenario_move },
		{ "spec_i_pt", scenario_spec_i_pt },
		{ "all_tg_pt", scenario_all_tg_pt },
		{ "capabilities", scenario_capabilities },
		{ "full_status", scenario_full_status },
		{ "badinput", scenario_badinput },
		{ "persist", scenario_persist },
	};
	char prog[64];

	if (argc != 5) {
		fprintf(stderr, "usage: %s HOST:PORT TARGET1 TARGET2 SCENARIO|all\n", argv[0]);
		return 2;
	}
	pr_portal = argv[1];
	t1 = argv[2];
	t2 = argv[3];
	snprintf(prog, sizeof(prog), "pr_scenarios %s", argv[4]);
	if (!login_all())
		return pr_summary(prog);
	struct result caps;

	prin(&obs, PRI_REPORT_CAPABILITIES, 8, &caps);
	if (caps.status == SCSI_STATUS_GOOD && caps.len >= 4)
		allow_commands = (caps.data[3] >> 4) & 0x07;
	printf("  REPORT CAPABILITIES: %s, ALLOW COMMANDS %d\n", describe(&caps), allow_commands);
	bool found = false;

	for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++) {
		if (strcmp(argv[4], "all") && strcmp(argv[4], scenarios[i].name))
			continue;
		found = true;
		printf("--- scenario %s\n", scenarios[i].name);
		scenarios[i].run();
	}
	if (!found) {
		fprintf(stderr, "pr_scenarios: unknown scenario '%s'\n", argv[4]);
		return 2;
	}
	/* Leave nothing behind for the script's liveness check. */
	reset_pr();
	for (size_t i = 0; i < NEVERYONE; i++)
		nexus_logout(everyone[i]);
	return pr_summary(prog);
}
