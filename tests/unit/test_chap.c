/* CHAP (src/targets/iscsi/chap.c): algorithms against published digest
 * vectors, encodings, credentials, and the target's side of the exchange
 * against responses computed independently (Python's hashlib, the values
 * written out below). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "targets/iscsi/chap.h"

/* The value answered for @key in @t, or NULL. */
static const char *answer(const struct iscsi_text *t, const char *key)
{
	size_t klen = strlen(key), pos = 0;
	while (pos < t->len) {
		const char *pair = t->data + pos;
		if (strncmp(pair, key, klen) == 0 && pair[klen] == '=')
			return pair + klen + 1;
		pos += strlen(pair) + 1;
	}
	return NULL;
}

static void to_hex(const uint8_t *b, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
}

/* ------------------------------------------------------------------ */

static void test_alg_table(void **state)
{
	(void)state;
	assert_int_equal(chap_alg_by_number(5)->digest_len, 16);
	assert_int_equal(chap_alg_by_number(6)->digest_len, 20);
	assert_int_equal(chap_alg_by_number(7)->digest_len, 32);
	assert_int_equal(chap_alg_by_number(8)->digest_len, 32);
	assert_null(chap_alg_by_number(4));
	assert_null(chap_alg_by_number(9));
	assert_null(chap_alg_by_number(0));
}

static void test_alg_choose(void **state)
{
	(void)state;
	/* The initiator's order, unknown numbers skipped. */
	assert_int_equal(chap_alg_choose("7,5")->number, 7);
	assert_int_equal(chap_alg_choose("5,7")->number, 5);
	assert_int_equal(chap_alg_choose("9,1,6")->number, 6);
	assert_int_equal(chap_alg_choose("junk,,8")->number, 8);
	assert_int_equal(chap_alg_choose("0x7")->number, 7);
	assert_null(chap_alg_choose("4"));
	assert_null(chap_alg_choose(""));
	assert_null(chap_alg_choose("261")); /* 5 + 256 must not wrap to MD5 */
	assert_null(chap_alg_choose("-5"));
}

/* Digest of "abc" = id 'a', secret "b", challenge "c": the published
 * vectors of RFC 1321 A.5 (MD5), FIPS 180 (SHA-1, SHA-256) and FIPS 202
 * (SHA3-256), which also pins the order of the concatenation. */
