/* Login key negotiation (RFC 7143 sections 6 and 13), as pure functions:
 * no sockets, no core, so every rule is unit-tested.
 *
 * A target has limits and preferences (struct iscsi_target_params, from
 * scst.conf); a login negotiates, key by key, the values a session runs
 * with (struct iscsi_session_params). iscsi_negotiate_key() answers one
 * key=value the initiator sent and appends the answer to a text buffer. */
#ifndef USCST_TARGETS_ISCSI_PARAMS_H
#define USCST_TARGETS_ISCSI_PARAMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/attr_desc.h"
#include "core/scst.h"
#include "targets/iscsi/redirect.h"

/* A growing buffer of "key=value\0" pairs (a Login or Text data segment). */
struct iscsi_text {
	char *data;
	size_t len;
	size_t cap;
	bool oom; /* an append failed; the text is incomplete */
};

void iscsi_text_free(struct iscsi_text *t);
void iscsi_text_add(struct iscsi_text *t, const char *key, const char *value);
void iscsi_text_add_u32(struct iscsi_text *t, const char *key, uint32_t value);
/* Appends raw bytes (a request's data segment, collected across PDUs). */
void iscsi_text_append(struct iscsi_text *t, const void *data, size_t len);

/* Walks the "key=value\0" pairs of @data (@len bytes). Calls fn for each;
 * returns -1 if a pair has no '=' or the data does not end in a NUL (a
 * malformed segment), or what fn returned if non-zero, else 0. */
int iscsi_text_for_each(const char *data, size_t len,
			int (*fn)(void *ctx, const char *key, const char *value), void *ctx);

/* Digest choice a target accepts (HeaderDigest / DataDigest attributes). */
enum iscsi_digest_pref {
	ISCSI_DIGEST_ALLOW_NONE = 1u << 0,
	ISCSI_DIGEST_ALLOW_CRC32C = 1u << 1,
};

/* Longest TargetAlias we declare (RFC 7143 6.1: text values up to 255
 * bytes unless the key says otherwise). */
#define ISCSI_ALIAS_MAX 255

/* Default session caps of a target (see docs/limits.md). */
#define ISCSI_DEFAULT_MAX_SESSIONS 1024
#define ISCSI_DEFAULT_MAX_SESSIONS_PER_INITIATOR 32

/* A target's offers and limits, with SCST's attribute names. */
struct iscsi_target_params {
	unsigned header_digest;          /* enum iscsi_digest_pref bits */
	unsigned data_digest;
	uint32_t max_recv_dsl;           /* MaxRecvDataSegmentLength we declare */
	uint32_t max_xmit_dsl;           /* MaxXmitDataSegmentLength: cap on what we send */
	uint32_t max_burst;              /* MaxBurstLength */
	uint32_t first_burst;            /* FirstBurstLength */
	bool initial_r2t;                /* InitialR2T */
	bool immediate_data;             /* ImmediateData */
	uint32_t max_outstanding_r2t;    /* MaxOutstandingR2T */
	uint32_t queued_cmds;            /* QueuedCommands: CmdSN window */
	uint32_t nop_in_interval;        /* NopInInterval, seconds; 0 = no pings */
	uint32_t nop_in_timeout;         /* NopInTimeout, seconds */
	uint32_t rsp_timeout;            /* RspTimeout, seconds; also bounds a whole login */
	/* MaxSessions (SCST's name): sessions the target holds at once,
	 * 0 = no limit. MaxSessionsPerInitiator (ours): of those, how many
	 * one initiator name may hold, 0 = no limit. docs/limits.md says
	 * why the defaults are what they are. */
	uint32_t max_sessions;
	uint32_t max_sessions_per_initiator;
	/* MaxConnections: connections one session may have (MC/S). */
	uint32_t max_connections;
	/* ErrorRecoveryLevel offered: 0 (the default, as LIO's), or 1:
	 * SNACK, DataACK and recovery R2T (docs/iscsi_erl.md). */
	uint32_t error_recovery_level;
	/* DefaultTime2Wait and DefaultTime2Retain offered (LIO's defaults,
	 * 2 and 20 s): how long a failed connection's tasks are kept at
	 * ErrorRecoveryLevel 2. */
	uint32_t default_time2wait;
	uint32_t default_time2retain;
	/* TargetAlias: a human-readable name declared at login (RFC 7143
	 * 13.6); empty = not declared. */
	char alias[ISCSI_ALIAS_MAX + 1];
	/* redirect / redirect_type: where normal-session logins are sent
	 * instead (redirect.h). */
	struct iscsi_redirect redirect;
	/* TargetPortalGroupTag: the tag of the target's one portal group
	 * (the portals its allowed_portal lines leave it), 1..65535;
	 * declared at login, listed by SendTargets and iSNS. */
	uint32_t tpgt;
};

/* The attributes above as descriptors (core/attr_desc.h), with their
 * defaults, ranges and help: one of the driver's tgt_attrs. */
extern const struct scst_attr_table iscsi_target_param_table;
/* Where a live target keeps them (driver.c): @tgt is a struct scst_tgt. */
void *iscsi_target_params_of(void *tgt);

