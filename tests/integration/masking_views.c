/* LUN masking as libiscsi initiators see it: several contexts, several
 * initiator names, two ISIDs per name, on masking.sh's first
 * configuration (target T with a default LUN and groups hostsA and
 * hostsB; target P for a1 only).
 *
 * For each initiator: REPORT LUNS lists its group's LUNs; INQUIRY page
 * 0x83's T10 vendor ID designator names the device behind each; a WRITE
 * to shared is GOOD for hostsA and DATA PROTECT / WRITE PROTECTED for
 * hostsB, and MODE SENSE's WP bit says the same; SendTargets (a discovery
 * session) lists the targets it may log in to; the login of b1 to P is
 * refused with Authorization Failure.
 *
 * usage: masking_views 127.0.0.1:PORT TARGET_T TARGET_P
 * Prints a line per check; exits 1 on any failure. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

static int failures;

static void check(bool ok, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs(ok ? "ok: " : "FAIL: ", stdout);
	vprintf(fmt, ap);
	putchar('\n');
	va_end(ap);
	failures += !ok;
}

static const char *portal, *target_t, *target_p;

static struct iscsi_context *login(const char *initiator, const char *target, uint32_t isid)
{
	struct iscsi_context *c = iscsi_create_context(initiator);

	if (!c)
		return NULL;
	iscsi_set_isid_random(c, isid, 0);
	iscsi_set_targetname(c, target);
	iscsi_set_session_type(c, ISCSI_SESSION_NORMAL);
	iscsi_set_header_digest(c, ISCSI_HEADER_DIGEST_NONE);
	if (iscsi_full_connect_sync(c, portal, 0) != 0) {
		printf("  (login of %s to %s: %s)\n", initiator, target, iscsi_get_error(c));
		iscsi_destroy_context(c);
		return NULL;
	}
	return c;
}

/* TEST UNIT READY until GOOD: a new nexus starts with unit attentions. */
static void settle(struct iscsi_context *c, int lun)
{
	for (int i = 0; i < 8; i++) {
		struct scsi_task *t = iscsi_testunitready_sync(c, lun);
		bool good = t && t->status == SCSI_STATUS_GOOD;

		if (t)
			scsi_free_scsi_task(t);
		if (good)
			return;
	}
}

/* The LUNs REPORT LUNS lists, as "0 1 " into @out. */
static void report_luns(struct iscsi_context *c, char *out, size_t len)
{
	struct scsi_task *t = iscsi_reportluns_sync(c, 0, 4096);

	out[0] = '\0';
	if (!t || t->status != SCSI_STATUS_GOOD || t->datain.size < 8) {
		snprintf(out, len, "(REPORT LUNS failed)");
	} else {
		uint32_t n = (uint32_t)(t->datain.data[0] << 24 | t->datain.data[1] << 16 |
					t->datain.data[2] << 8 | t->datain.data[3]) / 8;

		for (uint32_t i = 0; i < n && 8 + 8 * i + 1 < (uint32_t)t->datain.size; i++) {
			const unsigned char *d = t->datain.data + 8 + 8 * i;
			size_t used = strlen(out);

			snprintf(out + used, len - used, "%u ", (unsigned)((d[0] & 0x3f) << 8 | d[1]));
		}
	}
	if (t)
		scsi_free_scsi_task(t);
}

/* The device name in the T10 vendor ID designator of page 0x83 (t10_dev_id
 * defaults to it), after the 8-byte vendor field. */
static void device_of(struct iscsi_context *c, int lun, char *out, size_t len)
{
	struct scsi_task *t = iscsi_inquiry_sync(c, lun, 1, 0x83, 255);

	snprintf(out, len, "(INQUIRY failed)");
	if (t && t->status == SCSI_STATUS_GOOD) {
		const unsigned char *d = t->datain.data;
		int pos = 4, size = t->datain.size;

		while (pos + 4 <= size) {
			int dlen = d[pos + 3];

			if ((d[pos + 1] & 0x0f) == 1 && dlen > 8 && pos + 4 + dlen <= size) {
				int n = dlen - 8;

				while (n > 0 && (d[pos + 12 + n - 1] == ' ' || d[pos + 12 + n - 1] == 0))
					n--;
				snprintf(out, len, "%.*s", n, (const char *)d + pos + 12);
				break;
			}
			pos += 4 + dlen;
		}
	}
	if (t)
		scsi_free_scsi_task(t);
}

static bool write_protected(struct iscsi_context *c, int lun)
{
	struct scsi_task *t = iscsi_modesense6_sync(c, lun, 0, SCSI_MODESENSE_PC_CURRENT,
						    SCSI_MODEPAGE_RETURN_ALL_PAGES, 0, 255);
	bool wp = t && t->status == SCSI_STATUS_GOOD && t->datain.size >= 4 &&
		  (t->datain.data[2] & 0x80);

	if (t)
		scsi_free_scsi_task(t);
	return wp;
}

/* 0: GOOD; 1: DATA PROTECT / WRITE PROTECTED; -1: anything else. */
static int write_block(struct iscsi_context *c, int lun, uint32_t lba)
{
	unsigned char buf[512];
	struct scsi_task *t;
	int rc = -1;

	memset(buf, 0xa5, sizeof(buf));
	t = iscsi_write10_sync(c, lun, lba, buf, sizeof(buf), 512, 0, 0, 0, 0, 0);
	if (t && t->status == SCSI_STATUS_GOOD)
		rc = 0;
	else if (t && t->status == SCSI_STATUS_CHECK_CONDITION &&
		 t->sense.key == SCSI_SENSE_DATA_PROTECTION && t->sense.ascq == 0x2700)
		rc = 1;
	if (t)
		scsi_free_scsi_task(t);
	return rc;
}