static void test_published_vectors(void **state)
{
	(void)state;
	static const struct {
		unsigned alg;
		const char *hex;
	} v[] = {
		{ 5, "900150983cd24fb0d6963f7d28e17f72" },
		{ 6, "a9993e364706816aba3e25717850c26c9cd0d89d" },
		{ 7, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
		{ 8, "3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532" },
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		const struct chap_alg *alg = chap_alg_by_number(v[i].alg);
		uint8_t out[64];
		char hex[129];
		assert_int_equal(chap_response(alg, 'a', (const uint8_t *)"b", 1,
					       (const uint8_t *)"c", 1, out), 0);
		to_hex(out, alg->digest_len, hex);
		assert_string_equal(hex, v[i].hex);
	}
}

/* ------------------------------------------------------------------ */

static long dec(const char *s, uint8_t *out, size_t max, enum chap_encoding *enc)
{
	const char *why = NULL;
	long n = chap_decode(s, out, max, enc, &why);
	if (n < 0)
		assert_non_null(why);
	return n;
}

static void test_decode_hex(void **state)
{
	(void)state;
	uint8_t b[8];
	enum chap_encoding enc;
	assert_int_equal(dec("0x00ff10", b, sizeof(b), &enc), 3);
	assert_int_equal(enc, CHAP_ENC_HEX);
	assert_memory_equal(b, "\x00\xff\x10", 3);
	assert_int_equal(dec("0XaBcD", b, sizeof(b), &enc), 2);
	assert_memory_equal(b, "\xab\xcd", 2);
	assert_int_equal(dec("0xabc", b, sizeof(b), &enc), -1);   /* odd */
	assert_int_equal(dec("0x0g", b, sizeof(b), &enc), -1);    /* not hex */
	assert_int_equal(dec("0x", b, sizeof(b), &enc), -1);      /* empty */
	assert_int_equal(dec("00ff", b, sizeof(b), &enc), -1);    /* no prefix */
	assert_int_equal(dec("", b, sizeof(b), &enc), -1);
	assert_int_equal(dec("0", b, sizeof(b), &enc), -1);
	assert_int_equal(dec("0x 0ff", b, sizeof(b), &enc), -1);
	/* 8 bytes fit, 9 do not. */
	assert_int_equal(dec("0x0001020304050607", b, sizeof(b), &enc), 8);
	assert_int_equal(dec("0x000102030405060708", b, sizeof(b), &enc), -1);
}

static void test_decode_base64(void **state)
{
	(void)state;
	uint8_t b[32];
	enum chap_encoding enc;
	assert_int_equal(dec("0bAAECAwQFBgcICQoLDA0ODw==", b, sizeof(b), &enc), 16);
	assert_int_equal(enc, CHAP_ENC_BASE64);
	for (int i = 0; i < 16; i++)
		assert_int_equal(b[i], i);
	assert_int_equal(dec("0B/w==", b, sizeof(b), &enc), 1);
	assert_int_equal(b[0], 0xff);
	assert_int_equal(dec("0b//4=", b, sizeof(b), &enc), 2);
	assert_memory_equal(b, "\xff\xfe", 2);
	assert_int_equal(dec("0bAAEC", b, sizeof(b), &enc), 3);
	assert_int_equal(dec("0bAAE", b, sizeof(b), &enc), -1);   /* not a multiple of 4 */
	assert_int_equal(dec("0b*w==", b, sizeof(b), &enc), -1);  /* outside the alphabet */
	assert_int_equal(dec("0bA=AA", b, sizeof(b), &enc), -1);  /* padding inside */
	assert_int_equal(dec("0b====", b, sizeof(b), &enc), -1);
	assert_int_equal(dec("0b/x==", b, sizeof(b), &enc), -1);  /* non-zero pad bits */
	assert_int_equal(dec("0b//5=", b, sizeof(b), &enc), -1);
	assert_int_equal(dec("0b", b, sizeof(b), &enc), -1);
	assert_int_equal(dec("0bAA==", b, 0, &enc), -1);          /* longer than max */
}

/* Every length both ways: encode, decode, same bytes. */
static void test_round_trip(void **state)
{
	(void)state;
	uint8_t data[CHAP_BINARY_MAX], back[CHAP_BINARY_MAX];
	static char text[CHAP_ENCODED_MAX(CHAP_BINARY_MAX)];
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 37 + 11);
	for (size_t len = 1; len <= CHAP_BINARY_MAX; len += len < 40 ? 1 : 97) {
		for (int e = 0; e < 2; e++) {
			enum chap_encoding enc = e ? CHAP_ENC_BASE64 : CHAP_ENC_HEX, got;
			assert_int_equal(chap_encode(data, len, enc, text, sizeof(text)), 0);
			assert_int_equal(dec(text, back, sizeof(back), &got), (long)len);
			assert_int_equal(got, enc);
			assert_memory_equal(back, data, len);
		}
	}
	/* Too small an output buffer is refused, not overrun. */
	char small[7];
	assert_int_equal(chap_encode(data, 2, CHAP_ENC_HEX, small, sizeof(small) - 1), -1);
	assert_int_equal(chap_encode(data, 2, CHAP_ENC_HEX, small, sizeof(small)), 0);
	assert_string_equal(small, "0x0b30");
	assert_int_equal(chap_encode(data, 2, CHAP_ENC_BASE64, small, 6), -1);
	assert_int_equal(chap_encode(data, 2, CHAP_ENC_BASE64, small, 7), 0);
	assert_string_equal(small, "0bCzA=");
}

/* ------------------------------------------------------------------ */

