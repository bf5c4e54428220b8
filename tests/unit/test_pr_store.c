/* The APTPL state file (src/core/pr_store.c): the encoding round trip,
 * every refusal of the decoder, the crash-safe file replacement, and the
 * writer thread's order, completion and drain. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/bytes.h"
#include "base/crc32c.h"
#include "base/reactor.h"
#include "core/pr_store.h"
#include "core/scst.h"

/* ------------------------------------------------------------------ */
/* Building states. */

static void pr_init(struct scst_pr *pr)
{
	memset(pr, 0, sizeof(*pr));
	list_init(&pr->registrants);
}

/* An iSCSI TransportID as the driver makes it (FORMAT CODE 01b). */
static unsigned make_iscsi_tid(uint8_t *buf, const char *name, const char *isid)
{
	int n = snprintf((char *)buf + 4, SCST_TRANSPORT_ID_MAX - 4, "%s,i,0x%s", name, isid);
	unsigned len = (4 + (unsigned)n + 1 + 3) & ~3u;

	assert_true(len <= SCST_TRANSPORT_ID_MAX);
	memset(buf + 4 + n, 0, len - 4 - (unsigned)n);
	buf[0] = 0x40 | SCST_PROTOCOL_ISCSI;
	buf[1] = 0;
	put_be16(buf + 2, (uint16_t)(len - 4));
	return len;
}

static struct scst_pr_registrant *add_reg(struct scst_pr *pr, uint64_t key, const char *name,
					  const char *isid, uint16_t rel_tgt_id, bool all_tg_pt)
{
	struct scst_pr_registrant *reg = calloc(1, sizeof(*reg));

	assert_non_null(reg);
	reg->key = key;
	reg->transport_id_len = make_iscsi_tid(reg->transport_id, name, isid);
	reg->rel_tgt_id = rel_tgt_id;
	reg->all_tg_pt = all_tg_pt;
	list_add_tail(&reg->entry, &pr->registrants);
	pr->nregistrants++;
	return reg;
}

/* An FC TransportID (SPC-4 7.6.4.2): 24 bytes, the N_Port name at 8. */
static struct scst_pr_registrant *add_fc_reg(struct scst_pr *pr, uint64_t key)
{
	struct scst_pr_registrant *reg = calloc(1, sizeof(*reg));

	assert_non_null(reg);
	reg->key = key;
	reg->transport_id[0] = SCST_PROTOCOL_FCP;
	put_be64(reg->transport_id + 8, 0x2100001b32a1b2c3ull);
	reg->transport_id_len = 24;
	reg->rel_tgt_id = 7;
	list_add_tail(&reg->entry, &pr->registrants);
	pr->nregistrants++;
	return reg;
}

/* 223 bytes, the longest iSCSI name (RFC 3720 3.2.6.1): its TransportID
 * with ",i,0x" and the ISID is 4 + 223 + 5 + 12 + 1 = 245, padded to 248,
 * SCST_TRANSPORT_ID_MAX. */
static const char *long_name(char c)
{
	static char names[2][224];
	char *s = names[c == 'b'];

	memcpy(s, "iqn.2026-12.test:", 17);
	memset(s + 17, c, 223 - 17);
	s[223] = '\0';
	return s;
}

/* A state with everything a file can say: two longest iSCSI TransportIDs
 * (same name, two ISIDs), an ALL_TG_PT registration, an FC one, a holder
 * that is not the first registrant. */
static void build_rich(struct scst_pr *pr)
{
	pr_init(pr);
	pr->aptpl = true;
	pr->generation = 0xfffffffe;
	add_reg(pr, 0x1111111111111111ull, long_name('a'), "23d000000001", 1, false);
	pr->holder = add_reg(pr, 0xfedcba9876543210ull, long_name('a'), "23d000000002", 1, false);
	add_reg(pr, 0x33, long_name('b'), "400001370000", 2, true);
	add_fc_reg(pr, 0x44);
	pr->reserved = true;
	pr->type = SCST_PR_TYPE_WERO;
	pr->scope = SCST_PR_SCOPE_LU;
}

static void free_state(struct scst_pr *pr)
{
	pr_store_release(pr);
}

