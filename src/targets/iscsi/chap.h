/* CHAP for iSCSI logins (RFC 7143 12.1.3 on RFC 1994), as pure logic: the
 * algorithms, the encodings of binary values, the response computation,
 * the credentials a target accepts and the exchange, step by step. No
 * sockets, no core: login.c feeds it the CHAP keys of each request and
 * sends what it answers.
 *
 * The exchange, target side:
 *   I: AuthMethod=CHAP,...           T: AuthMethod=CHAP     (params.c)
 *   I: CHAP_A=<list>                 T: CHAP_A=a CHAP_I=i CHAP_C=c
 *   I: CHAP_N=n CHAP_R=r             authenticated (one-way), or with
 *      [CHAP_I=i' CHAP_C=c']         T: CHAP_N=n' CHAP_R=r' (mutual) */
#ifndef USCST_TARGETS_ISCSI_CHAP_H
#define USCST_TARGETS_ISCSI_CHAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "targets/iscsi/params.h"

/* Algorithm numbers of CHAP_A (IANA "PPP Authentication Algorithms",
 * RFC 7143 12.1.3). */
enum chap_alg_number {
	CHAP_ALG_MD5 = 5,
	CHAP_ALG_SHA1 = 6,
	CHAP_ALG_SHA256 = 7,
	CHAP_ALG_SHA3_256 = 8,
};

struct chap_alg {
	unsigned number;
	const char *name;        /* as logs and docs spell it */
	const char *evp_name;    /* OpenSSL's digest name */
	size_t digest_len;
};

/* The algorithm with IANA number @number, or NULL if we do not do it. */
const struct chap_alg *chap_alg_by_number(unsigned number);

/* The first algorithm of @offered (CHAP_A's value: numbers separated by
 * commas, in the initiator's order of preference) that we do, or NULL.
 * Numbers we do not know are skipped, as RFC 1994 lets a peer offer
 * them. */
const struct chap_alg *chap_alg_choose(const char *offered);

/* H(id || secret || challenge) (RFC 1994 4.1) into @out, which holds
 * alg->digest_len bytes. Returns 0, or -1 if libcrypto failed. */
int chap_response(const struct chap_alg *alg, uint8_t id, const uint8_t *secret,
		  size_t secret_len, const uint8_t *challenge, size_t challenge_len,
		  uint8_t *out);

/* ------------------------------------------------------------------ */
/* Binary values (RFC 7143 6.1): "0x" hex or "0b" base64. */

enum chap_encoding {
	CHAP_ENC_HEX,
	CHAP_ENC_BASE64,
};

/* Longest binary value we take from the wire or send: CHAP_C of up to
 * 1024 bytes (RFC 7143 12.1.3). */
#define CHAP_BINARY_MAX 1024

/* Decodes @s into @out (room for @max bytes). Hex needs an even number
 * of digits: an odd count leaves it unclear which byte the extra nibble
 * belongs to, and no initiator sends one. Base64 is RFC 4648's, padded,
 * nothing but the alphabet. Returns the length, or -1 (malformed, empty,
 * or longer than @max) with the reason in @why (never the value). */
long chap_decode(const char *s, uint8_t *out, size_t max, enum chap_encoding *enc,
		 const char **why);

/* Encodes @len bytes into @out (room for @outlen bytes, with the NUL).
 * Returns 0, or -1 if it does not fit. */
int chap_encode(const uint8_t *data, size_t len, enum chap_encoding enc, char *out,
		size_t outlen);

/* Room chap_encode() needs for @len bytes in either encoding: "0x" and 2
 * digits a byte, or "0b" and 4 characters for each 3 bytes (at most 4
 * more than hex), and the NUL. */
#define CHAP_ENCODED_MAX(len) (2 + 2 * (len) + 4 + 1)

/* ------------------------------------------------------------------ */
/* Credentials (scst.conf IncomingUser / OutgoingUser). */

/* RFC 7143 12.1.3: at least 96 bits; 256 bytes is more than anyone types. */
#define CHAP_SECRET_MIN 12
#define CHAP_SECRET_MAX 256
/* CHAP_N: a text value (RFC 7143 6.1, 255 bytes). */
#define CHAP_NAME_MAX 255