static void test_user_parse(void **state)
{
	(void)state;
	struct chap_user u;
	char err[256];
	assert_int_equal(chap_user_parse(&u, "joe 12charsecret", err, sizeof(err)), 0);
	assert_string_equal(u.name, "joe");
	assert_int_equal(u.secret_len, 12);
	assert_memory_equal(u.secret, "12charsecret", 12);
	/* The secret is the rest of the value, blanks and all. */
	assert_int_equal(chap_user_parse(&u, "ann  a secret phrase", err, sizeof(err)), 0);
	assert_string_equal(u.name, "ann");
	assert_int_equal(u.secret_len, 15);
	assert_int_equal(chap_user_parse(&u, "joe", err, sizeof(err)), -1);
	assert_int_equal(chap_user_parse(&u, "", err, sizeof(err)), -1);
	/* Too short a secret: refused, and the reason never shows it. */
	assert_int_equal(chap_user_parse(&u, "joe shortsecre", err, sizeof(err)), -1);
	assert_int_equal(chap_user_parse(&u, "joe shortsecret1", err, sizeof(err)), 0);
	assert_int_equal(chap_user_parse(&u, "joe s3cr3t", err, sizeof(err)), -1);
	assert_null(strstr(err, "s3cr3t"));
	assert_non_null(strstr(err, "joe"));
	assert_int_equal(chap_user_parse(&u, "lonesecretword", err, sizeof(err)), -1);
	assert_null(strstr(err, "lonesecretword"));
	char longname[300];
	memset(longname, 'n', 256);
	strcpy(longname + 256, " 12charsecret");
	assert_int_equal(chap_user_parse(&u, longname, err, sizeof(err)), -1);
}

static void test_credentials(void **state)
{
	(void)state;
	struct chap_credentials c = { 0 }, copy = { 0 };
	struct chap_user u;
	char err[256];
	assert_false(chap_required(&c));
	assert_int_equal(chap_user_parse(&u, "joe 12charsecret", err, sizeof(err)), 0);
	assert_int_equal(chap_credentials_add_incoming(&c, &u), 0);
	assert_int_equal(chap_user_parse(&u, "ann 12charsecreu", err, sizeof(err)), 0);
	assert_int_equal(chap_credentials_add_incoming(&c, &u), 0);
	assert_true(chap_required(&c));
	assert_int_equal(chap_credentials_check(&c, err, sizeof(err)), 0);
	/* An outgoing secret equal to an incoming one is refused. */
	c.outgoing = malloc(sizeof(*c.outgoing));
	assert_non_null(c.outgoing);
	assert_int_equal(chap_user_parse(c.outgoing, "tgt 12charsecreu", err, sizeof(err)), 0);
	assert_int_equal(chap_credentials_check(&c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "ann"));
	assert_null(strstr(err, "12charsecreu"));
	assert_int_equal(chap_user_parse(c.outgoing, "tgt targetsecret12", err, sizeof(err)), 0);
	assert_int_equal(chap_credentials_check(&c, err, sizeof(err)), 0);
	assert_int_equal(chap_credentials_copy(&copy, &c), 0);
	assert_int_equal(copy.nincoming, 2);
	assert_string_equal(copy.incoming[1].name, "ann");
	assert_string_equal(copy.outgoing->name, "tgt");
	assert_ptr_not_equal(copy.outgoing, c.outgoing);
	chap_credentials_clear(&c);
	assert_false(chap_required(&c));
	assert_null(c.outgoing);
	/* Outgoing alone means nothing to authenticate first. */
	c.outgoing = malloc(sizeof(*c.outgoing));
	assert_non_null(c.outgoing);
	*c.outgoing = *copy.outgoing;
	assert_int_equal(chap_credentials_check(&c, err, sizeof(err)), -1);
	chap_credentials_clear(&c);
	chap_credentials_clear(&copy);
}

