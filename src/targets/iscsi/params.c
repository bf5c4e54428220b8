/* Login key negotiation: one table row per operational key of RFC 7143
 * section 13, with its result function and valid range. */
#include "targets/iscsi/params.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "targets/iscsi/chap.h"
#include "targets/iscsi/pdu.h"

/* ------------------------------------------------------------------ */
/* Text buffers. */

static bool text_reserve(struct iscsi_text *t, size_t more)
{
	if (t->oom)
		return false;
	if (t->len + more <= t->cap)
		return true;
	size_t cap = t->cap ? t->cap : 256;
	while (cap < t->len + more)
		cap *= 2;
	char *p = realloc(t->data, cap);
	if (!p) {
		t->oom = true;
		return false;
	}
	t->data = p;
	t->cap = cap;
	return true;
}

void iscsi_text_free(struct iscsi_text *t)
{
	free(t->data);
	memset(t, 0, sizeof(*t));
}

void iscsi_text_add(struct iscsi_text *t, const char *key, const char *value)
{
	size_t klen = strlen(key), vlen = strlen(value);
	if (!text_reserve(t, klen + vlen + 2))
		return;
	memcpy(t->data + t->len, key, klen);
	t->data[t->len + klen] = '=';
	memcpy(t->data + t->len + klen + 1, value, vlen);
	t->data[t->len + klen + 1 + vlen] = '\0';
	t->len += klen + vlen + 2;
}

void iscsi_text_append(struct iscsi_text *t, const void *data, size_t len)
{
	/* An empty text segment arrives without a buffer (data == NULL). */
	if (len == 0)
		return;
	if (!text_reserve(t, len))
		return;
	memcpy(t->data + t->len, data, len);
	t->len += len;
}

void iscsi_text_add_u32(struct iscsi_text *t, const char *key, uint32_t value)
{
	char buf[16];
	snprintf(buf, sizeof(buf), "%" PRIu32, value);
	iscsi_text_add(t, key, buf);
}

int iscsi_text_for_each(const char *data, size_t len,
			int (*fn)(void *ctx, const char *key, const char *value), void *ctx)
{
	/* Trailing padding NULs are tolerated; a final pair without its NUL
	 * is not. */
	size_t pos = 0;
	while (pos < len) {
		const char *pair = data + pos;
		const char *end = memchr(pair, '\0', len - pos);
		if (!end)
			return -1;
		size_t plen = (size_t)(end - pair);
		pos += plen + 1;
		if (plen == 0)
			continue;
		const char *eq = memchr(pair, '=', plen);
		if (!eq || eq == pair || plen > 8192 + 64)
			return -1;
		char key[64];
		size_t klen = (size_t)(eq - pair);
		if (klen >= sizeof(key))
			return -1;
		memcpy(key, pair, klen);
		key[klen] = '\0';
		int rc = fn(ctx, key, eq + 1);
		if (rc)
			return rc;
	}
	return 0;
}

bool iscsi_parse_number(const char *s, uint64_t *out)
{
	if (!*s || *s == '-' || *s == '+' || *s == ' ')
		return false;
	int base = 10;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
		if (!*s)
			return false;
	}
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, base);
	if (errno || *end)
		return false;
	*out = v;
	return true;
}

/* ------------------------------------------------------------------ */
/* Target parameters (scst.conf attributes). */

void iscsi_target_params_default(struct iscsi_target_params *tp)
{
	*tp = (struct iscsi_target_params){
		.header_digest = ISCSI_DIGEST_ALLOW_NONE | ISCSI_DIGEST_ALLOW_CRC32C,
		.data_digest = ISCSI_DIGEST_ALLOW_NONE | ISCSI_DIGEST_ALLOW_CRC32C,
		.max_recv_dsl = 1048576,
		.max_xmit_dsl = 1048576,
		.max_burst = 1048576,
		.first_burst = 1048576,
		.initial_r2t = false,
		.immediate_data = true,
		.max_outstanding_r2t = 32,
		.queued_cmds = 32,
		.nop_in_interval = 30,
		.nop_in_timeout = 30,
		.rsp_timeout = 90,
		/* SCST's MaxSessions is 0 (unlimited); a bound that no real
		 * deployment reaches keeps one target from taking every
		 * connection the daemon has (docs/limits.md). */
		.max_sessions = ISCSI_DEFAULT_MAX_SESSIONS,
		.max_sessions_per_initiator = ISCSI_DEFAULT_MAX_SESSIONS_PER_INITIATOR,
	};
}

