/* Login variants as real initiators use them, driven through libiscsi.
 *
 * open-iscsi, VMware and Windows differ in HeaderDigest, ImmediateData and
 * InitialR2T (and in the burst and segment lengths, which libiscsi does
 * not let us choose: it offers 262144 for all three). For each of the
 * eight combinations this program logs in, checks what the target
 * answered for the keys it offered, writes a distinct pseudo-random
 * pattern of sizes that cross FirstBurstLength and MaxBurstLength
 * (immediate data alone, immediate or unsolicited data followed by R2T
 * sequences, many R2T sequences), reads it back in the same session and
 * in a second session logged in with the opposite settings, and compares
 * byte for byte.
 *
 * usage: variants iscsi://127.0.0.1:PORT/TARGET/LUN INITIATOR_NAME
 * Prints one line per combination; exits 1 on any error or mismatch. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

/* The settings one login offers. */
struct variant {
	bool header_crc;
	bool immediate_data;
	bool initial_r2t;
};

/* Transfer sizes in bytes: one sector; a page; just over the 64 KiB
 * FirstBurstLength Windows and VMware use; exactly libiscsi's 256 KiB
 * bursts; past 1 MiB (several R2T sequences after a full unsolicited
 * burst); 8 MiB (32 bursts, many Data-In sequences). */
static const uint32_t write_sizes[] = {
	512, 4096, 65 * 1024 + 512, 256 * 1024, 1024 * 1024 + 4096, 8 * 1024 * 1024,
};
#define NSIZES (sizeof(write_sizes) / sizeof(write_sizes[0]))
#define NVARIANTS 8
/* Each variant writes into its own 16 MiB area of the LUN, the sizes one
 * after another, each starting 7 sectors past a 1 MiB boundary so that no
 * transfer is aligned to anything the target might favour. */
#define AREA_BYTES (16u * 1024 * 1024)

static int failures;

static void fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("FAIL: ", stdout);
	vprintf(fmt, ap);
	putchar('\n');
	va_end(ap);
	failures++;
}

static struct variant variant_of(unsigned i)
{
	return (struct variant){
		.header_crc = i & 1,
		.immediate_data = i & 2,
		.initial_r2t = i & 4,
	};
}

static void variant_name(struct variant v, char *buf, size_t len)
{
	snprintf(buf, len, "HeaderDigest=%s ImmediateData=%s InitialR2T=%s",
		 v.header_crc ? "CRC32C" : "None", v.immediate_data ? "Yes" : "No",
		 v.initial_r2t ? "Yes" : "No");
}

/* ------------------------------------------------------------------ */
/* What the target answered at login: libiscsi logs each key of the Login
 * Response at level 6, through a log function without a context pointer,
 * so the lines are collected in a global while one login runs. */

static char login_reply[4096];

static void capture_log(int level, const char *message)
{
	static const char prefix[] = "TargetLoginReply: ";
	const char *p = strstr(message, prefix);
	(void)level;
	if (!p)
		return;
	/* libiscsi appends " [target name]"; no key or value has a space. */
	p += strlen(prefix);
	size_t used = strlen(login_reply);
	snprintf(login_reply + used, sizeof(login_reply) - used, "%.*s\n", (int)strcspn(p, " "), p);
}

/* The value the target gave for @key, or NULL. */
static const char *reply_value(const char *key, char *buf, size_t len)
{
	size_t klen = strlen(key);
	for (const char *line = login_reply; *line;) {
		const char *end = strchr(line, '\n');
		if (!end)
			break;
		if ((size_t)(end - line) > klen && !strncmp(line, key, klen) && line[klen] == '=') {
			snprintf(buf, len, "%.*s", (int)(end - line - klen - 1), line + klen + 1);
			return buf;
		}
		line = end + 1;
	}
	return NULL;
}

static void expect_reply(const char *who, const char *key, const char *want)
{
	char buf[64];
	const char *got = reply_value(key, buf, sizeof(buf));
	if (!got)
		fail("%s: target did not answer %s", who, key);
	else if (strcmp(got, want) != 0)
		fail("%s: target answered %s=%s, expected %s", who, key, got, want);
}

/* Numerical key the target answered or declared; must lie in [lo, hi]. */
static uint32_t expect_number(const char *who, const char *key, uint32_t lo, uint32_t hi)
{
	char buf[64];
	const char *got = reply_value(key, buf, sizeof(buf));
	if (!got) {
		fail("%s: target did not answer %s", who, key);
		return 0;
	}
	unsigned long v = strtoul(got, NULL, 0);
	if (v < lo || v > hi)
		fail("%s: %s=%lu outside [%u, %u]", who, key, v, lo, hi);
	return (uint32_t)v;
}

/* Checks the Login Response against what @v offered (RFC 7143 13: the
 * digest is the first of our list the target accepts; ImmediateData is
 * the AND and InitialR2T the OR of both sides; the burst lengths the
 * minimum, never above the 262144 libiscsi offers). */