/* scst.conf attributes (params.c): what is taken, what is refused. */
static void test_attrs_parse(void **state)
{
	(void)state;
	struct chap_credentials c = { 0 };
	char err[256];
	struct scst_attr ok[] = {
		{ .name = "IncomingUser", .value = "joe 12charsecret" },
		{ .name = "MaxBurstLength", .value = "65536" },
		{ .name = "IncomingUser", .value = "ann othersecret12" },
		{ .name = "OutgoingUser", .value = "array targetsecret12" },
	};
	assert_int_equal(iscsi_chap_attrs_parse(&c, ok, 4, err, sizeof(err)), 0);
	assert_int_equal(c.nincoming, 2);
	assert_string_equal(c.incoming[0].name, "joe");
	assert_string_equal(c.incoming[1].name, "ann");
	assert_string_equal(c.outgoing->name, "array");
	assert_true(ok[0].consumed && ok[2].consumed && ok[3].consumed);
	assert_false(ok[1].consumed); /* someone else's */
	chap_credentials_clear(&c);

	/* Each reason names the attribute (and the user where there is
	 * one), never the secret. */
	static const struct {
		const char *in, *out, *reason, *user;
	} bad[] = {
		{ "joe 12charsecret", "array 12charsecret", "OutgoingUser", "joe" },
		{ NULL, "array targetsecret12", "OutgoingUser", "IncomingUser" },
		{ "joe short", NULL, "IncomingUser", "joe" },
		{ "joe", NULL, "IncomingUser", "" },
		{ "joe 12charsecret", "array", "OutgoingUser", "" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct scst_attr attrs[2];
		unsigned n = 0;
		if (bad[i].in)
			attrs[n++] = (struct scst_attr){ .name = "IncomingUser", .value = bad[i].in };
		if (bad[i].out)
			attrs[n++] = (struct scst_attr){ .name = "OutgoingUser", .value = bad[i].out };
		err[0] = '\0';
		assert_int_equal(iscsi_chap_attrs_parse(&c, attrs, n, err, sizeof(err)), -1);
		assert_non_null(strstr(err, bad[i].reason));
		assert_non_null(strstr(err, bad[i].user));
		assert_null(strstr(err, "12charsecret"));
		assert_null(strstr(err, "short"));
		assert_false(chap_required(&c));
		assert_null(c.outgoing);
	}
	struct scst_attr twice[] = {
		{ .name = "IncomingUser", .value = "joe 12charsecret" },
		{ .name = "OutgoingUser", .value = "array targetsecret12" },
		{ .name = "OutgoingUser", .value = "array2 targetsecret13" },
	};
	assert_int_equal(iscsi_chap_attrs_parse(&c, twice, 3, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "OutgoingUser"));
	assert_false(chap_required(&c));
}

/* ------------------------------------------------------------------ */
/* The exchange, with predictable "random" bytes: identifier 1, the
 * challenge 0, 1, 2, ... */

static int fake_random(uint8_t *buf, size_t len)
{
	if (len == 1) {
		buf[0] = 1;
		return 0;
	}
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)i;
	return 0;
}

struct fixture {
	struct chap_credentials creds;
	struct chap_exchange ex;
	struct iscsi_text out;
	char why[256];
};

static int setup(void **state)
{
	static struct fixture f;
	char err[256];
	struct chap_user u;
	memset(&f, 0, sizeof(f));
	chap_random = fake_random;
	assert_int_equal(chap_user_parse(&u, "joe 12charsecret", err, sizeof(err)), 0);
	assert_int_equal(chap_credentials_add_incoming(&f.creds, &u), 0);
	f.creds.outgoing = malloc(sizeof(*f.creds.outgoing));
	assert_non_null(f.creds.outgoing);
	assert_int_equal(chap_user_parse(f.creds.outgoing, "array targetsecret12", err,
					 sizeof(err)), 0);
	chap_exchange_init(&f.ex);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	chap_credentials_clear(&f->creds);
	iscsi_text_free(&f->out);
	return 0;
}

static enum chap_result step(struct fixture *f, struct chap_keys k)
{
	f->out.len = 0;
	f->why[0] = '\0';
	return chap_exchange_step(&f->ex, &k, &f->creds, &f->out, f->why, sizeof(f->why));
}

