/* CHAP: algorithms, binary encodings, credentials and the target's side
 * of the exchange (chap.h has the sequence). */
#include "targets/iscsi/chap.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------------ */
/* Algorithms. */

static const struct chap_alg algs[] = {
	{ .number = CHAP_ALG_MD5, .name = "MD5", .evp_name = "MD5", .digest_len = 16 },
	{ .number = CHAP_ALG_SHA1, .name = "SHA-1", .evp_name = "SHA1", .digest_len = 20 },
	{ .number = CHAP_ALG_SHA256, .name = "SHA-256", .evp_name = "SHA256", .digest_len = 32 },
	{ .number = CHAP_ALG_SHA3_256, .name = "SHA3-256", .evp_name = "SHA3-256",
	  .digest_len = 32 },
};

const struct chap_alg *chap_alg_by_number(unsigned number)
{
	for (size_t i = 0; i < ARRAY_SIZE(algs); i++)
		if (algs[i].number == number)
			return &algs[i];
	return NULL;
}

const struct chap_alg *chap_alg_choose(const char *offered)
{
	const char *p = offered;
	while (*p) {
		size_t len = strcspn(p, ",");
		uint64_t v;
		char num[24];
		if (len > 0 && len < sizeof(num)) {
			memcpy(num, p, len);
			num[len] = '\0';
			const struct chap_alg *alg;
			if (iscsi_parse_number(num, &v) && v <= 255 &&
			    (alg = chap_alg_by_number((unsigned)v)) != NULL)
				return alg;
		}
		p += len;
		if (*p == ',')
			p++;
	}
	return NULL;
}