/* Field by field, in order, holder by position. */
static void assert_same_state(const struct scst_pr *a, const struct scst_pr *b)
{
	const struct list_head *x = a->registrants.next, *y = b->registrants.next;

	assert_int_equal(a->aptpl, b->aptpl);
	assert_int_equal(a->generation, b->generation);
	assert_int_equal(a->reserved, b->reserved);
	assert_int_equal(a->type, b->type);
	assert_int_equal(a->scope, b->scope);
	assert_int_equal(a->nregistrants, b->nregistrants);
	assert_int_equal(a->holder == NULL, b->holder == NULL);
	while (x != &a->registrants) {
		const struct scst_pr_registrant *ra = list_entry(x, struct scst_pr_registrant, entry);
		const struct scst_pr_registrant *rb = list_entry(y, struct scst_pr_registrant, entry);

		assert_true(y != &b->registrants);
		assert_true(ra->key == rb->key);
		assert_int_equal(ra->transport_id_len, rb->transport_id_len);
		assert_memory_equal(ra->transport_id, rb->transport_id, ra->transport_id_len);
		assert_int_equal(ra->rel_tgt_id, rb->rel_tgt_id);
		assert_int_equal(ra->all_tg_pt, rb->all_tg_pt);
		assert_int_equal(ra == a->holder, rb == b->holder);
		x = x->next;
		y = y->next;
	}
	assert_true(y == &b->registrants);
}

static void encode(const struct scst_pr *pr, uint8_t **bytes, size_t *len)
{
	assert_int_equal(pr_store_encode(pr, bytes, len), 0);
	assert_int_equal(*len, pr_store_encoded_size(pr));
}

static void decode_ok(const uint8_t *buf, size_t len, struct scst_pr *out)
{
	char err[256] = "";
	int rc = pr_store_decode(buf, len, out, err, sizeof(err));

	if (rc)
		fail_msg("decode refused: %s", err);
}

/* The decoder refuses @buf with a reason containing @why, and leaves the
 * empty state. */
static void decode_refused(const uint8_t *buf, size_t len, const char *why)
{
	struct scst_pr out;
	char err[256] = "";

	pr_init(&out);
	assert_int_equal(pr_store_decode(buf, len, &out, err, sizeof(err)), -1);
	if (!strstr(err, why))
		fail_msg("reason '%s' does not say '%s'", err, why);
	assert_true(list_empty(&out.registrants));
	assert_int_equal(out.nregistrants, 0);
	assert_null(out.holder);
	assert_false(out.reserved);
	assert_false(out.aptpl);
}

/* After editing an encoded file, so that the edit reaches the check it is
 * about instead of stopping at the CRC. */
static void fix_crc(uint8_t *buf, size_t len)
{
	uint32_t c = crc32c(buf, len - 4);

	for (int i = 0; i < 4; i++)
		buf[len - 4 + i] = (uint8_t)(c >> (8 * i));
}

/* Room for an edited copy of an encoded file. */
static uint8_t *scratch(size_t len)
{
	static uint8_t buf[4096];

	assert_true(len <= sizeof(buf));
	return buf;
}

/* ------------------------------------------------------------------ */
/* Round trips. */

static void test_round_trip_rich(void **state)
{
	struct scst_pr pr, back;
	uint8_t *bytes;
	size_t len;

	build_rich(&pr);
	assert_int_equal(list_first_entry(&pr.registrants, struct scst_pr_registrant, entry)
				 ->transport_id_len,
			 SCST_TRANSPORT_ID_MAX);
	encode(&pr, &bytes, &len);
	/* SCST's layout at the front: signature, version, aptpl, reserved,
	 * type, scope. */
	assert_true(bytes[0] == 0x77 && bytes[7] == 0xbb);
	assert_int_equal(bytes[8], PR_STORE_VERSION);
	assert_int_equal(bytes[16], 1);
	assert_int_equal(bytes[17], 1);
	assert_int_equal(bytes[18], SCST_PR_TYPE_WERO);
	assert_int_equal(bytes[19], 0);
	/* The first record: not the holder, then the TransportID, the key
	 * big-endian, rel_tgt_id little-endian, flags. */
	assert_int_equal(bytes[28], 0);
	assert_int_equal(bytes[29], 0x45);
	assert_int_equal(get_be64(bytes + 29 + 248), 0x1111111111111111ull);
	assert_int_equal(bytes[29 + 248 + 8], 1);
	assert_int_equal(bytes[29 + 248 + 9], 0);
	assert_int_equal(len, 28 + 2 * (12 + 248) + (12 + 248) + (12 + 24) + 4);

	decode_ok(bytes, len, &back);
	assert_same_state(&pr, &back);
	assert_true(back.holder->key == 0xfedcba9876543210ull);
	free_state(&back);
	free(bytes);
	free_state(&pr);
}