/* CHAP_A, and our identifier and challenge back. */
static void start(struct fixture *f, const char *algs)
{
	assert_int_equal(step(f, (struct chap_keys){ .a = algs }), CHAP_CONTINUE);
	assert_string_equal(answer(&f->out, "CHAP_I"), "1");
}

static void test_one_way_md5(void **state)
{
	struct fixture *f = *state;
	start(f, "5");
	assert_string_equal(answer(&f->out, "CHAP_A"), "5");
	assert_string_equal(answer(&f->out, "CHAP_C"), "0x000102030405060708090a0b0c0d0e0f");
	assert_int_equal(step(f, (struct chap_keys){
				 .n = "joe", .r = "0x2a1e4f35b57efd670294a7ff264fa260" }),
			 CHAP_DONE);
	assert_int_equal(f->out.len, 0);
	assert_false(f->ex.mutual);
	assert_string_equal(f->ex.user, "joe");
	/* Nothing more may come. */
	assert_int_equal(step(f, (struct chap_keys){ 0 }), CHAP_DONE);
	assert_int_equal(step(f, (struct chap_keys){ .a = "5" }), CHAP_PROTOCOL_ERROR);
}

/* SHA-1, SHA-256, SHA3-256: the challenge is as long as the digest. */
static void test_one_way_sha(void **state)
{
	struct fixture *f = *state;
	static const struct {
		const char *a, *r;
	} v[] = {
		{ "6", "0x1d95ee8099f41c514594050eea3ce62b63d0b43b" },
		{ "7", "0x57970b9af0a27625589001bf4f98741e5a3957e07dc73500f10dd866e5982f7a" },
		{ "8", "0x1b3446fc607b43d97e5708d67553683608e88548273dcf42bc46901bf235a8ba" },
	};
	for (size_t i = 0; i < 3; i++) {
		chap_exchange_init(&f->ex);
		/* An offer the initiator prefers first that we do not do. */
		char offer[16];
		snprintf(offer, sizeof(offer), "99,%s,5", v[i].a);
		start(f, offer);
		assert_string_equal(answer(&f->out, "CHAP_A"), v[i].a);
		assert_int_equal(strlen(answer(&f->out, "CHAP_C")),
				 2 + 2 * chap_alg_by_number((unsigned)atoi(v[i].a))->digest_len);
		assert_int_equal(step(f, (struct chap_keys){ .n = "joe", .r = v[i].r }), CHAP_DONE);
	}
}

static void test_wrong_response(void **state)
{
	struct fixture *f = *state;
	start(f, "5");
	assert_int_equal(step(f, (struct chap_keys){
				 .n = "joe", .r = "0x2a1e4f35b57efd670294a7ff264fa261" }),
			 CHAP_AUTH_FAILURE);
	assert_non_null(strstr(f->why, "joe"));
	/* A failed exchange stays failed. */
	assert_int_equal(step(f, (struct chap_keys){
				 .n = "joe", .r = "0x2a1e4f35b57efd670294a7ff264fa260" }),
			 CHAP_PROTOCOL_ERROR);
}

static void test_truncated_response(void **state)
{
	struct fixture *f = *state;
	start(f, "5");
	assert_int_equal(step(f, (struct chap_keys){ .n = "joe", .r = "0x2a1e4f35b57efd67" }),
			 CHAP_AUTH_FAILURE);
}

static void test_unknown_user(void **state)
{
	struct fixture *f = *state;
	start(f, "5");
	assert_int_equal(step(f, (struct chap_keys){
				 .n = "mallory", .r = "0x2a1e4f35b57efd670294a7ff264fa260" }),
			 CHAP_AUTH_FAILURE);
	assert_non_null(strstr(f->why, "mallory"));
	/* A name that would forge a log line is not repeated. */
	chap_exchange_init(&f->ex);
	start(f, "5");
	assert_int_equal(step(f, (struct chap_keys){
				 .n = "x\n12:00:00 uscstd info: forged", .r = "0x00" }),
			 CHAP_AUTH_FAILURE);
	assert_null(strchr(f->why, '\n'));
	assert_non_null(strstr(f->why, "not printable"));
}