static void check_negotiated(const char *who, struct variant v)
{
	expect_reply(who, "HeaderDigest", v.header_crc ? "CRC32C" : "None");
	expect_reply(who, "ImmediateData", v.immediate_data ? "Yes" : "No");
	expect_reply(who, "InitialR2T", v.initial_r2t ? "Yes" : "No");
	uint32_t first = expect_number(who, "FirstBurstLength", 512, 262144);
	uint32_t max = expect_number(who, "MaxBurstLength", 512, 262144);
	if (first > max)
		fail("%s: FirstBurstLength %u above MaxBurstLength %u", who, first, max);
	expect_number(who, "MaxRecvDataSegmentLength", 512, 16777215);
}

/* ------------------------------------------------------------------ */
/* Sessions. */

static struct iscsi_context *login(const struct iscsi_url *url, const char *initiator,
				   struct variant v, const char *who)
{
	struct iscsi_context *iscsi = iscsi_create_context(initiator);
	if (!iscsi) {
		fail("%s: cannot create a libiscsi context", who);
		return NULL;
	}
	login_reply[0] = '\0';
	iscsi_set_log_fn(iscsi, capture_log);
	iscsi_set_log_level(iscsi, 6);
	iscsi_set_header_digest(iscsi, v.header_crc ? ISCSI_HEADER_DIGEST_CRC32C
						 : ISCSI_HEADER_DIGEST_NONE);
	iscsi_set_immediate_data(iscsi, v.immediate_data ? ISCSI_IMMEDIATE_DATA_YES
							 : ISCSI_IMMEDIATE_DATA_NO);
	iscsi_set_initial_r2t(iscsi, v.initial_r2t ? ISCSI_INITIAL_R2T_YES : ISCSI_INITIAL_R2T_NO);
	iscsi_set_targetname(iscsi, url->target);
	iscsi_set_session_type(iscsi, ISCSI_SESSION_NORMAL);
	/* A dead target fails the command instead of hanging the test. */
	iscsi_set_timeout(iscsi, 30);
	if (iscsi_full_connect_sync(iscsi, url->portal, url->lun) != 0) {
		fail("%s: login failed: %s", who, iscsi_get_error(iscsi));
		iscsi_destroy_context(iscsi);
		return NULL;
	}
	/* Logging at level 6 is for the login only. */
	iscsi_set_log_level(iscsi, 0);
	check_negotiated(who, v);
	return iscsi;
}

static void logout(struct iscsi_context *iscsi)
{
	iscsi_logout_sync(iscsi);
	iscsi_destroy_context(iscsi);
}

/* A session's first commands may meet a unit attention (power on, or
 * another session's I_T nexus loss): TEST UNIT READY until it passes. */
static bool clear_unit_attentions(struct iscsi_context *iscsi, int lun, const char *who)
{
	for (int i = 0; i < 5; i++) {
		struct scsi_task *t = iscsi_testunitready_sync(iscsi, lun);
		bool good = t && t->status == SCSI_STATUS_GOOD;
		if (t)
			scsi_free_scsi_task(t);
		if (good)
			return true;
	}
	fail("%s: TEST UNIT READY does not succeed: %s", who, iscsi_get_error(iscsi));
	return false;
}

static uint32_t block_size(struct iscsi_context *iscsi, int lun, uint64_t *blocks)
{
	struct scsi_task *t = iscsi_readcapacity16_sync(iscsi, lun);
	uint32_t bs = 0;
	if (t && t->status == SCSI_STATUS_GOOD) {
		struct scsi_readcapacity16 *rc = scsi_datain_unmarshall(t);
		if (rc) {
			bs = rc->block_length;
			*blocks = rc->returned_lba + 1;
		}
	}
	if (t)
		scsi_free_scsi_task(t);
	return bs;
}

/* ------------------------------------------------------------------ */
/* Data. */

/* xorshift64*: a different stream for every (variant, size) pair. */
static void fill_pattern(uint8_t *buf, uint32_t len, unsigned variant, unsigned size_index)
{
	uint64_t x = 0x9e3779b97f4a7c15ull * (variant * NSIZES + size_index + 1);
	for (uint32_t i = 0; i < len; i += 8) {
		x ^= x >> 12;
		x ^= x << 25;
		x ^= x >> 27;
		uint64_t v = x * 0x2545f4914f6cdd1dull;
		memcpy(buf + i, &v, len - i < 8 ? len - i : 8);
	}
}

static uint64_t lba_of(unsigned variant, unsigned size_index, uint32_t bs)
{
	uint64_t off = (uint64_t)variant * AREA_BYTES + 7u * bs;
	for (unsigned i = 0; i < size_index; i++)
		off += ((write_sizes[i] + 1024 * 1024 - 1) / (1024 * 1024)) * 1024 * 1024;
	return off / bs;
}