static void test_round_trip_all_registrants(void **state)
{
	static const uint8_t types[] = { SCST_PR_TYPE_WEAR, SCST_PR_TYPE_EAAR };

	for (size_t i = 0; i < 2; i++) {
		struct scst_pr pr, back;
		uint8_t *bytes;
		size_t len;

		pr_init(&pr);
		pr.aptpl = true;
		pr.generation = 3;
		add_reg(&pr, 0xa1, "iqn.2026-12.test:x", "000000000001", 1, true);
		add_reg(&pr, 0xa2, "iqn.2026-12.test:y", "000000000001", 1, false);
		pr.reserved = true;
		pr.type = types[i];
		encode(&pr, &bytes, &len);
		decode_ok(bytes, len, &back);
		assert_same_state(&pr, &back);
		assert_null(back.holder);
		free_state(&back);
		free(bytes);
		free_state(&pr);
	}
}

/* Every type with a single holder, and registrants without any
 * reservation, and no registrant at all. */
static void test_round_trip_every_type(void **state)
{
	static const uint8_t types[] = { SCST_PR_TYPE_WE, SCST_PR_TYPE_EA, SCST_PR_TYPE_WERO,
					 SCST_PR_TYPE_EARO, 0 };

	for (size_t i = 0; i < sizeof(types); i++) {
		struct scst_pr pr, back;
		uint8_t *bytes;
		size_t len;

		pr_init(&pr);
		pr.generation = (uint32_t)i;
		pr.holder = add_reg(&pr, 0x5, "iqn.2026-12.test:z", "000000000009", 3, false);
		if (types[i]) {
			pr.reserved = true;
			pr.type = types[i];
		} else {
			pr.holder = NULL;
		}
		encode(&pr, &bytes, &len);
		decode_ok(bytes, len, &back);
		assert_same_state(&pr, &back);
		free_state(&back);
		free(bytes);
		free_state(&pr);
	}

	struct scst_pr empty, back;
	uint8_t *bytes;
	size_t len;

	pr_init(&empty);
	encode(&empty, &bytes, &len);
	assert_int_equal(len, 32);
	decode_ok(bytes, len, &back);
	assert_same_state(&empty, &back);
	free(bytes);
}

/* SCST's own version 1 file (scst_pres.c's layout: no generation, no
 * count, no flags, no CRC; rel_tgt_id in host order, x86's). */
static void test_reads_scst_version_1(void **state)
{
	uint8_t buf[512], tid[SCST_TRANSPORT_ID_MAX];
	unsigned tlen = make_iscsi_tid(tid, "iqn.1993-08.org.debian:01:abc", "23d000000000");
	size_t pos = 0;
	struct scst_pr back;

	put_be64(buf, 0); /* overwritten below, little-endian */
	for (int i = 0; i < 8; i++)
		buf[i] = (uint8_t)(PR_STORE_SIGNATURE >> (8 * i));
	memset(buf + 8, 0, 8);
	buf[8] = 1;
	buf[16] = 1;		 /* aptpl */
	buf[17] = 1;		 /* reserved */
	buf[18] = SCST_PR_TYPE_EA;
	buf[19] = 0;
	pos = 20;
	for (int r = 0; r < 2; r++) {
		buf[pos++] = r == 1; /* the second holds it */
		tid[4 + 28] = (uint8_t)('0' + r); /* two distinct names */
		memcpy(buf + pos, tid, tlen);
		pos += tlen;
		put_be64(buf + pos, 0x100u + (unsigned)r);
		pos += 8;
		buf[pos++] = 2; /* rel_tgt_id 2, little-endian */
		buf[pos++] = 0;
	}
	decode_ok(buf, pos, &back);
	assert_true(back.aptpl && back.reserved);
	assert_int_equal(back.type, SCST_PR_TYPE_EA);
	assert_int_equal(back.nregistrants, 2);
	assert_int_equal(back.generation, 0);
	assert_non_null(back.holder);
	assert_true(back.holder->key == 0x101);
	assert_int_equal(back.holder->rel_tgt_id, 2);
	assert_false(back.holder->all_tg_pt);
	free_state(&back);

	/* A record cut short at the end is refused, not dropped. */
	decode_refused(buf, pos - 1, "cut short");
}

/* ------------------------------------------------------------------ */
/* Refusals. */

