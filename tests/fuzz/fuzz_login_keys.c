/* libFuzzer harness: login and text keys through the negotiation code of
 * src/targets/iscsi/params.c, as login.c drives it.
 *
 * Input: one mode byte, then a "key=value\0" text (a Login data segment).
 *   bit 0  SessionType=Discovery
 *   bit 1  the same text arrives a second time (a later Login Request of
 *          the same login: every key already negotiated is repeated)
 *   bit 2  the text's pairs are first taken as the target's scst.conf
 *          attributes (iscsi_target_params_parse), so that the target side
 *          of the negotiation varies too
 *
 * Besides what ASan and UBSan see, the harness checks what RFC 7143 and
 * params.h promise whatever the initiator sent: the answer is itself a
 * well-formed text, no operational key gets two values, the target's
 * declared limits hold, and the results stay within what the target
 * allows. A violation aborts. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "targets/iscsi/params.h"

#define MODE_DISCOVERY 0x01
#define MODE_TWICE 0x02
#define MODE_TARGET_ATTRS 0x04

#define MAX_ATTRS 64

#define CHECK(cond)                                                               \
	do {                                                                      \
		if (!(cond)) {                                                    \
			fprintf(stderr, "fuzz_login_keys: %s:%d: check failed: %s\n", \
				__FILE__, __LINE__, #cond);                       \
			abort();                                                  \
		}                                                                 \
	} while (0)

/* ------------------------------------------------------------------ */
/* The target's attributes from the text. */

struct attr_list {
	struct scst_attr attrs[MAX_ATTRS];
	char *copies[2 * MAX_ATTRS];
	unsigned n;
};

static int collect_attr(void *ctx, const char *key, const char *value)
{
	struct attr_list *al = ctx;
	if (al->n == MAX_ATTRS)
		return 0;
	/* The key lives in iscsi_text_for_each's stack buffer: copy it. */
	char *k = strdup(key), *v = strdup(value);
	CHECK(k && v);
	al->copies[2 * al->n] = k;
	al->copies[2 * al->n + 1] = v;
	al->attrs[al->n++] = (struct scst_attr){ .name = k, .value = v };
	return 0;
}

static void emit_ignore(void *ctx, const char *name, const char *value)
{
	size_t *total = ctx;
	*total += strlen(name) + strlen(value);
}

static void target_from_text(struct iscsi_target_params *tp, const char *text, size_t len)
{
	struct attr_list al = { .n = 0 };
	char err[256] = "";

	iscsi_text_for_each(text, len, collect_attr, &al);
	if (iscsi_target_params_parse(tp, al.attrs, al.n, err, sizeof(err)) < 0) {
		/* A refusal explains itself and leaves usable defaults. */
		CHECK(err[0] != '\0');
		iscsi_target_params_default(tp);
	} else {
		CHECK(tp->first_burst <= tp->max_burst);
		CHECK(strlen(tp->alias) <= ISCSI_ALIAS_MAX);
		size_t total = 0;
		iscsi_target_params_show(tp, emit_ignore, &total);
	}
	for (unsigned i = 0; i < 2 * al.n; i++)
		free(al.copies[i]);
}

/* ------------------------------------------------------------------ */
/* One login's keys, as login.c's negotiate_key() answers them. */

struct login_ctx {
	struct iscsi_negotiation neg;
	struct iscsi_text rsp;
	bool failed;        /* the login would fail (initiator error) */
	bool auth_done;
};

static bool is_identity_key(const char *key)
{
	return strcmp(key, "InitiatorName") == 0 || strcmp(key, "TargetName") == 0 ||
	       strcmp(key, "SessionType") == 0 || strcmp(key, "InitiatorAlias") == 0;
}

static int negotiate(void *ctx, const char *key, const char *value)
{
	struct login_ctx *lc = ctx;
	uint64_t number;

	/* Every value goes through the number parser too: it must take any
	 * string without reading past it. */
	(void)iscsi_parse_number(value, &number);
	if (is_identity_key(key))
		return 0;
	switch (iscsi_negotiate_key(&lc->neg, key, value, &lc->rsp)) {
	case ISCSI_KEY_OK:
		return 0;
	case ISCSI_KEY_REPEATED:
		lc->failed = true;
		return 0;
	case ISCSI_KEY_NOT_OPERATIONAL:
		break;
	}
	if (strcmp(key, "AuthMethod") == 0 && !lc->auth_done) {
		const char *method = iscsi_negotiate_auth_method(value, false);
		iscsi_text_add(&lc->rsp, key, method ? method : "Reject");
		if (method) {
			CHECK(strcmp(method, "None") == 0);
			lc->neg.auth_method = method;
			lc->auth_done = true;
		}
		return 0;
	}
	iscsi_text_add(&lc->rsp, key, "Reject");
	return 0;
}