int chap_response(const struct chap_alg *alg, uint8_t id, const uint8_t *secret,
		  size_t secret_len, const uint8_t *challenge, size_t challenge_len,
		  uint8_t *out)
{
	/* EVP_MD_fetch would look the digest up on every call; the legacy
	 * getter returns a static table entry. */
	const EVP_MD *md = EVP_get_digestbyname(alg->evp_name);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned len = 0;
	int ok = md && ctx && EVP_DigestInit_ex(ctx, md, NULL) == 1 &&
		 EVP_DigestUpdate(ctx, &id, 1) == 1 &&
		 EVP_DigestUpdate(ctx, secret, secret_len) == 1 &&
		 EVP_DigestUpdate(ctx, challenge, challenge_len) == 1 &&
		 EVP_DigestFinal_ex(ctx, out, &len) == 1;
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return -1;
	assert(len == alg->digest_len);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Encodings. */

static const char b64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int b64_digit(char c)
{
	const char *at = c ? strchr(b64_alphabet, c) : NULL;
	return at ? (int)(at - b64_alphabet) : -1;
}

static long decode_hex(const char *s, uint8_t *out, size_t max, const char **why)
{
	size_t n = strlen(s);
	if (n % 2) {
		*why = "an odd number of hex digits";
		return -1;
	}
	if (n / 2 > max) {
		*why = "a value longer than allowed";
		return -1;
	}
	for (size_t i = 0; i < n; i += 2) {
		int hi = hex_digit(s[i]), lo = hex_digit(s[i + 1]);
		if (hi < 0 || lo < 0) {
			*why = "a character that is not a hex digit";
			return -1;
		}
		out[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	return (long)(n / 2);
}

static long decode_base64(const char *s, uint8_t *out, size_t max, const char **why)
{
	size_t n = strlen(s);
	if (n % 4) {
		*why = "base64 whose length is not a multiple of 4";
		return -1;
	}
	size_t pad = 0;
	if (n >= 1 && s[n - 1] == '=')
		pad++;
	if (n >= 2 && s[n - 2] == '=')
		pad++;
	size_t len = n / 4 * 3 - pad;
	if (len > max) {
		*why = "a value longer than allowed";
		return -1;
	}
	size_t o = 0;
	for (size_t i = 0; i < n; i += 4) {
		bool last = i + 4 == n;
		int d[4];
		for (int k = 0; k < 4; k++) {
			bool padding = last && k >= 4 - (int)pad;
			d[k] = padding ? 0 : b64_digit(s[i + k]);
			if (d[k] < 0) {
				*why = "a character outside the base64 alphabet";
				return -1;
			}
		}
		uint32_t v = (uint32_t)d[0] << 18 | (uint32_t)d[1] << 12 | (uint32_t)d[2] << 6 |
			     (uint32_t)d[3];
		/* Bits below the last byte must be zero (RFC 4648 3.5): else
		 * two spellings would decode to one value. */
		if (last && ((pad == 1 && (v & 0xff)) || (pad == 2 && (v & 0xffff)))) {
			*why = "base64 with non-zero padding bits";
			return -1;
		}
		uint8_t bytes[3] = { (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };
		size_t take = last ? 3 - pad : 3;
		memcpy(out + o, bytes, take);
		o += take;
	}
	assert(o == len);
	return (long)len;
}

long chap_decode(const char *s, uint8_t *out, size_t max, enum chap_encoding *enc,
		 const char **why)
{
	long len;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		*enc = CHAP_ENC_HEX;
		len = decode_hex(s + 2, out, max, why);
	} else if (s[0] == '0' && (s[1] == 'b' || s[1] == 'B')) {
		*enc = CHAP_ENC_BASE64;
		len = decode_base64(s + 2, out, max, why);
	} else {
		*why = "neither 0x (hex) nor 0b (base64)";
		return -1;
	}
	if (len == 0) {
		*why = "an empty value";
		return -1;
	}
	return len;
}

int chap_encode(const uint8_t *data, size_t len, enum chap_encoding enc, char *out,
		size_t outlen)
{
	static const char hex[] = "0123456789abcdef";
	size_t need = enc == CHAP_ENC_HEX ? 2 + 2 * len + 1 : 2 + (len + 2) / 3 * 4 + 1;
	if (need > outlen)
		return -1;
	char *o = out;
	*o++ = '0';
	if (enc == CHAP_ENC_HEX) {
		*o++ = 'x';
		for (size_t i = 0; i < len; i++) {
			*o++ = hex[data[i] >> 4];
			*o++ = hex[data[i] & 15];
		}
	} else {
		*o++ = 'b';
		for (size_t i = 0; i < len; i += 3) {
			size_t left = len - i;
			uint32_t v = (uint32_t)data[i] << 16;
			if (left > 1)
				v |= (uint32_t)data[i + 1] << 8;
			if (left > 2)
				v |= data[i + 2];
			*o++ = b64_alphabet[v >> 18 & 63];
			*o++ = b64_alphabet[v >> 12 & 63];
			*o++ = left > 1 ? b64_alphabet[v >> 6 & 63] : '=';
			*o++ = left > 2 ? b64_alphabet[v & 63] : '=';
		}
	}
	*o++ = '\0';
	assert((size_t)(o - out) == need);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Credentials. */

int chap_user_parse(struct chap_user *u, const char *value, char *err, size_t errlen)
{
	size_t nlen = strcspn(value, " \t");
	const char *secret = value + nlen;
	while (*secret == ' ' || *secret == '\t')
		secret++;
	size_t slen = strlen(secret);
	memset(u, 0, sizeof(*u));
	if (nlen == 0 || slen == 0) {
		/* Not even the name: a lone word may be the secret. */
		snprintf(err, errlen, "a user name and a secret separated by a blank expected");
		return -1;
	}
	if (nlen > CHAP_NAME_MAX) {
		snprintf(err, errlen, "user name longer than %d bytes", CHAP_NAME_MAX);
		return -1;
	}
	if (slen < CHAP_SECRET_MIN || slen > CHAP_SECRET_MAX) {
		/* The reason names the user, never the secret. */
		snprintf(err, errlen, "the secret of user '%.*s' must be %d to %d bytes long"
			 " (RFC 7143 12.1.3: at least 96 bits)", (int)nlen, value,
			 CHAP_SECRET_MIN, CHAP_SECRET_MAX);
		return -1;
	}
	memcpy(u->name, value, nlen);
	u->name[nlen] = '\0';
	memcpy(u->secret, secret, slen);
	u->secret_len = slen;
	return 0;
}

int chap_credentials_add_incoming(struct chap_credentials *c, const struct chap_user *u)
{
	/* No realloc: it would leave a copy of every secret in freed memory. */
	struct chap_user *users = calloc(c->nincoming + 1, sizeof(*users));
	if (!users)
		return -1;
	if (c->nincoming)
		memcpy(users, c->incoming, c->nincoming * sizeof(*users));
	users[c->nincoming] = *u;
	if (c->incoming) {
		OPENSSL_cleanse(c->incoming, c->nincoming * sizeof(*users));
		free(c->incoming);
	}
	c->incoming = users;
	c->nincoming++;
	return 0;
}

void chap_credentials_clear(struct chap_credentials *c)
{
	if (c->incoming) {
		OPENSSL_cleanse(c->incoming, c->nincoming * sizeof(*c->incoming));
		free(c->incoming);
	}
	if (c->outgoing) {
		OPENSSL_cleanse(c->outgoing, sizeof(*c->outgoing));
		free(c->outgoing);
	}
	memset(c, 0, sizeof(*c));
}

int chap_credentials_copy(struct chap_credentials *dst, const struct chap_credentials *src)
{
	chap_credentials_clear(dst);
	if (src->nincoming) {
		dst->incoming = malloc(src->nincoming * sizeof(*dst->incoming));
		if (!dst->incoming)
			return -1;
		memcpy(dst->incoming, src->incoming, src->nincoming * sizeof(*dst->incoming));
		dst->nincoming = src->nincoming;
	}
	if (src->outgoing) {
		dst->outgoing = malloc(sizeof(*dst->outgoing));
		if (!dst->outgoing) {
			chap_credentials_clear(dst);
			return -1;
		}
		*dst->outgoing = *src->outgoing;
	}
	return 0;
}

static bool same_secret(const struct chap_user *a, const struct chap_user *b)
{
	return a->secret_len == b->secret_len &&
	       CRYPTO_memcmp(a->secret, b->secret, a->secret_len) == 0;
}

int chap_credentials_check(const struct chap_credentials *c, char *err, size_t errlen)
{
	if (c->outgoing && !c->nincoming) {
		snprintf(err, errlen, "OutgoingUser without IncomingUser: mutual CHAP follows"
			 " the initiator's authentication, which needs an IncomingUser");
		return -1;
	}
	for (unsigned i = 0; c->outgoing && i < c->nincoming; i++) {
		if (same_secret(&c->incoming[i], c->outgoing)) {
			snprintf(err, errlen, "OutgoingUser '%s' has the secret of IncomingUser '%s'"
				 " (RFC 7143 12.1.3: a secret authenticates one direction only)",
				 c->outgoing->name, c->incoming[i].name);
			return -1;
		}
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* The exchange. */

static int openssl_random(uint8_t *buf, size_t len)
{
	return RAND_bytes(buf, (int)len) == 1 ? 0 : -1;
}

int (*chap_random)(uint8_t *buf, size_t len) = openssl_random;

void chap_exchange_init(struct chap_exchange *ex)
{
	memset(ex, 0, sizeof(*ex));
	ex->state = CHAP_WAIT_A;
}

static enum chap_result failed(struct chap_exchange *ex, enum chap_result r, char *why,
			       size_t whylen, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static enum chap_result failed(struct chap_exchange *ex, enum chap_result r, char *why,
			       size_t whylen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	ex->state = CHAP_FAILED;
	return r;
}

/* CHAP_A: choose, then send our identifier and challenge. */
static enum chap_result send_challenge(struct chap_exchange *ex, const struct chap_keys *k,
				       struct iscsi_text *out, char *why, size_t whylen)
{
	if (k->i || k->c || k->n || k->r)
		return failed(ex, CHAP_PROTOCOL_ERROR, why, whylen,
			      "CHAP_I, CHAP_C, CHAP_N or CHAP_R sent with CHAP_A");
	ex->alg = chap_alg_choose(k->a);
	if (!ex->alg) {
		iscsi_text_add(out, "CHAP_A", "Reject");
		return failed(ex, CHAP_AUTH_FAILURE, why, whylen,
			      "CHAP_A offers none of the algorithms we do"
			      " (5 MD5, 6 SHA-1, 7 SHA-256, 8 SHA3-256)");
	}
	ex->challenge_len = ex->alg->digest_len > CHAP_TARGET_CHALLENGE_MIN
				    ? ex->alg->digest_len : CHAP_TARGET_CHALLENGE_MIN;
	assert(ex->challenge_len <= sizeof(ex->challenge));
	if (chap_random(&ex->id, 1) < 0 || chap_random(ex->challenge, ex->challenge_len) < 0)
		return failed(ex, CHAP_INTERNAL_ERROR, why, whylen, "no random bytes");
	char c[CHAP_ENCODED_MAX(sizeof(ex->challenge))];
	int rc = chap_encode(ex->challenge, ex->challenge_len, CHAP_ENC_HEX, c, sizeof(c));
	assert(rc == 0);
	(void)rc;
	iscsi_text_add_u32(out, "CHAP_A", ex->alg->number);
	iscsi_text_add_u32(out, "CHAP_I", ex->id);
	iscsi_text_add(out, "CHAP_C", c);
	ex->state = CHAP_WAIT_NR;
	return CHAP_CONTINUE;
}

/* Is @r (@rlen bytes) @u's response to our challenge? */
static bool response_matches(const struct chap_exchange *ex, const struct chap_user *u,
			     const uint8_t *r, size_t rlen, bool *internal_error)
{
	uint8_t expected[EVP_MAX_MD_SIZE];
	if (chap_response(ex->alg, ex->id, u->secret, u->secret_len, ex->challenge,
			  ex->challenge_len, expected) < 0) {
		*internal_error = true;
		return false;
	}
	bool match = rlen == ex->alg->digest_len && CRYPTO_memcmp(expected, r, rlen) == 0;
	OPENSSL_cleanse(expected, sizeof(expected));
	return match;
}

/* Mutual CHAP: the initiator's CHAP_I and CHAP_C, answered with our
 * OutgoingUser. @who is the incoming user that just authenticated. */
static enum chap_result answer_challenge(struct chap_exchange *ex, const struct chap_keys *k,
					 const struct chap_credentials *creds,
					 const struct chap_user *who, struct iscsi_text *out,
					 char *why, size_t whylen)
{
	uint64_t id;
	if (!iscsi_parse_number(k->i, &id) || id > 255)
		return failed(ex, CHAP_PROTOCOL_ERROR, why, whylen,
			      "CHAP_I is not a number from 0 to 255");
	uint8_t c[CHAP_BINARY_MAX];
	enum chap_encoding enc;
	const char *bad;
	long clen = chap_decode(k->c, c, sizeof(c), &enc, &bad);
	if (clen < 0)
		return failed(ex, CHAP_PROTOCOL_ERROR, why, whylen, "CHAP_C is malformed (%s)", bad);
	if (clen < CHAP_INITIATOR_CHALLENGE_MIN)
		return failed(ex, CHAP_AUTH_FAILURE, why, whylen,
			      "CHAP_C is shorter than %d bytes", CHAP_INITIATOR_CHALLENGE_MIN);
	if ((size_t)clen == ex->challenge_len &&
	    CRYPTO_memcmp(c, ex->challenge, ex->challenge_len) == 0)
		return failed(ex, CHAP_AUTH_FAILURE, why, whylen,
			      "CHAP_C is the challenge we sent (a reflection attack)");
	if (!creds->outgoing)
		return failed(ex, CHAP_AUTH_FAILURE, why, whylen,
			      "mutual CHAP asked for, but no OutgoingUser is configured");
	if (same_secret(creds->outgoing, who))
		return failed(ex, CHAP_AUTH_FAILURE, why, whylen,
			      "mutual CHAP: the OutgoingUser secret is that of IncomingUser '%s'",
			      who->name);
	uint8_t r[EVP_MAX_MD_SIZE];
	if (chap_response(ex->alg, (uint8_t)id, creds->outgoing->secret,
			  creds->outgoing->secret_len, c, (size_t)clen, r) < 0)
		return failed(ex, CHAP_INTERNAL_ERROR, why, whylen, "digest failed");
	char rs[CHAP_ENCODED_MAX(EVP_MAX_MD_SIZE)];
	int rc = chap_encode(r, ex->alg->digest_len, enc, rs, sizeof(rs));
	assert(rc == 0);
	(void)rc;
	iscsi_text_add(out, "CHAP_N", creds->outgoing->name);
	iscsi_text_add(out, "CHAP_R", rs);
	ex->mutual = true;
	return CHAP_DONE;
}

/* Whether @s may go into a log line as it is: a name we do not know
 * comes from the peer, and a newline in it would forge a line. */
static bool printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

/* CHAP_N and CHAP_R (and for mutual CHAP, CHAP_I and CHAP_C). */
static enum chap_result check_response(struct chap_exchange *ex, const struct chap_keys *k,
				       const struct chap_credentials *creds,
				       struct iscsi_text *out, char *why, size_t whylen)
{
	if (k->a)
		return failed(ex, CHAP_PROTOCOL_ERROR, why, whylen, "CHAP_A sent twice");
	if (!k->n || !k->r)
		return failed(ex, CHAP_PROTOCOL_ERROR, why, whylen, "%s is missing",
			      !k->n && !k->r ? "CHAP_N and CHAP_R" : !k->n ? "CHAP_N" : "CHAP_R");
	if (!k->i != !k->c)
		return failed(ex, CHAP_PROTOCOL_ERROR, why, whylen, "%s without the other",
			      k->i ? "CHAP_I" : "CHAP_C");
	if (!*k->n || strlen(k->n) > CHAP_NAME_MAX)
		return failed(ex, CHAP_PROTOCOL_ERROR, why, whylen,
			      "CHAP_N is empty or longer than %d bytes", CHAP_NAME_MAX);
	uint8_t r[CHAP_BINARY_MAX];
	enum chap_encoding enc;
	const char *bad;
	long rlen = chap_decode(k->r, r, sizeof(r), &enc, &bad);
	if (rlen < 0)
		return failed(ex, CHAP_PROTOCOL_ERROR, why, whylen, "CHAP_R is malformed (%s)", bad);
	/* Every user of that name is tried in full, so the time taken says
	 * nothing about which one came close. */
	const struct chap_user *who = NULL;
	bool known = false, internal = false;
	for (unsigned i = 0; i < creds->nincoming; i++) {
		const struct chap_user *u = &creds->incoming[i];
		if (strcmp(u->name, k->n) != 0)
			continue;
		known = true;
		if (response_matches(ex, u, r, (size_t)rlen, &internal) && !who)
			who = u;
	}
	if (!known) {
		/* A digest for nobody: an unknown name costs what a known one
		 * with a wrong response does, so timing does not tell which
		 * user names exist. */
		static const struct chap_user nobody = { .secret_len = CHAP_SECRET_MIN };
		(void)response_matches(ex, &nobody, r, (size_t)rlen, &internal);
	}
	if (internal)
		return failed(ex, CHAP_INTERNAL_ERROR, why, whylen, "digest failed");
	if (!known)
		return failed(ex, CHAP_AUTH_FAILURE, why, whylen, "unknown CHAP_N '%s'",
			      printable(k->n) ? k->n : "(not printable)");
	if (!who)
		return failed(ex, CHAP_AUTH_FAILURE, why, whylen, "wrong CHAP_R for user '%s'",
			      k->n);
	snprintf(ex->user, sizeof(ex->user), "%s", who->name);
	enum chap_result res = CHAP_DONE;
	if (k->c)
		res = answer_challenge(ex, k, creds, who, out, why, whylen);
	if (res == CHAP_DONE)
		ex->state = CHAP_SUCCEEDED;
	return res;
}

enum chap_result chap_exchange_step(struct chap_exchange *ex, const struct chap_keys *keys,
				    const struct chap_credentials *creds, struct iscsi_text *out,
				    char *why, size_t whylen)
{
	bool any = keys->a || keys->i || keys->c || keys->n || keys->r;
	switch (ex->state) {
	case CHAP_WAIT_A:
		if (!keys->a && any)
			return failed(ex, CHAP_PROTOCOL_ERROR, why, whylen,
				      "CHAP keys before CHAP_A");
		return keys->a ? send_challenge(ex, keys, out, why, whylen) : CHAP_CONTINUE;
	case CHAP_WAIT_NR:
		/* A request without CHAP keys waits for the rest. */
		if (!any)
			return CHAP_CONTINUE;
		return check_response(ex, keys, creds, out, why, whylen);
	case CHAP_SUCCEEDED:
		if (any)
			return failed(ex, CHAP_PROTOCOL_ERROR, why, whylen,
				      "CHAP keys after the exchange ended");
		return CHAP_DONE;
	case CHAP_FAILED:
		break;
	}
	snprintf(why, whylen, "the CHAP exchange failed before");
	return CHAP_PROTOCOL_ERROR;
}