/* Every prefix of a valid file is refused: a truncated file never loads. */
static void test_refuses_every_truncation(void **state)
{
	struct scst_pr pr;
	uint8_t *bytes;
	size_t len;

	build_rich(&pr);
	encode(&pr, &bytes, &len);
	for (size_t cut = 0; cut < len; cut++) {
		struct scst_pr out;
		char err[256];

		if (pr_store_decode(bytes, cut, &out, err, sizeof(err)) != -1)
			fail_msg("a file cut at %zu of %zu bytes was accepted", cut, len);
		assert_int_equal(out.nregistrants, 0);
		assert_true(list_empty(&out.registrants));
	}
	decode_refused(bytes, 3, "too short");
	decode_refused(bytes, 20, "shorter than its 32-byte header");
	decode_refused(bytes, len - 1, "CRC32C");
	free(bytes);
	free_state(&pr);
}

static void test_refuses_bad_header(void **state)
{
	struct scst_pr pr;
	uint8_t *bytes, *b;
	size_t len;

	build_rich(&pr);
	encode(&pr, &bytes, &len);
	b = scratch(len);

	memcpy(b, bytes, len);
	b[0] ^= 1;
	decode_refused(b, len, "signature 0xbbeeeeaaeebbdd76 is not a PR state file's");

	memcpy(b, bytes, len);
	b[8] = 3;
	fix_crc(b, len);
	decode_refused(b, len, "unknown version 3");
	memcpy(b, bytes, len);
	b[15] = 0x80;
	decode_refused(b, len, "unknown version 9223372036854775810");

	/* A flipped bit anywhere in the body. */
	memcpy(b, bytes, len);
	b[200] ^= 0x10;
	decode_refused(b, len, "does not match");

	memcpy(b, bytes, len);
	b[16] = 2;
	fix_crc(b, len);
	decode_refused(b, len, "is not 0 or 1");

	memcpy(b, bytes, len);
	b[18] = 0x2; /* not a type */
	fix_crc(b, len);
	decode_refused(b, len, "reservation type 0x02 is not one of");
	memcpy(b, bytes, len);
	b[18] = 0x9;
	fix_crc(b, len);
	decode_refused(b, len, "reservation type 0x09");

	memcpy(b, bytes, len);
	b[19] = 0x1; /* not LU_SCOPE */
	fix_crc(b, len);
	decode_refused(b, len, "scope 0x01 is not LU_SCOPE");

	memcpy(b, bytes, len);
	b[17] = 0; /* no reservation, yet a type */
	fix_crc(b, len);
	decode_refused(b, len, "without a reservation");

	/* The count says one more or one fewer than there are. */
	memcpy(b, bytes, len);
	b[24] = 5;
	fix_crc(b, len);
	decode_refused(b, len, "counts 5 registrants, the file has 4");
	memcpy(b, bytes, len);
	b[24] = 3;
	fix_crc(b, len);
	decode_refused(b, len, "after the 3 registrants the header counts");

	free(bytes);
	free_state(&pr);
}

/* Offset of registrant @i's record in an encoding of build_rich(). */
static size_t rich_record(unsigned i)
{
	static const size_t sizes[] = { 260, 260, 260, 36 };
	size_t pos = 28;

	for (unsigned k = 0; k < i; k++)
		pos += sizes[k];
	return pos;
}