static void test_no_common_algorithm(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(step(f, (struct chap_keys){ .a = "4,9" }), CHAP_AUTH_FAILURE);
	assert_string_equal(answer(&f->out, "CHAP_A"), "Reject");
}

static void test_misplaced_keys(void **state)
{
	struct fixture *f = *state;
	/* CHAP_N/R before CHAP_A. */
	assert_int_equal(step(f, (struct chap_keys){ .n = "joe", .r = "0x00" }),
			 CHAP_PROTOCOL_ERROR);
	/* CHAP_A with the response in the same request. */
	chap_exchange_init(&f->ex);
	assert_int_equal(step(f, (struct chap_keys){ .a = "5", .n = "joe" }), CHAP_PROTOCOL_ERROR);
	/* A request without CHAP keys before CHAP_A, or while our challenge
	 * is out, just waits. */
	chap_exchange_init(&f->ex);
	assert_int_equal(step(f, (struct chap_keys){ 0 }), CHAP_CONTINUE);
	start(f, "5");
	assert_int_equal(step(f, (struct chap_keys){ 0 }), CHAP_CONTINUE);
	/* CHAP_A again. */
	assert_int_equal(step(f, (struct chap_keys){ .a = "5" }), CHAP_PROTOCOL_ERROR);
}

static void test_missing_and_malformed(void **state)
{
	struct fixture *f = *state;
	static const struct chap_keys bad[] = {
		{ .n = "joe" },                                    /* no CHAP_R */
		{ .r = "0x2a1e4f35b57efd670294a7ff264fa260" },      /* no CHAP_N */
		{ .n = "joe", .r = "0x2a1e4f35b57efd670294a7ff264fa26" },  /* odd hex */
		{ .n = "joe", .r = "0b!!!!" },                      /* bad base64 */
		{ .n = "joe", .r = "2a1e4f35b57efd670294a7ff264fa260" },   /* no prefix */
		{ .n = "", .r = "0x2a1e4f35b57efd670294a7ff264fa260" },
		{ .n = "joe", .r = "0x2a1e4f35b57efd670294a7ff264fa260", .i = "7" },
		{ .n = "joe", .r = "0x2a1e4f35b57efd670294a7ff264fa260", .c = "0x00" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		chap_exchange_init(&f->ex);
		start(f, "5");
		assert_int_equal(step(f, bad[i]), CHAP_PROTOCOL_ERROR);
		assert_true(f->why[0] != '\0');
	}
	/* Oversize: 1025 bytes of CHAP_R. */
	static char big[2 + 2 * 1025 + 1];
	memcpy(big, "0x", 2);
	memset(big + 2, 'a', 2 * 1025);
	chap_exchange_init(&f->ex);
	start(f, "5");
	assert_int_equal(step(f, (struct chap_keys){ .n = "joe", .r = big }), CHAP_PROTOCOL_ERROR);
}

#define MUTUAL_C_HEX "0xa0a1a2a3a4a5a6a7a8a9aaabacadaeaf"
#define MUTUAL_C_B64 "0boKGio6SlpqeoqaqrrK2urw=="

static void test_mutual(void **state)
{
	struct fixture *f = *state;
	start(f, "5");
	assert_int_equal(step(f, (struct chap_keys){
				 .n = "joe", .r = "0x2a1e4f35b57efd670294a7ff264fa260",
				 .i = "7", .c = MUTUAL_C_HEX }),
			 CHAP_DONE);
	assert_true(f->ex.mutual);
	assert_string_equal(answer(&f->out, "CHAP_N"), "array");
	assert_string_equal(answer(&f->out, "CHAP_R"), "0x30a9511cafc012c47f7f69c424fe4ac3");
	/* Asked in base64, answered in base64. */
	chap_exchange_init(&f->ex);
	start(f, "5");
	assert_int_equal(step(f, (struct chap_keys){
				 .n = "joe", .r = "0bKh5PNbV+/WcClKf/Jk+iYA==",
				 .i = "0x07", .c = MUTUAL_C_B64 }),
			 CHAP_DONE);
	assert_string_equal(answer(&f->out, "CHAP_R"), "0bMKlRHK/AEsR/f2nEJP5Kww==");
}

static void test_mutual_refused(void **state)
{
	struct fixture *f = *state;
	const char *r = "0x2a1e4f35b57efd670294a7ff264fa260";
	/* Our own challenge reflected. */
	start(f, "5");
	assert_int_equal(step(f, (struct chap_keys){
				 .n = "joe", .r = r, .i = "1",
				 .c = "0x000102030405060708090a0b0c0d0e0f" }),
			 CHAP_AUTH_FAILURE);
	assert_non_null(strstr(f->why, "reflect"));
	assert_int_equal(f->out.len, 0);
	/* Too short a challenge. */
	chap_exchange_init(&f->ex);
	start(f, "5");
	assert_int_equal(step(f, (struct chap_keys){ .n = "joe", .r = r, .i = "7", .c = "0x0102" }),
			 CHAP_AUTH_FAILURE);
	/* CHAP_I out of range / not a number. */
	chap_exchange_init(&f->ex);
	start(f, "5");
	assert_int_equal(step(f, (struct chap_keys){ .n = "joe", .r = r, .i = "256",
						    .c = MUTUAL_C_HEX }),
			 CHAP_PROTOCOL_ERROR);
	/* The initiator's own response wrong: no answer to its challenge. */
	chap_exchange_init(&f->ex);
	start(f, "5");
	assert_int_equal(step(f, (struct chap_keys){
				 .n = "joe", .r = "0x2a1e4f35b57efd670294a7ff264fa261", .i = "7",
				 .c = MUTUAL_C_HEX }),
			 CHAP_AUTH_FAILURE);
	assert_null(answer(&f->out, "CHAP_R"));
	/* No OutgoingUser configured. */
	free(f->creds.outgoing);
	f->creds.outgoing = NULL;
	chap_exchange_init(&f->ex);
	start(f, "5");
	assert_int_equal(step(f, (struct chap_keys){ .n = "joe", .r = r, .i = "7",
						    .c = MUTUAL_C_HEX }),
			 CHAP_AUTH_FAILURE);
	assert_non_null(strstr(f->why, "OutgoingUser"));
}

/* Several IncomingUser lines: any one of them. */
static void test_several_users(void **state)
{
	struct fixture *f = *state;
	struct chap_user u;
	char err[256];
	chap_credentials_clear(&f->creds);
	assert_int_equal(chap_user_parse(&u, "ann othersecret12", err, sizeof(err)), 0);
	assert_int_equal(chap_credentials_add_incoming(&f->creds, &u), 0);
	assert_int_equal(chap_user_parse(&u, "joe 12charsecret", err, sizeof(err)), 0);
	assert_int_equal(chap_credentials_add_incoming(&f->creds, &u), 0);
	start(f, "5");
	assert_int_equal(step(f, (struct chap_keys){
				 .n = "joe", .r = "0x2a1e4f35b57efd670294a7ff264fa260" }),
			 CHAP_DONE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alg_table),
		cmocka_unit_test(test_alg_choose),
		cmocka_unit_test(test_published_vectors),
		cmocka_unit_test(test_decode_hex),
		cmocka_unit_test(test_decode_base64),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_user_parse),
		cmocka_unit_test(test_credentials),
		cmocka_unit_test(test_attrs_parse),
		cmocka_unit_test_setup_teardown(test_one_way_md5, setup, teardown),
		cmocka_unit_test_setup_teardown(test_one_way_sha, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_response, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated_response, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_user, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_common_algorithm, setup, teardown),
		cmocka_unit_test_setup_teardown(test_misplaced_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_and_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mutual, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mutual_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_several_users, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