/* The targets a discovery session lists, sorted, as "a b ". */
static void send_targets(const char *initiator, char *out, size_t len)
{
	struct iscsi_context *c = iscsi_create_context(initiator);
	struct iscsi_discovery_address *da, *p;
	const char *names[16];
	unsigned n = 0;

	snprintf(out, len, "(discovery failed)");
	if (!c)
		return;
	iscsi_set_session_type(c, ISCSI_SESSION_DISCOVERY);
	if (iscsi_connect_sync(c, portal) || iscsi_login_sync(c)) {
		iscsi_destroy_context(c);
		return;
	}
	da = iscsi_discovery_sync(c);
	for (p = da; p && n < 16; p = p->next)
		names[n++] = p->target_name;
	for (unsigned i = 1; i < n; i++)
		for (unsigned j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
			const char *x = names[j];

			names[j] = names[j - 1];
			names[j - 1] = x;
		}
	out[0] = '\0';
	for (unsigned i = 0; i < n; i++) {
		size_t used = strlen(out);

		snprintf(out + used, len - used, "%s ", names[i]);
	}
	if (da)
		iscsi_free_discovery_data(c, da);
	iscsi_logout_sync(c);
	iscsi_destroy_context(c);
}

struct view {
	const char *initiator;
	const char *luns;      /* REPORT LUNS */
	const char *devices[2]; /* behind LUN 0 and 1 */
	bool shared_ro;        /* LUN 0 is shared, read-only for it */
	bool shared;           /* LUN 0 is shared */
	const char *targets;   /* SendTargets, with %s for T and P */
};

int main(int argc, char **argv)
{
	char got[512], want[512];

	if (argc != 4) {
		fprintf(stderr, "usage: %s HOST:PORT TARGET_T TARGET_P\n", argv[0]);
		return 2;
	}
	portal = argv[1];
	target_t = argv[2];
	target_p = argv[3];

	const struct view views[] = {
		{ "iqn.2026-12.test:a1", "0 1 ", { "shared", "a_only" }, false, true, "TP" },
		{ "iqn.2026-12.test:a7", "0 1 ", { "shared", "a_only" }, false, true, "T" },
		{ "iqn.2026-12.test:a-bad", "0 ", { "pub", NULL }, false, false, "T" },
		{ "iqn.2026-12.test:b1", "0 ", { "shared", NULL }, true, true, "T" },
		{ "iqn.2026-12.test:b2", "0 ", { "shared", NULL }, true, true, "T" },
		{ "iqn.2026-12.test:c9", "0 ", { "pub", NULL }, false, false, "T" },
	};

	for (size_t v = 0; v < sizeof(views) / sizeof(views[0]); v++) {
		const struct view *w = &views[v];

		/* Two ISIDs: two I_T nexuses of one initiator name see the
		 * same thing. */
		for (uint32_t isid = 1; isid <= 2; isid++) {
			struct iscsi_context *c = login(w->initiator, target_t, 0x1000 + v * 4 + isid);

			check(c != NULL, "%s (ISID %u) logs in to %s", w->initiator, isid, target_t);
			if (!c)
				continue;
			settle(c, 0);
			report_luns(c, got, sizeof(got));
			check(strcmp(got, w->luns) == 0, "%s: REPORT LUNS '%s', expected '%s'",
			      w->initiator, got, w->luns);
			for (int lun = 0; lun < 2 && w->devices[lun]; lun++) {
				settle(c, lun);
				device_of(c, lun, got, sizeof(got));
				check(strcmp(got, w->devices[lun]) == 0, "%s: LUN %d is %s (%s)",
				      w->initiator, lun, w->devices[lun], got);
			}
			if (w->shared) {
				int rc = write_block(c, 0, 4096 + (uint32_t)v);

				check(rc == (w->shared_ro ? 1 : 0), "%s: WRITE to shared %s (%d)",
				      w->initiator, w->shared_ro ? "is WRITE PROTECTED" : "is GOOD",
				      rc);
				check(write_protected(c, 0) == w->shared_ro, "%s: MODE SENSE WP %s",
				      w->initiator, w->shared_ro ? "set" : "clear");
			}
			iscsi_logout_sync(c);
			iscsi_destroy_context(c);
		}
		snprintf(want, sizeof(want), "%s%s%s%s", target_t, " ",
			 strchr(w->targets, 'P') ? target_p : "", strchr(w->targets, 'P') ? " " : "");
		send_targets(w->initiator, got, sizeof(got));
		check(strcmp(got, want) == 0, "%s: SendTargets '%s', expected '%s'", w->initiator,
		      got, want);
	}

	struct iscsi_context *c = login("iqn.2026-12.test:b1", target_p, 0x2001);

	check(c == NULL, "b1's login to %s is refused", target_p);
	if (c) {
		iscsi_logout_sync(c);
		iscsi_destroy_context(c);
	}
	c = login("iqn.2026-12.test:a1", target_p, 0x2002);
	check(c != NULL, "a1's login to %s is accepted", target_p);
	if (c) {
		iscsi_logout_sync(c);
		iscsi_destroy_context(c);
	}
	printf("%s\n", failures ? "masking_views: FAILED" : "masking_views: all checks passed");
	return failures ? 1 : 0;
}