struct chap_user {
	char name[CHAP_NAME_MAX + 1];
	uint8_t secret[CHAP_SECRET_MAX];
	size_t secret_len;
};

/* What a target (or the discovery service) accepts. No incoming user:
 * no CHAP, AuthMethod None. An outgoing user answers mutual CHAP. */
struct chap_credentials {
	struct chap_user *incoming;
	unsigned nincoming;
	struct chap_user *outgoing; /* NULL: mutual CHAP is refused */
};

static inline bool chap_required(const struct chap_credentials *c)
{
	return c->nincoming > 0;
}

/* Parses "name secret" (the first blank separates them; the secret is
 * the rest, taken as bytes) into @u. Returns 0, or -1 with the reason. */
int chap_user_parse(struct chap_user *u, const char *value, char *err, size_t errlen);

/* Appends a copy of @u to @c->incoming. Returns 0 or -1 (out of memory). */
int chap_credentials_add_incoming(struct chap_credentials *c, const struct chap_user *u);

/* @dst becomes a copy of @src (whatever @dst held is cleared first).
 * Returns 0, or -1 (out of memory; @dst is then empty). */
int chap_credentials_copy(struct chap_credentials *dst, const struct chap_credentials *src);

/* Wipes the secrets and frees; @c is empty afterwards. */
void chap_credentials_clear(struct chap_credentials *c);

/* Checks RFC 7143 12.1.3's rule that a secret authenticating initiators
 * is never the one authenticating the target. Returns 0, or -1 with the
 * user name in the reason. */
int chap_credentials_check(const struct chap_credentials *c, char *err, size_t errlen);

/* ------------------------------------------------------------------ */
/* The exchange. */

enum chap_state {
	CHAP_WAIT_A,      /* AuthMethod=CHAP agreed; CHAP_A next */
	CHAP_WAIT_NR,     /* our challenge is out; CHAP_N and CHAP_R next */
	CHAP_SUCCEEDED,   /* the initiator (and, mutual, we) authenticated */
	CHAP_FAILED,
};

/* The CHAP keys of one request, NULL where absent. */
struct chap_keys {
	const char *a, *i, *c, *n, *r;
};

/* Target challenge length: at least 16 bytes (what initiators expect of
 * MD5), and never shorter than the digest. */
#define CHAP_TARGET_CHALLENGE_MIN 16
/* The initiator's challenge for mutual CHAP. */
#define CHAP_INITIATOR_CHALLENGE_MIN 16

struct chap_exchange {
	enum chap_state state;
	const struct chap_alg *alg;
	uint8_t id;
	uint8_t challenge[32];
	size_t challenge_len;
	bool mutual;             /* the initiator authenticated us too */
	char user[CHAP_NAME_MAX + 1]; /* CHAP_N that succeeded */
};

enum chap_result {
	CHAP_CONTINUE,       /* answered; more steps to come */
	CHAP_DONE,           /* authenticated (answer may hold our CHAP_N/R) */
	CHAP_PROTOCOL_ERROR, /* malformed or misplaced keys: initiator error */
	CHAP_AUTH_FAILURE,   /* authentication failed */
	CHAP_INTERNAL_ERROR, /* out of memory, libcrypto or RNG failure */
};

/* Random bytes for challenges and identifiers; tests replace it. Returns
 * 0 or -1. Default: OpenSSL's RAND_bytes. */
extern int (*chap_random)(uint8_t *buf, size_t len);

void chap_exchange_init(struct chap_exchange *ex);

/* One request's CHAP keys against the exchange's state, with @creds the
 * credentials the login takes: appends the answer to @out. On anything
 * but CHAP_CONTINUE / CHAP_DONE writes the reason into @why (safe to
 * log: names, never secrets or values). */
enum chap_result chap_exchange_step(struct chap_exchange *ex, const struct chap_keys *keys,
				    const struct chap_credentials *creds, struct iscsi_text *out,
				    char *why, size_t whylen);

#endif