static void test_refuses_bad_records(void **state)
{
	struct scst_pr pr;
	uint8_t *bytes, *b;
	size_t len, r1 = rich_record(1), r3 = rich_record(3);

	build_rich(&pr);
	encode(&pr, &bytes, &len);
	b = scratch(len + 16);

	/* The TransportID's own length: beyond the maximum, not a multiple
	 * of four, beyond the file, too small. */
	memcpy(b, bytes, len);
	put_be16(b + r1 + 1 + 2, 248);
	fix_crc(b, len);
	decode_refused(b, len, "registrant 1 at byte 288: iSCSI TransportID length 252");
	memcpy(b, bytes, len);
	put_be16(b + r1 + 1 + 2, 242);
	fix_crc(b, len);
	decode_refused(b, len, "is not a multiple of 4");
	memcpy(b, bytes, len);
	put_be16(b + r1 + 1 + 2, 0);
	fix_crc(b, len);
	decode_refused(b, len, "ADDITIONAL LENGTH 0");
	memcpy(b, bytes, len);
	put_be16(b + rich_record(3) - 260 + 1 + 2, 236); /* registrant 2: 240 bytes, shifts */
	fix_crc(b, len);
	decode_refused(b, len, "registrant");

	/* A name that never ends, a format code that does not exist, an
	 * unknown protocol, reserved bits. */
	memcpy(b, bytes, len);
	memset(b + r1 + 1 + 4, 'x', 244);
	fix_crc(b, len);
	decode_refused(b, len, "without a NUL-terminated name");
	memcpy(b, bytes, len);
	b[r1 + 1] = 0x85;
	fix_crc(b, len);
	decode_refused(b, len, "format code 2");
	memcpy(b, bytes, len);
	b[r3 + 1] = 0x0b;
	fix_crc(b, len);
	decode_refused(b, len, "registrant 3 at byte 808: TransportID of unknown protocol identifier 0xb");
	memcpy(b, bytes, len);
	b[r3 + 1] = 0x10;
	fix_crc(b, len);
	decode_refused(b, len, "reserved bits");
	memcpy(b, bytes, len);
	b[r1 + 1] = 0x05; /* format 00b: plain name, fine */
	fix_crc(b, len);
	{
		struct scst_pr out;

		decode_ok(b, len, &out);
		free_state(&out);
	}

	/* Key 0, unknown flags, a holder byte that is not a boolean. */
	memcpy(b, bytes, len);
	memset(b + r3 + 1 + 24, 0, 8);
	fix_crc(b, len);
	decode_refused(b, len, "registrant 3 at byte 808: reservation key 0");
	memcpy(b, bytes, len);
	b[r3 + 1 + 24 + 10] = 0x02;
	fix_crc(b, len);
	decode_refused(b, len, "unknown flags 0x02");
	memcpy(b, bytes, len);
	b[r3] = 7;
	fix_crc(b, len);
	decode_refused(b, len, "holder byte 0x07");

	/* Trailing bytes the count does not cover. */
	memcpy(b, bytes, len - 4);
	memset(b + len - 4, 0, 8);
	fix_crc(b, len + 4);
	decode_refused(b, len + 4, "after the 4 registrants");

	free(bytes);
	free_state(&pr);
}

static void test_refuses_bad_holder(void **state)
{
	struct scst_pr pr;
	uint8_t *bytes, *b;
	size_t len, r0 = rich_record(0), r1 = rich_record(1);

	build_rich(&pr);
	encode(&pr, &bytes, &len);
	b = scratch(len);

	/* A single-holder type whose holder is not among the registrants. */
	memcpy(b, bytes, len);
	b[r1] = 0;
	fix_crc(b, len);
	decode_refused(b, len, "needs exactly one holder among the registrants, the file marks 0");
	memcpy(b, bytes, len);
	b[r0] = 1;
	fix_crc(b, len);
	decode_refused(b, len, "the file marks 2");
	/* A holder without a reservation. */
	memcpy(b, bytes, len);
	b[17] = 0;
	b[18] = 0;
	fix_crc(b, len);
	decode_refused(b, len, "marked holder but there is no reservation");
	/* An all-registrants type with a holder marked. */
	memcpy(b, bytes, len);
	b[18] = SCST_PR_TYPE_EAAR;
	fix_crc(b, len);
	decode_refused(b, len, "held by all registrants, yet one is marked holder");
	/* The same I_T nexus twice. */
	memcpy(b, bytes, len);
	memcpy(b + r0 + 1, b + r1 + 1, 248);
	memcpy(b + r0 + 1 + 248 + 8, b + r1 + 1 + 248 + 8, 2);
	fix_crc(b, len);
	decode_refused(b, len, "registrant 1 at byte 288: its I_T nexus is registered twice");

	free(bytes);
	free_state(&pr);

	/* A reservation and nobody registered. */
	struct scst_pr empty;

	pr_init(&empty);
	encode(&empty, &bytes, &len);
	bytes[17] = 1;
	bytes[18] = SCST_PR_TYPE_WEAR;
	fix_crc(bytes, len);
	decode_refused(bytes, len, "without any registrant");
	free(bytes);
}

static void test_check_name(void **state)
{
	char err[128], big[300];

	assert_int_equal(pr_store_check_name("disk1", err, sizeof(err)), 0);
	assert_int_equal(pr_store_check_name("a.b-c_d", err, sizeof(err)), 0);
	assert_int_equal(pr_store_check_name("..", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "'..'"));
	assert_int_equal(pr_store_check_name(".", err, sizeof(err)), -1);
	assert_int_equal(pr_store_check_name("", err, sizeof(err)), -1);
	assert_int_equal(pr_store_check_name("a/b", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "containing '/'"));
	memset(big, 'x', 241);
	big[241] = '\0';
	assert_int_equal(pr_store_check_name(big, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "too long"));
	big[240] = '\0';
	assert_int_equal(pr_store_check_name(big, err, sizeof(err)), 0);
}