/* "None", "CRC32C", "CRC32C,None", ... */
static bool parse_digest_pref(const char *value, unsigned *out)
{
	unsigned bits = 0;
	const char *p = value;
	while (*p) {
		size_t n = strcspn(p, ",");
		if (n == 4 && strncmp(p, "None", 4) == 0)
			bits |= ISCSI_DIGEST_ALLOW_NONE;
		else if (n == 6 && strncasecmp(p, "CRC32C", 6) == 0)
			bits |= ISCSI_DIGEST_ALLOW_CRC32C;
		else
			return false;
		p += n;
		if (*p == ',')
			p++;
	}
	if (!bits)
		return false;
	*out = bits;
	return true;
}

struct target_attr_desc {
	const char *name;
	enum { TA_DIGEST, TA_U32, TA_BOOL } kind;
	size_t off;
	uint32_t lo, hi;
};

#define TA(n, k, f, l, h) { .name = n, .kind = k, .off = offsetof(struct iscsi_target_params, f), .lo = l, .hi = h }

static const struct target_attr_desc target_attrs[] = {
	TA("HeaderDigest", TA_DIGEST, header_digest, 0, 0),
	TA("DataDigest", TA_DIGEST, data_digest, 0, 0),
	TA("MaxRecvDataSegmentLength", TA_U32, max_recv_dsl, 512, ISCSI_MAX_DSL),
	TA("MaxXmitDataSegmentLength", TA_U32, max_xmit_dsl, 512, ISCSI_MAX_DSL),
	TA("MaxBurstLength", TA_U32, max_burst, 512, ISCSI_MAX_DSL),
	TA("FirstBurstLength", TA_U32, first_burst, 512, ISCSI_MAX_DSL),
	TA("InitialR2T", TA_BOOL, initial_r2t, 0, 0),
	TA("ImmediateData", TA_BOOL, immediate_data, 0, 0),
	TA("MaxOutstandingR2T", TA_U32, max_outstanding_r2t, 1, 65535),
	TA("QueuedCommands", TA_U32, queued_cmds, 1, 2048),
	TA("NopInInterval", TA_U32, nop_in_interval, 0, 65535),
	TA("NopInTimeout", TA_U32, nop_in_timeout, 1, 65535),
	TA("RspTimeout", TA_U32, rsp_timeout, 1, 65535),
	TA("MaxSessions", TA_U32, max_sessions, 0, 65535),
	TA("MaxSessionsPerInitiator", TA_U32, max_sessions_per_initiator, 0, 65535),
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static int parse_one_attr(struct iscsi_target_params *tp, const struct target_attr_desc *d,
			  const char *value, char *err, size_t errlen)
{
	char *field = (char *)tp + d->off;
	uint64_t v;
	bool b;
	switch (d->kind) {
	case TA_DIGEST:
		if (!parse_digest_pref(value, (unsigned *)(void *)field))
			goto bad;
		return 0;
	case TA_BOOL:
		if (strcmp(value, "Yes") == 0)
			b = true;
		else if (strcmp(value, "No") == 0)
			b = false;
		else if (!scst_attr_bool(value, &b))
			goto bad;
		*(bool *)(void *)field = b;
		return 0;
	case TA_U32:
		if (!scst_attr_u64(value, &v) || v < d->lo || v > d->hi)
			goto bad;
		*(uint32_t *)(void *)field = (uint32_t)v;
		return 0;
	}
bad:
	snprintf(err, errlen, "bad value '%s' for iSCSI target attribute %s", value, d->name);
	return -1;
}

int iscsi_target_params_parse(struct iscsi_target_params *tp, struct scst_attr *attrs,
			      unsigned nattrs, char *err, size_t errlen)
{
	for (unsigned i = 0; i < nattrs; i++) {
		if (strcmp(attrs[i].name, "TargetAlias") == 0) {
			if (strlen(attrs[i].value) > ISCSI_ALIAS_MAX) {
				snprintf(err, errlen, "TargetAlias is longer than %d bytes",
					 ISCSI_ALIAS_MAX);
				return -1;
			}
			strcpy(tp->alias, attrs[i].value);
			attrs[i].consumed = true;
			continue;
		}
		for (size_t k = 0; k < ARRAY_SIZE(target_attrs); k++) {
			if (strcmp(attrs[i].name, target_attrs[k].name) != 0)
				continue;
			if (parse_one_attr(tp, &target_attrs[k], attrs[i].value, err, errlen))
				return -1;
			attrs[i].consumed = true;
		}
	}
	if (tp->first_burst > tp->max_burst) {
		snprintf(err, errlen, "FirstBurstLength %u exceeds MaxBurstLength %u",
			 tp->first_burst, tp->max_burst);
		return -1;
	}
	return 0;
}

static const char *digest_pref_string(unsigned bits)
{
	switch (bits) {
	case ISCSI_DIGEST_ALLOW_NONE:
		return "None";
	case ISCSI_DIGEST_ALLOW_CRC32C:
		return "CRC32C";
	default:
		return "CRC32C,None";
	}
}

void iscsi_target_params_show(const struct iscsi_target_params *tp,
			      void (*emit)(void *ctx, const char *name, const char *value),
			      void *ctx)
{
	char buf[16];
	for (size_t k = 0; k < ARRAY_SIZE(target_attrs); k++) {
		const struct target_attr_desc *d = &target_attrs[k];
		const char *field = (const char *)tp + d->off;
		const char *value = buf;
		switch (d->kind) {
		case TA_DIGEST:
			value = digest_pref_string(*(const unsigned *)(const void *)field);
			break;
		case TA_BOOL:
			value = *(const bool *)(const void *)field ? "Yes" : "No";
			break;
		case TA_U32:
			snprintf(buf, sizeof(buf), "%u", *(const uint32_t *)(const void *)field);
			break;
		}
		emit(ctx, d->name, value);
	}
	if (tp->alias[0])
		emit(ctx, "TargetAlias", tp->alias);
}

/* ------------------------------------------------------------------ */
/* Session parameters. */

void iscsi_session_params_default(struct iscsi_session_params *sp,
				  const struct iscsi_target_params *tp)
{
	*sp = (struct iscsi_session_params){
		.header_digest = false,
		.data_digest = false,
		.max_recv_dsl = tp->max_recv_dsl,
		.max_xmit_dsl = 8192 < tp->max_xmit_dsl ? 8192 : tp->max_xmit_dsl,
		.max_burst = 262144,
		.first_burst = 65536,
		.initial_r2t = true,
		.immediate_data = true,
		.max_outstanding_r2t = 1,
		.data_pdu_in_order = true,
		.data_sequence_in_order = true,
		.default_time2wait = 2,
		.default_time2retain = 20,
		.error_recovery_level = 0,
		.max_connections = 1,
	};
}

void iscsi_negotiation_init(struct iscsi_negotiation *n, const struct iscsi_target_params *tp)
{
	memset(n, 0, sizeof(*n));
	n->tp = tp;
	iscsi_session_params_default(&n->sp, tp);
}

/* How a key's result is computed (RFC 7143 6.2). */
enum key_kind {
	KEY_DIGEST,   /* list: first of the initiator's we accept */
	KEY_DECLARE,  /* declarative number: the initiator's receive limit */
	KEY_MIN,      /* numerical, result = min(offer, ours) */
	KEY_MAX,      /* numerical, result = max(offer, ours) */
	KEY_OR,       /* boolean, result = offer OR ours */
	KEY_AND,      /* boolean, result = offer AND ours */
};

struct key_desc {
	const char *name;
	enum key_kind kind;
	uint32_t lo, hi;            /* valid range of a numerical value */
	bool irrelevant_in_discovery;
	size_t sp_off;              /* result field in iscsi_session_params */
	/* Our side: a field of iscsi_target_params, or a constant. */
	bool from_target;
	size_t tp_off;
	uint32_t fixed;
};

#define SP(f) .sp_off = offsetof(struct iscsi_session_params, f)
#define TP(f) .from_target = true, .tp_off = offsetof(struct iscsi_target_params, f)

static const struct key_desc keys[] = {
	{ .name = "HeaderDigest", .kind = KEY_DIGEST, SP(header_digest), TP(header_digest) },
	{ .name = "DataDigest", .kind = KEY_DIGEST, SP(data_digest), TP(data_digest) },
	{ .name = "MaxRecvDataSegmentLength", .kind = KEY_DECLARE, .lo = 512,
	  .hi = ISCSI_MAX_DSL, SP(max_xmit_dsl), TP(max_xmit_dsl) },
	{ .name = "MaxBurstLength", .kind = KEY_MIN, .lo = 512, .hi = ISCSI_MAX_DSL,
	  .irrelevant_in_discovery = true, SP(max_burst), TP(max_burst) },
	{ .name = "FirstBurstLength", .kind = KEY_MIN, .lo = 512, .hi = ISCSI_MAX_DSL,
	  .irrelevant_in_discovery = true, SP(first_burst), TP(first_burst) },
	{ .name = "InitialR2T", .kind = KEY_OR, .irrelevant_in_discovery = true,
	  SP(initial_r2t), TP(initial_r2t) },
	{ .name = "ImmediateData", .kind = KEY_AND, .irrelevant_in_discovery = true,
	  SP(immediate_data), TP(immediate_data) },
	{ .name = "MaxOutstandingR2T", .kind = KEY_MIN, .lo = 1, .hi = 65535,
	  .irrelevant_in_discovery = true, SP(max_outstanding_r2t), TP(max_outstanding_r2t) },
	/* We check Data-Out offsets and sequences in order, so we insist. */
	{ .name = "DataPDUInOrder", .kind = KEY_OR, .irrelevant_in_discovery = true,
	  SP(data_pdu_in_order), .fixed = 1 },
	{ .name = "DataSequenceInOrder", .kind = KEY_OR, .irrelevant_in_discovery = true,
	  SP(data_sequence_in_order), .fixed = 1 },
	/* No connection or session recovery at ErrorRecoveryLevel 0: the
	 * initiator may wait as little as it likes and we retain nothing. */
	{ .name = "DefaultTime2Wait", .kind = KEY_MAX, .lo = 0, .hi = 3600,
	  SP(default_time2wait), .fixed = 0 },
	{ .name = "DefaultTime2Retain", .kind = KEY_MIN, .lo = 0, .hi = 3600,
	  SP(default_time2retain), .fixed = 0 },
	{ .name = "ErrorRecoveryLevel", .kind = KEY_MIN, .lo = 0, .hi = 2,
	  SP(error_recovery_level), .fixed = 0 },
	{ .name = "MaxConnections", .kind = KEY_MIN, .lo = 1, .hi = 65535,
	  SP(max_connections), .fixed = 1 },
};

/* Keys the login code handles itself (declarations, security). */
static const char *const non_operational_keys[] = {
	"InitiatorName", "InitiatorAlias", "TargetName", "SessionType", "AuthMethod",
	"CHAP_A", "CHAP_I", "CHAP_C", "CHAP_N", "CHAP_R",
	/* Declared by targets only; an initiator sending them is answered
	 * by the login code. */
	"TargetAlias", "TargetPortalGroupTag", "TargetAddress",
};

static uint32_t our_u32(const struct iscsi_negotiation *n, const struct key_desc *d)
{
	if (!d->from_target)
		return d->fixed;
	return *(const uint32_t *)(const void *)((const char *)n->tp + d->tp_off);
}

static bool our_bool(const struct iscsi_negotiation *n, const struct key_desc *d)
{
	if (!d->from_target)
		return d->fixed != 0;
	return *(const bool *)(const void *)((const char *)n->tp + d->tp_off);
}

static void answer_digest(struct iscsi_negotiation *n, const struct key_desc *d,
			  const char *value, struct iscsi_text *out)
{
	unsigned accept = our_u32(n, d);
	bool *result = (bool *)(void *)((char *)&n->sp + d->sp_off);
	const char *p = value;
	while (*p) {
		size_t len = strcspn(p, ",");
		if (len == 4 && strncmp(p, "None", 4) == 0 && (accept & ISCSI_DIGEST_ALLOW_NONE)) {
			*result = false;
			iscsi_text_add(out, d->name, "None");
			return;
		}
		if (len == 6 && strncmp(p, "CRC32C", 6) == 0 &&
		    (accept & ISCSI_DIGEST_ALLOW_CRC32C)) {
			*result = true;
			iscsi_text_add(out, d->name, "CRC32C");
			return;
		}
		p += len;
		if (*p == ',')
			p++;
	}
	iscsi_text_add(out, d->name, "Reject");
}

static void answer_number(struct iscsi_negotiation *n, const struct key_desc *d,
			  const char *value, struct iscsi_text *out)
{
	uint32_t *result = (uint32_t *)(void *)((char *)&n->sp + d->sp_off);
	uint64_t offer;
	if (!iscsi_parse_number(value, &offer) || offer < d->lo || offer > d->hi) {
		iscsi_text_add(out, d->name, "Reject");
		return;
	}
	uint32_t ours = our_u32(n, d);
	switch (d->kind) {
	case KEY_DECLARE:
		/* The initiator's receive limit bounds what we send; nothing
		 * to answer (our own limit is declared separately). */
		*result = (uint32_t)offer < ours ? (uint32_t)offer : ours;
		return;
	case KEY_MIN:
		*result = (uint32_t)offer < ours ? (uint32_t)offer : ours;
		break;
	case KEY_MAX:
		*result = (uint32_t)offer > ours ? (uint32_t)offer : ours;
		break;
	default:
		return;
	}
	iscsi_text_add_u32(out, d->name, *result);
}

static void answer_bool(struct iscsi_negotiation *n, const struct key_desc *d,
			const char *value, struct iscsi_text *out)
{
	bool *result = (bool *)(void *)((char *)&n->sp + d->sp_off);
	bool offer;
	if (strcmp(value, "Yes") == 0) {
		offer = true;
	} else if (strcmp(value, "No") == 0) {
		offer = false;
	} else {
		iscsi_text_add(out, d->name, "Reject");
		return;
	}
	bool ours = our_bool(n, d);
	*result = d->kind == KEY_OR ? (offer || ours) : (offer && ours);
	iscsi_text_add(out, d->name, *result ? "Yes" : "No");
}

enum iscsi_key_result iscsi_negotiate_key(struct iscsi_negotiation *n, const char *key,
					  const char *value, struct iscsi_text *out)
{
	for (size_t i = 0; i < ARRAY_SIZE(non_operational_keys); i++)
		if (strcmp(key, non_operational_keys[i]) == 0)
			return ISCSI_KEY_NOT_OPERATIONAL;
	const struct key_desc *d = NULL;
	size_t idx;
	for (idx = 0; idx < ARRAY_SIZE(keys); idx++) {
		if (strcmp(key, keys[idx].name) == 0) {
			d = &keys[idx];
			break;
		}
	}
	if (!d) {
		iscsi_text_add(out, key, "NotUnderstood");
		return ISCSI_KEY_OK;
	}
	if (n->seen & (1u << idx))
		return ISCSI_KEY_REPEATED;
	n->seen |= 1u << idx;
	if (n->discovery && d->irrelevant_in_discovery) {
		iscsi_text_add(out, key, "Irrelevant");
		return ISCSI_KEY_OK;
	}
	switch (d->kind) {
	case KEY_DIGEST:
		answer_digest(n, d, value, out);
		break;
	case KEY_DECLARE:
	case KEY_MIN:
	case KEY_MAX:
		answer_number(n, d, value, out);
		break;
	case KEY_OR:
	case KEY_AND:
		answer_bool(n, d, value, out);
		break;
	}
	return ISCSI_KEY_OK;
}

void iscsi_negotiation_declare(struct iscsi_negotiation *n, struct iscsi_text *out)
{
	if (!n->declared_mrdsl) {
		iscsi_text_add_u32(out, "MaxRecvDataSegmentLength", n->sp.max_recv_dsl);
		n->declared_mrdsl = true;
	}
	/* FirstBurstLength never exceeds MaxBurstLength (RFC 7143 13.14). */
	if (n->sp.first_burst > n->sp.max_burst)
		n->sp.first_burst = n->sp.max_burst;
}

const char *iscsi_negotiate_auth_method(const char *offered, bool chap_required)
{
	const char *want = chap_required ? "CHAP" : "None";
	size_t want_len = strlen(want);
	const char *p = offered;
	while (*p) {
		size_t len = strcspn(p, ",");
		if (len == want_len && strncmp(p, want, len) == 0)
			return want;
		p += len;
		if (*p == ',')
			p++;
	}
	return NULL;
}

/* ------------------------------------------------------------------ */
/* CHAP credentials (scst.conf attributes of a target or of the driver). */

int iscsi_chap_attrs_parse(struct chap_credentials *creds, struct scst_attr *attrs,
			   unsigned nattrs, char *err, size_t errlen)
{
	struct chap_user u;
	assert(!creds->nincoming && !creds->outgoing);
	for (unsigned i = 0; i < nattrs; i++) {
		bool incoming = strcmp(attrs[i].name, "IncomingUser") == 0;
		if (!incoming && strcmp(attrs[i].name, "OutgoingUser") != 0)
			continue;
		char why[192];
		if (chap_user_parse(&u, attrs[i].value, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "%s: %s", attrs[i].name, why);
			goto fail;
		}
		if (incoming) {
			if (chap_credentials_add_incoming(creds, &u) < 0)
				goto oom;
		} else {
			if (creds->outgoing) {
				snprintf(err, errlen, "OutgoingUser given twice (mutual CHAP"
					 " answers with one)");
				goto fail;
			}
			creds->outgoing = malloc(sizeof(*creds->outgoing));
			if (!creds->outgoing)
				goto oom;
			*creds->outgoing = u;
		}
		attrs[i].consumed = true;
	}
	OPENSSL_cleanse(&u, sizeof(u));
	if (chap_credentials_check(creds, err, errlen) < 0) {
		chap_credentials_clear(creds);
		return -1;
	}
	return 0;
oom:
	snprintf(err, errlen, "out of memory");
fail:
	OPENSSL_cleanse(&u, sizeof(u));
	chap_credentials_clear(creds);
	return -1;
}