static bool write_one(struct iscsi_context *iscsi, int lun, uint64_t lba, uint8_t *data,
		      uint32_t len, uint32_t bs, const char *who)
{
	struct scsi_task *t = iscsi_write16_sync(iscsi, lun, lba, data, len, (int)bs, 0, 0, 0, 0, 0);
	bool ok = t && t->status == SCSI_STATUS_GOOD;
	if (!ok)
		fail("%s: WRITE(16) of %u bytes at LBA %" PRIu64 " failed: %s", who, len, lba,
		     iscsi_get_error(iscsi));
	if (t)
		scsi_free_scsi_task(t);
	return ok;
}

/* Reads @len bytes at @lba and compares them with @want. */
static bool read_compare(struct iscsi_context *iscsi, int lun, uint64_t lba, const uint8_t *want,
			 uint32_t len, uint32_t bs, const char *who)
{
	struct scsi_task *t = iscsi_read16_sync(iscsi, lun, lba, len, (int)bs, 0, 0, 0, 0, 0);
	bool ok = false;
	if (!t || t->status != SCSI_STATUS_GOOD) {
		fail("%s: READ(16) of %u bytes at LBA %" PRIu64 " failed: %s", who, len, lba,
		     iscsi_get_error(iscsi));
	} else if ((uint32_t)t->datain.size != len) {
		fail("%s: READ(16) at LBA %" PRIu64 " returned %d bytes, expected %u", who, lba,
		     t->datain.size, len);
	} else {
		ok = true;
		for (uint32_t i = 0; i < len; i++) {
			if (t->datain.data[i] != want[i]) {
				ok = false;
				fail("%s: %u-byte transfer at LBA %" PRIu64
				     " differs at byte %u (read 0x%02x, wrote 0x%02x)",
				     who, len, lba, i, t->datain.data[i], want[i]);
				break;
			}
		}
	}
	if (t)
		scsi_free_scsi_task(t);
	return ok;
}

/* ------------------------------------------------------------------ */

static bool run_variant(const struct iscsi_url *url, const char *initiator, unsigned vi,
			uint8_t *buf)
{
	struct variant v = variant_of(vi), other = variant_of(NVARIANTS - 1 - vi);
	char name[96], who[128], other_who[128];
	variant_name(v, name, sizeof(name));
	snprintf(who, sizeof(who), "[%s]", name);
	variant_name(other, other_who + 1, sizeof(other_who) - 2);
	other_who[0] = '[';
	strcat(other_who, "]");
	int before = failures;

	struct iscsi_context *iscsi = login(url, initiator, v, who);
	if (!iscsi)
		return false;
	uint64_t blocks = 0;
	uint32_t bs = 0;
	if (clear_unit_attentions(iscsi, url->lun, who))
		bs = block_size(iscsi, url->lun, &blocks);
	if (bs == 0 || blocks * bs < (uint64_t)NVARIANTS * AREA_BYTES) {
		fail("%s: LUN too small or capacity unreadable (block %u, %" PRIu64 " blocks)", who,
		     bs, blocks);
		logout(iscsi);
		return false;
	}
	for (unsigned s = 0; s < NSIZES && failures == before; s++) {
		uint64_t lba = lba_of(vi, s, bs);
		fill_pattern(buf, write_sizes[s], vi, s);
		if (write_one(iscsi, url->lun, lba, buf, write_sizes[s], bs, who))
			read_compare(iscsi, url->lun, lba, buf, write_sizes[s], bs, who);
	}
	logout(iscsi);
	if (failures != before)
		return false;

	/* The data is on the LUN, not in something of the first session's:
	 * a second session with every setting flipped reads it back. */
	iscsi = login(url, initiator, other, other_who);
	if (!iscsi)
		return false;
	clear_unit_attentions(iscsi, url->lun, other_who);
	for (unsigned s = 0; s < NSIZES && failures == before; s++) {
		fill_pattern(buf, write_sizes[s], vi, s);
		read_compare(iscsi, url->lun, lba_of(vi, s, bs), buf, write_sizes[s], bs, other_who);
	}
	logout(iscsi);
	return failures == before;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: %s iscsi://HOST:PORT/TARGET/LUN INITIATOR_NAME\n", argv[0]);
		return 2;
	}
	struct iscsi_context *parser = iscsi_create_context(argv[2]);
	struct iscsi_url *url = parser ? iscsi_parse_full_url(parser, argv[1]) : NULL;
	if (!url) {
		fprintf(stderr, "bad URL %s: %s\n", argv[1], parser ? iscsi_get_error(parser) : "");
		return 2;
	}
	uint8_t *buf = malloc(write_sizes[NSIZES - 1]);
	if (!buf)
		return 2;
	for (unsigned vi = 0; vi < NVARIANTS; vi++) {
		char name[96];
		variant_name(variant_of(vi), name, sizeof(name));
		bool ok = run_variant(url, argv[2], vi, buf);
		printf("%s: %s\n", ok ? "ok  " : "FAIL", name);
		fflush(stdout);
	}
	free(buf);
	iscsi_destroy_url(url);
	iscsi_destroy_context(parser);
	printf("%s\n", failures ? "variants: FAILED" : "variants: all combinations passed");
	return failures ? 1 : 0;
}