/* SCST's defaults, except that the session caps are finite (the table's
 * defaults). */
void iscsi_target_params_default(struct iscsi_target_params *tp);

/* Takes the attributes above from @attrs (marking them consumed); leaves
 * unknown ones alone. On a bad value writes the reason into err and
 * returns -1. */
int iscsi_target_params_parse(struct iscsi_target_params *tp, struct scst_attr *attrs,
			      unsigned nattrs, char *err, size_t errlen);

/* Writes the attributes as name/value strings (running configuration). */
void iscsi_target_params_show(const struct iscsi_target_params *tp, scst_attr_emit_fn *emit,
			      void *ctx);

/* What a session runs with once login is over. */
struct iscsi_session_params {
	bool header_digest;
	bool data_digest;
	uint32_t max_recv_dsl;  /* largest data segment we accept */
	uint32_t max_xmit_dsl;  /* largest data segment we send */
	uint32_t max_burst;
	uint32_t first_burst;
	bool initial_r2t;
	bool immediate_data;
	uint32_t max_outstanding_r2t;
	bool data_pdu_in_order;
	bool data_sequence_in_order;
	uint32_t default_time2wait;
	uint32_t default_time2retain;
	uint32_t error_recovery_level;
	uint32_t max_connections;
};

/* The RFC's defaults, which hold for a key nobody negotiates; except that
 * our receive limit is the one we declare. */
void iscsi_session_params_default(struct iscsi_session_params *sp,
				  const struct iscsi_target_params *tp);

/* Negotiation state of one login. */
struct iscsi_negotiation {
	const struct iscsi_target_params *tp;
	struct iscsi_session_params sp;
	bool discovery;          /* SessionType=Discovery */
	/* The login of a further connection of an existing session: the
	 * session-wide (leading only) keys are the session's, answered
	 * Irrelevant here. */
	bool joining;
	uint32_t seen;           /* keys already received (bit per key) */
	bool declared_mrdsl;     /* our MaxRecvDataSegmentLength was sent */
	/* AuthMethod the security stage settled on (NULL before). */
	const char *auth_method;
};

void iscsi_negotiation_init(struct iscsi_negotiation *n, const struct iscsi_target_params *tp);
/* A further connection of a session runs with what its own login
 * negotiated for the connection (digests, data segment lengths) and the
 * session's values of everything session-wide. */
void iscsi_session_params_join(struct iscsi_session_params *conn_sp,
			       const struct iscsi_session_params *sess_sp);

enum iscsi_key_result {
	ISCSI_KEY_OK,             /* answered (or nothing to answer) */
	ISCSI_KEY_NOT_OPERATIONAL,/* not an operational key: the caller handles it */
	ISCSI_KEY_REPEATED,       /* negotiated twice: login fails (initiator error) */
};

/* Answers one operational key the initiator sent, appending the answer to
 * @out. Unknown keys get NotUnderstood; bad values Reject; keys that mean
 * nothing in a discovery session Irrelevant. The keys a caller handles
 * itself (InitiatorName, TargetName, SessionType, AuthMethod, ...) give
 * ISCSI_KEY_NOT_OPERATIONAL. */
enum iscsi_key_result iscsi_negotiate_key(struct iscsi_negotiation *n, const char *key,
					  const char *value, struct iscsi_text *out);

/* Before the operational stage ends: declarations the target makes
 * without being asked (our MaxRecvDataSegmentLength). */
void iscsi_negotiation_declare(struct iscsi_negotiation *n, struct iscsi_text *out);

/* Security stage: picks the first method of the initiator's list that the
 * target accepts. Where CHAP is required (IncomingUser configured) that
 * is "CHAP" and only CHAP: None would let anyone in; elsewhere "None",
 * and never CHAP, which would have nothing to check the response
 * against. Returns the method (a static string), or NULL (the answer is
 * then AuthMethod=Reject and the login fails). */
const char *iscsi_negotiate_auth_method(const char *offered, bool chap_required);

struct chap_credentials;

/* IncomingUser / OutgoingUser as descriptors: a target's (one of the
 * driver's tgt_attrs) and the discovery sessions' (its tgtt_attrs), and
 * where a live target and the driver keep them (driver.c). */
extern const struct scst_attr_table iscsi_target_chap_table;
extern const struct scst_attr_table iscsi_discovery_chap_table;
void *iscsi_target_chap_of(void *tgt);
void *iscsi_discovery_chap_of(void *unused);

/* Takes the CHAP attributes from @attrs (marking them consumed) into
 * @creds, which must be empty: IncomingUser "name secret" (any number of
 * lines; any one of them may log in) and OutgoingUser "name secret"
 * (mutual CHAP; once), SCST's names and layout. On a bad value writes
 * the reason (naming the user, never the secret) into err, leaves @creds
 * empty and returns -1. */
int iscsi_chap_attrs_parse(struct chap_credentials *creds, struct scst_attr *attrs,
			   unsigned nattrs, char *err, size_t errlen);

/* Parses an RFC 7143 numerical value (decimal or 0x hex). */
bool iscsi_parse_number(const char *s, uint64_t *out);

#endif
