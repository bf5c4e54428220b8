/* libFuzzer harness: the target's side of a CHAP exchange
 * (src/targets/iscsi/chap.c), request after request, as login.c drives it.
 *
 * Input: one mode byte, then the CHAP keys of successive Login Requests
 * as "key=value\0" texts, one request ending where an empty pair ("\0\0")
 * is.
 *   bit 0  the target has no OutgoingUser (mutual CHAP is refused)
 *   bit 1  challenges from RAND_bytes; without it identifier 1 and the
 *          challenge 0, 1, 2, ..., so that a seed can hold the right
 *          response and reach the mutual step
 * The credentials: IncomingUser joe / 12charsecret and ann /
 * othersecret12, OutgoingUser array / targetsecret12.
 *
 * Besides ASan and UBSan, it checks what chap.h promises whatever the
 * initiator sends: the answer is a well-formed text; a refusal has a
 * reason and the reason shows no secret; a failed exchange never
 * succeeds later; success names a configured user, and a mutual answer
 * is a digest in the encoding the initiator used; every value that
 * decodes encodes back to the same bytes. A violation aborts.
 * FUZZ_CHAP_TRACE=1 in the environment prints each step's result (to
 * see how far a seed gets). */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "targets/iscsi/chap.h"

#define MODE_NO_OUTGOING 0x01
#define MODE_REAL_RANDOM 0x02

