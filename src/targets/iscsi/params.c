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

#include "core/attr_desc.h"
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

/* The message iSCSI target attributes have always had. */
static void target_bad_value(const struct scst_attr_desc *d, const char *value,
			     const char *expect, char *err, size_t errlen)
{
	snprintf(err, errlen, "bad value '%s' for iSCSI target attribute %s", value, d->name);
}

static int parse_digest(void *obj, const struct scst_attr_desc *d, const char *value, char *err,
			size_t errlen)
{
	unsigned *field = (unsigned *)(void *)((char *)obj + d->offset);

	if (!parse_digest_pref(value, field)) {
		target_bad_value(d, value, NULL, err, errlen);
		return -1;
	}
	return 0;
}

static void show_digest(const void *obj, const struct scst_attr_desc *d, scst_attr_emit_fn *emit,
			void *ctx)
{
	emit(ctx, d->name,
	     digest_pref_string(*(const unsigned *)(const void *)((const char *)obj + d->offset)));
}

static int check_bursts(const void *obj, char *err, size_t errlen)
{
	const struct iscsi_target_params *tp = obj;

	if (tp->first_burst > tp->max_burst) {
		snprintf(err, errlen, "FirstBurstLength %u exceeds MaxBurstLength %u",
			 tp->first_burst, tp->max_burst);
		return -1;
	}
	return 0;
}

#define DECIMAL(x) DECIMAL_(x)
#define DECIMAL_(x) #x

#define TP_FIELD(member) SCST_ATTR_FIELD(struct iscsi_target_params, member)
#define TP_DIGEST(key, member, text)                                                  \
	{ .name = key, .type = SCST_ATTR_CUSTOM, TP_FIELD(member), .def = "CRC32C,None", \
	  .type_name = "digest list: None, CRC32C or both", .parse = parse_digest,     \
	  .show = show_digest, .help = text }
#define TP_U32(key, member, lo, hi, default_value, text)                              \
	{ .name = key, .type = SCST_ATTR_UINT, TP_FIELD(member), .min = lo, .max = hi,  \
	  .def = default_value, .help = text }
#define TP_BOOL(key, member, default_value, text)                                     \
	{ .name = key, .type = SCST_ATTR_BOOL, .flags = SCST_ATTR_YES_NO, TP_FIELD(member), \
	  .def = default_value, .help = text }

/* Offered to initiators at login: a change would reach new sessions only
 * (login.c copies them), so none is changeable at run time yet. */