static void test_print(void **state)
{
	struct scst_pr pr;
	char *text = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&text, &size);

	build_rich(&pr);
	pr_store_print(f, &pr);
	fclose(f);
	assert_non_null(strstr(text, "aptpl 1\ngeneration 4294967294\n"
				     "reservation type WERO scope 0 holder 0xfedcba9876543210\n"));
	assert_non_null(strstr(text, "registrant key 0x0000000000000033 rel_tgt_id 2 all_tg_pt 1 "
				     "transport_id iscsi:iqn.2026-12.test:bbb"));
	assert_non_null(strstr(text, "transport_id hex:00000000000000002100001b32a1b2c3"));
	assert_non_null(strstr(text, "view gen=4294967294 keys=0x33,0x44,0x1111111111111111,"
				     "0xfedcba9876543210 res=5/0xfedcba9876543210\n"));
	free(text);
	free_state(&pr);
}

/* ------------------------------------------------------------------ */
/* Files. */

static char tmpdir[64];

static int make_tmpdir(void **state)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_pr_store.XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	return 0;
}

static int remove_tmpdir(void **state)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void write_raw(const char *path, const void *buf, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static bool exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

static void test_write_then_load(void **state)
{
	char path[PATH_MAX], tmp[PATH_MAX + 8], err[512];
	struct scst_pr pr, back, second;
	uint8_t *bytes, *bytes2;
	size_t len, len2;

	snprintf(path, sizeof(path), "%s/dev1", tmpdir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);

	/* No file: the empty state. */
	assert_int_equal(pr_store_load_file(path, &back, err, sizeof(err)), 0);
	assert_int_equal(back.nregistrants, 0);

	build_rich(&pr);
	encode(&pr, &bytes, &len);
	assert_int_equal(pr_store_write_file(path, bytes, len, err, sizeof(err)), 0);
	assert_false(exists(tmp));
	assert_int_equal(pr_store_load_file(path, &back, err, sizeof(err)), 0);
	assert_same_state(&pr, &back);
	free_state(&back);

	/* A crash after the .tmp was written and before its rename: the
	 * .tmp holds a newer (here: torn) state, which is not loaded and is
	 * removed. */
	write_raw(tmp, bytes, len / 2);
	/* Reading alone (a running daemon's file) leaves it alone. */
	assert_int_equal(pr_store_read_file(path, &back, err, sizeof(err)), 0);
	assert_same_state(&pr, &back);
	free_state(&back);
	assert_true(exists(tmp));
	assert_int_equal(pr_store_load_file(path, &back, err, sizeof(err)), 0);
	assert_same_state(&pr, &back);
	assert_false(exists(tmp));
	free_state(&back);

	/* Replacing: the second state, whole. */
	pr_init(&second);
	second.aptpl = true;
	second.generation = 9;
	add_reg(&second, 0x77, "iqn.2026-12.test:other", "000000000001", 1, false);
	encode(&second, &bytes2, &len2);
	assert_int_equal(pr_store_write_file(path, bytes2, len2, err, sizeof(err)), 0);
	assert_int_equal(pr_store_load_file(path, &back, err, sizeof(err)), 0);
	assert_same_state(&second, &back);
	free_state(&back);

	/* A damaged file is refused, naming the file, and left in place. */
	bytes2[40] ^= 1;
	write_raw(path, bytes2, len2);
	assert_int_equal(pr_store_load_file(path, &back, err, sizeof(err)), -1);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "refused: CRC32C"));
	assert_true(exists(path));
	write_raw(path, bytes2, 5);
	assert_int_equal(pr_store_load_file(path, &back, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "too short"));

	/* Removal (APTPL cleared), also of a leftover .tmp. */
	write_raw(tmp, "x", 1);
	assert_int_equal(pr_store_write_file(path, NULL, 0, err, sizeof(err)), 0);
	assert_false(exists(path));
	assert_false(exists(tmp));
	assert_int_equal(pr_store_load_file(path, &back, err, sizeof(err)), 0);
	assert_int_equal(back.nregistrants, 0);
	assert_int_equal(pr_store_read_file(path, &back, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "No such file"));
	/* Removing what is not there is no error. */
	assert_int_equal(pr_store_write_file(path, NULL, 0, err, sizeof(err)), 0);

	/* A directory that does not exist: the error names the file. */
	snprintf(path, sizeof(path), "%s/missing/dev1", tmpdir);
	assert_int_equal(pr_store_write_file(path, bytes, len, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "missing/dev1.tmp: open"));

	free(bytes);
	free(bytes2);
	free_state(&pr);
	free_state(&second);
}