#define CHECK(cond)                                                                \
	do {                                                                       \
		if (!(cond)) {                                                     \
			fprintf(stderr, "fuzz_chap: %s:%d: check failed: %s\n",   \
				__FILE__, __LINE__, #cond);                        \
			abort();                                                   \
		}                                                                  \
	} while (0)

static int fixed_random(uint8_t *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(len == 1 ? 1 : i);
	return 0;
}

/* Every value that decodes must encode back to itself (as bytes). */
static void check_round_trip(const char *value)
{
	static uint8_t a[CHAP_BINARY_MAX], b[CHAP_BINARY_MAX];
	static char text[CHAP_ENCODED_MAX(CHAP_BINARY_MAX)];
	enum chap_encoding enc, enc2;
	const char *why = NULL;
	long n = chap_decode(value, a, sizeof(a), &enc, &why);
	if (n < 0) {
		CHECK(why != NULL);
		return;
	}
	CHECK(n > 0 && (size_t)n <= sizeof(a));
	CHECK(chap_encode(a, (size_t)n, enc, text, sizeof(text)) == 0);
	CHECK(chap_decode(text, b, sizeof(b), &enc2, &why) == n);
	CHECK(enc2 == enc && memcmp(a, b, (size_t)n) == 0);
}

struct request {
	struct chap_keys keys;
	bool repeated;    /* a key twice: login.c refuses the request */
};

static int collect(void *ctx, const char *key, const char *value)
{
	struct request *r = ctx;
	const char **slot = NULL;
	if (strcmp(key, "CHAP_A") == 0)
		slot = &r->keys.a;
	else if (strcmp(key, "CHAP_I") == 0)
		slot = &r->keys.i;
	else if (strcmp(key, "CHAP_C") == 0)
		slot = &r->keys.c;
	else if (strcmp(key, "CHAP_N") == 0)
		slot = &r->keys.n;
	else if (strcmp(key, "CHAP_R") == 0)
		slot = &r->keys.r;
	check_round_trip(value);
	if (!slot)
		return 0;
	if (*slot)
		r->repeated = true;
	*slot = value;
	return 0;
}

static int count_pair(void *ctx, const char *key, const char *value)
{
	(void)key;
	(void)value;
	(*(unsigned *)ctx)++;
	return 0;
}

/* The value of @key in @t, or NULL. */
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

static void add_user(struct chap_credentials *c, const char *line)
{
	struct chap_user u;
	char err[256];
	CHECK(chap_user_parse(&u, line, err, sizeof(err)) == 0);
	CHECK(chap_credentials_add_incoming(c, &u) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int (*default_random)(uint8_t *, size_t);
	if (!default_random)
		default_random = chap_random;
	if (size < 1)
		return 0;
	uint8_t mode = data[0];
	chap_random = mode & MODE_REAL_RANDOM ? default_random : fixed_random;

	struct chap_credentials creds = { 0 };
	char err[256];
	add_user(&creds, "joe 12charsecret");
	add_user(&creds, "ann othersecret12");
	if (!(mode & MODE_NO_OUTGOING)) {
		creds.outgoing = malloc(sizeof(*creds.outgoing));
		CHECK(creds.outgoing);
		CHECK(chap_user_parse(creds.outgoing, "array targetsecret12", err, sizeof(err)) == 0);
	}
	struct chap_exchange ex;
	chap_exchange_init(&ex);
	struct iscsi_text out = { 0 };

	/* A private copy ending in NULs, so that the last request is a text. */
	char *text = calloc(1, size + 1);
	CHECK(text);
	memcpy(text, data + 1, size - 1);
	size_t len = size - 1, pos = 0;
	bool failed = false, done = false;
	while (pos < len) {
		/* This request: up to the next "\0\0" (or the end). */
		size_t end = pos;
		while (end < len && !(text[end] == '\0' && (end + 1 >= len || text[end + 1] == '\0')))
			end++;
		/* With its NUL: the copy has one past the input's end. */
		size_t rlen = end - pos + 1;
		struct request r = { 0 };
		int walk = iscsi_text_for_each(text + pos, rlen, collect, &r);
		pos = end + 2;
		if (walk < 0 || r.repeated)
			continue; /* login.c refuses the request before any CHAP step */
		char why[320] = "";
		out.len = 0;
		enum chap_result res = chap_exchange_step(&ex, &r.keys, &creds, &out, why, sizeof(why));
		CHECK(!out.oom);
		if (getenv("FUZZ_CHAP_TRACE"))
			fprintf(stderr, "fuzz_chap: step %d%s%s\n", (int)res, why[0] ? ": " : "",
				why);
		if (out.len) {
			unsigned pairs = 0;
			CHECK(iscsi_text_for_each(out.data, out.len, count_pair, &pairs) == 0);
			CHECK(pairs > 0);
		}
		switch (res) {
		case CHAP_CONTINUE:
			CHECK(!failed && !done);
			break;
		case CHAP_DONE:
			CHECK(!failed);
			CHECK(ex.state == CHAP_SUCCEEDED);
			CHECK(strcmp(ex.user, "joe") == 0 || strcmp(ex.user, "ann") == 0);
			if (!done && ex.mutual) {
				const char *rsp = answer(&out, "CHAP_R");
				uint8_t digest[CHAP_BINARY_MAX];
				enum chap_encoding enc, want;
				const char *bad;
				CHECK(creds.outgoing && rsp);
				CHECK(strcmp(answer(&out, "CHAP_N"), "array") == 0);
				CHECK(chap_decode(rsp, digest, sizeof(digest), &enc, &bad) ==
				      (long)ex.alg->digest_len);
				CHECK(chap_decode(r.keys.c, digest, sizeof(digest), &want, &bad) > 0);
				CHECK(enc == want);
			}
			done = true;
			break;
		case CHAP_PROTOCOL_ERROR:
		case CHAP_AUTH_FAILURE:
		case CHAP_INTERNAL_ERROR:
			CHECK(why[0] != '\0');
			/* An unknown CHAP_N is repeated as sent: the peer's own
			 * words, whatever they spell. */
			if (!r.keys.n || !(strstr(r.keys.n, "12charsecret") ||
					   strstr(r.keys.n, "othersecret12") ||
					   strstr(r.keys.n, "targetsecret12")))
				CHECK(!strstr(why, "12charsecret") && !strstr(why, "othersecret12") &&
				      !strstr(why, "targetsecret12"));
			failed = true;
			break;
		default:
			CHECK(!"an unknown chap_result");
		}
	}
	free(text);
	iscsi_text_free(&out);
	chap_credentials_clear(&creds);
	return 0;
}