/* ------------------------------------------------------------------ */
/* What must hold of the answer. */

static const char *const operational_keys[] = {
	"HeaderDigest", "DataDigest", "MaxRecvDataSegmentLength", "MaxBurstLength",
	"FirstBurstLength", "InitialR2T", "ImmediateData", "MaxOutstandingR2T",
	"DataPDUInOrder", "DataSequenceInOrder", "DefaultTime2Wait", "DefaultTime2Retain",
	"ErrorRecoveryLevel", "MaxConnections",
};
#define NKEYS (sizeof(operational_keys) / sizeof(operational_keys[0]))

struct answer_check {
	unsigned count[NKEYS];
};

/* Counts the answers that carry a value. A Reject of the initiator's
 * MaxRecvDataSegmentLength is followed by our own declaration of the same
 * key, so Rejects are left out of the count; that double answer is an
 * open question of its own (tests/fuzz/crashes/README.md). */
static int check_answer(void *ctx, const char *key, const char *value)
{
	struct answer_check *ac = ctx;
	if (strcmp(value, "Reject") == 0)
		return 0;
	for (size_t i = 0; i < NKEYS; i++)
		if (strcmp(key, operational_keys[i]) == 0)
			ac->count[i]++;
	return 0;
}

static void check_result(const struct login_ctx *lc, const struct iscsi_target_params *tp)
{
	const struct iscsi_session_params *sp = &lc->neg.sp;
	struct answer_check ac = { { 0 } };

	CHECK(!lc->rsp.oom);
	CHECK(iscsi_text_for_each(lc->rsp.data, lc->rsp.len, check_answer, &ac) == 0);
	for (size_t i = 0; i < NKEYS; i++)
		CHECK(ac.count[i] <= 1);
	/* RFC 7143 13.14, and what params.h says declare() guarantees. */
	CHECK(sp->first_burst <= sp->max_burst);
	CHECK(sp->max_xmit_dsl >= 512 && sp->max_xmit_dsl <= tp->max_xmit_dsl);
	CHECK(sp->max_recv_dsl == tp->max_recv_dsl);
	CHECK(!sp->header_digest || (tp->header_digest & ISCSI_DIGEST_ALLOW_CRC32C));
	CHECK(!sp->data_digest || (tp->data_digest & ISCSI_DIGEST_ALLOW_CRC32C));
	/* No recovery, one connection, data in order: what we implement. */
	CHECK(sp->error_recovery_level == 0);
	CHECK(sp->max_connections == 1);
	CHECK(sp->data_pdu_in_order && sp->data_sequence_in_order);
	CHECK(sp->max_outstanding_r2t >= 1);
	/* The target's own InitialR2T=Yes always wins (the key is an OR). */
	CHECK(lc->neg.discovery || sp->initial_r2t || !tp->initial_r2t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct iscsi_target_params tp;
	struct login_ctx lc;

	if (size < 1)
		return 0;
	uint8_t mode = data[0];
	const char *text = (const char *)data + 1;
	size_t len = size - 1;

	iscsi_target_params_default(&tp);
	if (mode & MODE_TARGET_ATTRS)
		target_from_text(&tp, text, len);

	memset(&lc, 0, sizeof(lc));
	iscsi_negotiation_init(&lc.neg, &tp);
	lc.neg.discovery = mode & MODE_DISCOVERY;
	for (int round = 0; round < (mode & MODE_TWICE ? 2 : 1); round++) {
		if (iscsi_text_for_each(text, len, negotiate, &lc) < 0)
			lc.failed = true;
		if (lc.failed)
			break;
		iscsi_negotiation_declare(&lc.neg, &lc.rsp);
		check_result(&lc, &tp);
	}
	iscsi_text_free(&lc.rsp);
	return 0;
}
