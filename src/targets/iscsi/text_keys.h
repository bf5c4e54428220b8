/* Which keys a Text Request may carry in the full feature phase (RFC 7143
 * section 13, each key's "Use"), as one pure function: text.c asks it
 * before handing a key to the login negotiation (params.h), so a key the
 * RFC allows at login only is refused in one place. */
#ifndef USCST_TARGETS_ISCSI_TEXT_KEYS_H
#define USCST_TARGETS_ISCSI_TEXT_KEYS_H

enum iscsi_ffp_key_use {
	/* Negotiated (or declared) again in the full feature phase
	 * ("Use: ALL"): iscsi_negotiate_key() answers it. */
	ISCSI_FFP_NEGOTIATE,
	/* Declared by the initiator in any phase (InitiatorAlias): taken,
	 * nothing to answer. */
	ISCSI_FFP_DECLARED,
	/* Allowed at login only ("IO", "LO", the security keys), or
	 * declared by targets only: answered Reject. */
	ISCSI_FFP_LOGIN_ONLY,
	/* SendTargets ("Use: FFPO"): text.c's own. */
	ISCSI_FFP_SEND_TARGETS,
	/* Not a key we know: answered NotUnderstood. */
	ISCSI_FFP_UNKNOWN,
};

enum iscsi_ffp_key_use iscsi_ffp_key_use(const char *key);

#endif