/* ------------------------------------------------------------------ */
/* The writer. */

#define NSAVES 40

struct saver {
	struct pr_store_req req;
	unsigned seq;
};

static pthread_mutex_t done_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t done_cond = PTHREAD_COND_INITIALIZER;
static unsigned ndone, next_seq;
static int errs[NSAVES + 8];
static struct reactor *expected_reactor;
static bool wrong_thread;

static void saved(struct pr_store_req *req, int err)
{
	struct saver *s = container_of(req, struct saver, req);

	pthread_mutex_lock(&done_lock);
	if (reactor_self() != expected_reactor)
		wrong_thread = true;
	/* Completions come in submission order. */
	if (s->seq != next_seq)
		wrong_thread = true;
	next_seq++;
	errs[s->seq] = err;
	ndone++;
	pthread_cond_broadcast(&done_cond);
	pthread_mutex_unlock(&done_lock);
}

static uint8_t *state_bytes(uint32_t generation, size_t *len)
{
	struct scst_pr pr;
	uint8_t *bytes;

	pr_init(&pr);
	pr.aptpl = true;
	pr.generation = generation;
	pr.holder = add_reg(&pr, 0x1000 + generation, "iqn.2026-12.test:w", "000000000001", 1,
			    false);
	pr.reserved = true;
	pr.type = SCST_PR_TYPE_WE;
	encode(&pr, &bytes, len);
	free_state(&pr);
	return bytes;
}