static const struct scst_attr_desc target_param_descs[] = {
	TP_DIGEST("HeaderDigest", header_digest, "Header digests the target accepts."),
	TP_DIGEST("DataDigest", data_digest, "Data digests the target accepts."),
	TP_U32("MaxRecvDataSegmentLength", max_recv_dsl, 512, ISCSI_MAX_DSL, "1048576",
	       "Largest data segment the target receives (declared at login)."),
	TP_U32("MaxXmitDataSegmentLength", max_xmit_dsl, 512, ISCSI_MAX_DSL, "1048576",
	       "Largest data segment the target sends, whatever the initiator declares."),
	TP_U32("MaxBurstLength", max_burst, 512, ISCSI_MAX_DSL, "1048576",
	       "Largest burst of solicited data the target offers."),
	TP_U32("FirstBurstLength", first_burst, 512, ISCSI_MAX_DSL, "1048576",
	       "Largest unsolicited data the target offers; at most MaxBurstLength."),
	TP_BOOL("InitialR2T", initial_r2t, "No",
		"Yes: no unsolicited Data-Out before the first R2T."),
	TP_BOOL("ImmediateData", immediate_data, "Yes",
		"Data may come with the SCSI Command PDU."),
	TP_U32("MaxOutstandingR2T", max_outstanding_r2t, 1, 65535, "32",
	       "R2Ts outstanding per command the target offers."),
	TP_U32("QueuedCommands", queued_cmds, 1, 2048, "32",
	       "Commands a session may have outstanding (the CmdSN window)."),
	TP_U32("NopInInterval", nop_in_interval, 0, 65535, "30",
	       "Seconds of silence before the target pings; 0: never."),
	TP_U32("NopInTimeout", nop_in_timeout, 1, 65535, "30",
	       "Seconds a ping may go unanswered before the connection is closed."),
	TP_U32("RspTimeout", rsp_timeout, 1, 65535, "90",
	       "Seconds the initiator may take to take a response; also bounds a whole login."),
	/* SCST's MaxSessions is 0 (unlimited); a bound that no real
	 * deployment reaches keeps one target from taking every connection
	 * the daemon has (docs/limits.md). */
	TP_U32("MaxSessions", max_sessions, 0, 65535, DECIMAL(ISCSI_DEFAULT_MAX_SESSIONS),
	       "Sessions the target holds at once; 0: no limit."),
	TP_U32("MaxSessionsPerInitiator", max_sessions_per_initiator, 0, 65535,
	       DECIMAL(ISCSI_DEFAULT_MAX_SESSIONS_PER_INITIATOR),
	       "Sessions one initiator name may hold on the target; 0: no limit."),
	TP_U32("ErrorRecoveryLevel", error_recovery_level, 0, 2, "0",
	       "Highest ErrorRecoveryLevel the target offers: 1 adds SNACK, DataACK and "
	       "recovery R2T, 2 connection recovery and TASK REASSIGN."),
	TP_U32("DefaultTime2Wait", default_time2wait, 0, 3600, "2",
	       "Seconds an initiator waits before reconnecting after a connection fails."),
	TP_U32("DefaultTime2Retain", default_time2retain, 0, 3600, "20",
	       "Seconds after DefaultTime2Wait a failed connection's tasks are kept for "
	       "TASK REASSIGN (ErrorRecoveryLevel 2)."),
	TP_U32("MaxConnections", max_connections, 1, 65535, "8",
	       "Connections one session may have (MC/S); the initiator may ask for fewer."),
	{ .name = "TargetAlias", .type = SCST_ATTR_CHARS, TP_FIELD(alias),
	  .help = "A human-readable name declared at login (RFC 7143 13.6); none by default." },
	{ .name = "redirect", .type = SCST_ATTR_CUSTOM, TP_FIELD(redirect),
	  .type_name = "ADDRESS[:PORT][,TPGT]", .parse = iscsi_redirect_parse,
	  .show = iscsi_redirect_show,
	  .help = "Where normal-session logins are redirected (status 0x0101/0x0102, "
		  "docs/redirect.md): an IPv4 address, [IPv6 address] or DNS name, port 3260 "
		  "by default; empty: none (the default)." },
	{ .name = "redirect_type", .type = SCST_ATTR_ENUM, TP_FIELD(redirect.type),
	  .choices = iscsi_redirect_types, .def = "temporary",
	  .help = "temporary: status 0x0101, SendTargets still lists this portal; permanent: "
		  "0x0102, SendTargets lists the redirect address." },
	/* RFC 7143 13.9: 0 is a legal tag, but open-iscsi and SCST treat it
	 * as "none"; SCST's own range for it starts at 1 too. */
	TP_U32("TargetPortalGroupTag", tpgt, 1, 65535, "1",
	       "The target's portal group tag, declared at login and listed by SendTargets and "
	       "iSNS (docs/redirect.md)."),
};

const struct scst_attr_table iscsi_target_param_table = {
	.name = "iscsi",
	.owner = SCST_ATTR_OWNER_TARGET,
	.descs = target_param_descs,
	.ndescs = SCST_ATTR_TABLE_LEN(target_param_descs),
	.object_size = sizeof(struct iscsi_target_params),
	.object_of = iscsi_target_params_of,
	.check = check_bursts,
	.bad_value = target_bad_value,
	/* Sessions keep what they negotiated; new logins see a change. */
	.reparsed_live = true,
};

void iscsi_target_params_default(struct iscsi_target_params *tp)
{
	char err[160];
	int rc;

	*tp = (struct iscsi_target_params){ 0 };
	/* The defaults parse: scst_register_target_template() checked. */
	rc = scst_attr_defaults(&iscsi_target_param_table, tp, err, sizeof(err));
	assert(rc == 0);
	(void)rc;
}

int iscsi_target_params_parse(struct iscsi_target_params *tp, struct scst_attr *attrs,
			      unsigned nattrs, char *err, size_t errlen)
{
	return scst_attrs_take(&iscsi_target_param_table, tp, attrs, nattrs, err, errlen);
}

void iscsi_target_params_show(const struct iscsi_target_params *tp, scst_attr_emit_fn *emit,
			      void *ctx)
{
	scst_attrs_show(&iscsi_target_param_table, tp, emit, ctx);
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

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

void iscsi_session_params_join(struct iscsi_session_params *conn_sp,
			       const struct iscsi_session_params *sess_sp)
{
	/* Per connection: the digests and both data segment limits. */
	struct iscsi_session_params joined = *sess_sp;
	joined.header_digest = conn_sp->header_digest;
	joined.data_digest = conn_sp->data_digest;
	joined.max_recv_dsl = conn_sp->max_recv_dsl;
	joined.max_xmit_dsl = conn_sp->max_xmit_dsl;
	*conn_sp = joined;
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
	/* Session-wide (RFC 7143 "LO", leading only): negotiated on the
	 * session's first connection only. */
	bool leading_only;
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
	  .irrelevant_in_discovery = true, .leading_only = true, SP(max_burst), TP(max_burst) },
	{ .name = "FirstBurstLength", .kind = KEY_MIN, .lo = 512, .hi = ISCSI_MAX_DSL,
	  .irrelevant_in_discovery = true, .leading_only = true, SP(first_burst),
	  TP(first_burst) },
	{ .name = "InitialR2T", .kind = KEY_OR, .irrelevant_in_discovery = true,
	  .leading_only = true, SP(initial_r2t), TP(initial_r2t) },
	{ .name = "ImmediateData", .kind = KEY_AND, .irrelevant_in_discovery = true,
	  .leading_only = true, SP(immediate_data), TP(immediate_data) },
	{ .name = "MaxOutstandingR2T", .kind = KEY_MIN, .lo = 1, .hi = 65535,
	  .irrelevant_in_discovery = true, .leading_only = true, SP(max_outstanding_r2t),
	  TP(max_outstanding_r2t) },
	/* We check Data-Out offsets and sequences in order, so we insist. */
	{ .name = "DataPDUInOrder", .kind = KEY_OR, .irrelevant_in_discovery = true,
	  .leading_only = true, SP(data_pdu_in_order), .fixed = 1 },
	{ .name = "DataSequenceInOrder", .kind = KEY_OR, .irrelevant_in_discovery = true,
	  .leading_only = true, SP(data_sequence_in_order), .fixed = 1 },
	/* How long a failed connection's tasks are kept at
	 * ErrorRecoveryLevel 2 (session_recovery.c). */
	{ .name = "DefaultTime2Wait", .kind = KEY_MAX, .lo = 0, .hi = 3600, .leading_only = true,
	  SP(default_time2wait), TP(default_time2wait) },
	{ .name = "DefaultTime2Retain", .kind = KEY_MIN, .lo = 0, .hi = 3600,
	  .leading_only = true, SP(default_time2retain), TP(default_time2retain) },
	{ .name = "ErrorRecoveryLevel", .kind = KEY_MIN, .lo = 0, .hi = 2, .leading_only = true,
	  SP(error_recovery_level), TP(error_recovery_level) },
	/* Discovery sessions have one connection (irrelevant there). */
	{ .name = "MaxConnections", .kind = KEY_MIN, .lo = 1, .hi = 65535,
	  .irrelevant_in_discovery = true, .leading_only = true, SP(max_connections),
	  TP(max_connections) },
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
	if ((n->discovery && d->irrelevant_in_discovery) || (n->joining && d->leading_only)) {
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

static int parse_incoming(void *obj, const struct scst_attr_desc *d, const char *value,
			  char *err, size_t errlen)
{
	struct chap_credentials *creds = obj;
	struct chap_user u;
	char why[192];
	int rc = 0;

	if (chap_user_parse(&u, value, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "%s: %s", d->name, why);
		rc = -1;
	} else if (chap_credentials_add_incoming(creds, &u) < 0) {
		snprintf(err, errlen, "out of memory");
		rc = -1;
	}
	OPENSSL_cleanse(&u, sizeof(u));
	return rc;
}

static int parse_outgoing(void *obj, const struct scst_attr_desc *d, const char *value,
			  char *err, size_t errlen)
{
	struct chap_credentials *creds = obj;
	struct chap_user u;
	char why[192];

	/* scst_attrs_take() refuses a second one before this runs. */
	assert(!creds->outgoing);
	if (chap_user_parse(&u, value, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "%s: %s", d->name, why);
		OPENSSL_cleanse(&u, sizeof(u));
		return -1;
	}
	creds->outgoing = malloc(sizeof(*creds->outgoing));
	if (!creds->outgoing) {
		OPENSSL_cleanse(&u, sizeof(u));
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	*creds->outgoing = u;
	OPENSSL_cleanse(&u, sizeof(u));
	return 0;
}

/* "name secret", as written: a running configuration written back must
 * log in the same users. Listings hide it (SCST_ATTR_SECRET). */
static void emit_user(const struct chap_user *u, const char *attr_name,
		      scst_attr_emit_fn *emit, void *ctx)
{
	char line[CHAP_NAME_MAX + 1 + CHAP_SECRET_MAX + 1];

	snprintf(line, sizeof(line), "%s %.*s", u->name, (int)u->secret_len,
		 (const char *)u->secret);
	emit(ctx, attr_name, line);
	OPENSSL_cleanse(line, sizeof(line));
}

static void show_incoming(const void *obj, const struct scst_attr_desc *d,
			  scst_attr_emit_fn *emit, void *ctx)
{
	const struct chap_credentials *creds = obj;

	for (unsigned i = 0; i < creds->nincoming; i++)
		emit_user(&creds->incoming[i], d->name, emit, ctx);
}

static void show_outgoing(const void *obj, const struct scst_attr_desc *d,
			  scst_attr_emit_fn *emit, void *ctx)
{
	const struct chap_credentials *creds = obj;

	if (creds->outgoing)
		emit_user(creds->outgoing, d->name, emit, ctx);
}

static int check_chap(const void *obj, char *err, size_t errlen)
{
	return chap_credentials_check(obj, err, errlen);
}

static void release_chap(void *obj)
{
	chap_credentials_clear(obj);
}

static const struct scst_attr_desc chap_descs[] = {
	{ .name = "IncomingUser", .type = SCST_ATTR_CUSTOM,
	  .flags = SCST_ATTR_MULTI | SCST_ATTR_SECRET, .type_name = "user secret",
	  .parse = parse_incoming, .show = show_incoming,
	  .help = "\"name secret\" an initiator must log in with (CHAP); one line per user, "
		  "secrets of 12 to 256 bytes." },
	{ .name = "OutgoingUser", .type = SCST_ATTR_CUSTOM, .flags = SCST_ATTR_SECRET,
	  .type_name = "user secret", .parse = parse_outgoing, .show = show_outgoing,
	  .help = "\"name secret\" the target answers mutual CHAP with; needs IncomingUser "
		  "and a secret of its own." },
};

#define CHAP_TABLE(table_owner, object)                      \
	{                                                    \
		.name = "iscsi",                             \
		.owner = table_owner,                        \
		.descs = chap_descs,                         \
		.ndescs = SCST_ATTR_TABLE_LEN(chap_descs),   \
		.object_size = sizeof(struct chap_credentials), \
		.object_of = object,                         \
		.check = check_chap,                         \
		.release = release_chap,                     \
		.reparsed_live = true,                       \
	}

const struct scst_attr_table iscsi_target_chap_table =
	CHAP_TABLE(SCST_ATTR_OWNER_TARGET, iscsi_target_chap_of);
const struct scst_attr_table iscsi_discovery_chap_table =
	CHAP_TABLE(SCST_ATTR_OWNER_DRIVER, iscsi_discovery_chap_of);

int iscsi_chap_attrs_parse(struct chap_credentials *creds, struct scst_attr *attrs,
			   unsigned nattrs, char *err, size_t errlen)
{
	assert(!creds->nincoming && !creds->outgoing);
	if (scst_attrs_take(&iscsi_target_chap_table, creds, attrs, nattrs, err, errlen) < 0) {
		chap_credentials_clear(creds);
		return -1;
	}
	return 0;
}