static void run_saves(struct reactor *reply_to)
{
	static struct saver savers[NSAVES + 3];
	char err[512], sdir[128], path[PATH_MAX];
	struct scst_pr back;
	struct stat st;
	unsigned n = 0;
	size_t len;

	snprintf(sdir, sizeof(sdir), "%s/state-%s", tmpdir, reply_to ? "reactor" : "writer");
	ndone = next_seq = 0;
	wrong_thread = false;
	expected_reactor = reply_to;
	assert_int_equal(pr_store_start(sdir, err, sizeof(err)), 0);
	/* The directory appears with the first save, not before. */
	assert_false(exists(sdir));

	for (unsigned i = 0; i < NSAVES; i++) {
		uint8_t *bytes = state_bytes(i + 1, &len);

		savers[n].seq = n;
		pr_store_submit(&savers[n].req, "disk0", bytes, len, reply_to, saved);
		n++;
	}
	/* A name the store refuses fails its request alone. */
	savers[n].seq = n;
	pr_store_submit(&savers[n].req, "../escape", state_bytes(1, &len), len, reply_to, saved);
	n++;
	/* Another device, then its removal. */
	savers[n].seq = n;
	pr_store_submit(&savers[n].req, "disk1", state_bytes(5, &len), len, reply_to, saved);
	n++;
	savers[n].seq = n;
	pr_store_submit(&savers[n].req, "disk1", NULL, 0, reply_to, saved);
	n++;

	/* Stop drains: every request has been written when it returns. */
	pr_store_stop();
	pthread_mutex_lock(&done_lock);
	while (ndone < n)
		pthread_cond_wait(&done_cond, &done_lock);
	pthread_mutex_unlock(&done_lock);
	assert_false(wrong_thread);
	for (unsigned i = 0; i < NSAVES; i++)
		assert_int_equal(errs[i], 0);
	assert_int_equal(errs[NSAVES], -EINVAL);
	assert_int_equal(errs[NSAVES + 1], 0);
	assert_int_equal(errs[NSAVES + 2], 0);

	snprintf(path, sizeof(path), "%s/pr", sdir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	snprintf(path, sizeof(path), "%s/pr/disk0", sdir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(pr_store_load_file(path, &back, err, sizeof(err)), 0);
	assert_int_equal(back.generation, NSAVES); /* the last one submitted */
	free_state(&back);
	snprintf(path, sizeof(path), "%s/pr/disk1", sdir);
	assert_false(exists(path));
	snprintf(path, sizeof(path), "%s/pr/disk0.tmp", sdir);
	assert_false(exists(path));

	/* After stop: completes at once, nothing written. */
	ndone = next_seq = 0;
	savers[0].seq = 0;
	pr_store_submit(&savers[0].req, "disk0", state_bytes(99, &len), len, reply_to, saved);
	pthread_mutex_lock(&done_lock);
	while (ndone < 1)
		pthread_cond_wait(&done_cond, &done_lock);
	pthread_mutex_unlock(&done_lock);
	assert_int_equal(errs[0], -ESHUTDOWN);
}

static void test_writer_on_its_thread(void **state)
{
	run_saves(NULL);
}

static void test_writer_replies_to_a_reactor(void **state)
{
	assert_int_equal(reactors_start(1), 0);
	run_saves(reactor_by_index(0));
	reactors_stop();
}

/* pr_store_save(): the state's file while APTPL is on, its removal once
 * APTPL is off or nobody is registered. */
static void test_save_follows_aptpl(void **state)
{
	static struct saver s;
	char err[512], sdir[128], path[PATH_MAX];
	struct scst_pr pr, back;

	snprintf(sdir, sizeof(sdir), "%s/state-save", tmpdir);
	snprintf(path, sizeof(path), "%s/pr/lun7", sdir);
	expected_reactor = NULL;
	assert_false(pr_store_available());
	assert_int_equal(pr_store_start(sdir, err, sizeof(err)), 0);
	assert_true(pr_store_available());

	build_rich(&pr);
	ndone = next_seq = 0;
	s.seq = 0;
	pr_store_save(&s.req, "lun7", &pr, NULL, saved);
	pthread_mutex_lock(&done_lock);
	while (ndone < 1)
		pthread_cond_wait(&done_cond, &done_lock);
	pthread_mutex_unlock(&done_lock);
	assert_int_equal(errs[0], 0);
	assert_int_equal(pr_store_load_file(path, &back, err, sizeof(err)), 0);
	assert_same_state(&pr, &back);
	free_state(&back);

	pr.aptpl = false;
	ndone = next_seq = 0;
	pr_store_save(&s.req, "lun7", &pr, NULL, saved);
	pr_store_stop();
	assert_int_equal(ndone, 1);
	assert_int_equal(errs[0], 0);
	assert_false(exists(path));
	assert_false(pr_store_available());
	free_state(&pr);
}

/* pr_store_load() through the state directory: the device's file. */
static void test_load_by_device_name(void **state)
{
	char err[512], sdir[128], path[PATH_MAX];
	struct scst_pr back;
	uint8_t *bytes;
	size_t len;

	/* No state directory: empty, no error. */
	assert_int_equal(pr_store_load("disk0", &back, err, sizeof(err)), 0);
	assert_int_equal(back.nregistrants, 0);

	snprintf(sdir, sizeof(sdir), "%s/state-load", tmpdir);
	assert_int_equal(pr_store_start(sdir, err, sizeof(err)), 0);
	assert_int_equal(pr_store_load("disk0", &back, err, sizeof(err)), 0);
	assert_int_equal(back.nregistrants, 0);
	assert_int_equal(pr_store_load("a/b", &back, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "'a/b'"));

	mkdir(sdir, 0700);
	snprintf(path, sizeof(path), "%s/pr", sdir);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/pr/disk0", sdir);
	bytes = state_bytes(12, &len);
	write_raw(path, bytes, len);
	assert_int_equal(pr_store_load("disk0", &back, err, sizeof(err)), 0);
	assert_int_equal(back.generation, 12);
	assert_int_equal(back.nregistrants, 1);
	free_state(&back);
	bytes[len - 1] ^= 0xff;
	write_raw(path, bytes, len);
	assert_int_equal(pr_store_load("disk0", &back, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "pr/disk0: refused: CRC32C"));
	free(bytes);
	pr_store_stop();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_rich),
		cmocka_unit_test(test_round_trip_all_registrants),
		cmocka_unit_test(test_round_trip_every_type),
		cmocka_unit_test(test_reads_scst_version_1),
		cmocka_unit_test(test_refuses_every_truncation),
		cmocka_unit_test(test_refuses_bad_header),
		cmocka_unit_test(test_refuses_bad_records),
		cmocka_unit_test(test_refuses_bad_holder),
		cmocka_unit_test(test_check_name),
		cmocka_unit_test(test_print),
		cmocka_unit_test(test_write_then_load),
		cmocka_unit_test(test_writer_on_its_thread),
		cmocka_unit_test(test_writer_replies_to_a_reactor),
		cmocka_unit_test(test_save_follows_aptpl),
		cmocka_unit_test(test_load_by_device_name),
	};

	return cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
}
