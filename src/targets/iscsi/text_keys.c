/* The "Use" of every key RFC 7143 section 13 defines, as seen by a target
 * receiving it in a Text Request of the full feature phase. */
#include "targets/iscsi/text_keys.h"

#include <string.h>

struct key_use {
	const char *name;
	enum iscsi_ffp_key_use use;
};

static const struct key_use uses[] = {
	/* 13.12: "Use: ALL", declarative; what the connection sends to the
	 * declarer follows the new value once the exchange is over. */
	{ "MaxRecvDataSegmentLength", ISCSI_FFP_NEGOTIATE },
	/* 13.7: "Use: ALL", declared by the initiator. */
	{ "InitiatorAlias", ISCSI_FFP_DECLARED },
	/* 13.3: "Use: FFPO" (also in a discovery session). */
	{ "SendTargets", ISCSI_FFP_SEND_TARGETS },
	/* "Use: IO" (13.1 digests, 13.5 InitiatorName, 12.1 AuthMethod and
	 * the CHAP keys: security stage only). */
	{ "HeaderDigest", ISCSI_FFP_LOGIN_ONLY },
	{ "DataDigest", ISCSI_FFP_LOGIN_ONLY },
	{ "InitiatorName", ISCSI_FFP_LOGIN_ONLY },
	{ "AuthMethod", ISCSI_FFP_LOGIN_ONLY },
	{ "CHAP_A", ISCSI_FFP_LOGIN_ONLY },
	{ "CHAP_I", ISCSI_FFP_LOGIN_ONLY },
	{ "CHAP_C", ISCSI_FFP_LOGIN_ONLY },
	{ "CHAP_N", ISCSI_FFP_LOGIN_ONLY },
	{ "CHAP_R", ISCSI_FFP_LOGIN_ONLY },
	/* "Use: LO" (leading connection's login only): the session-wide
	 * keys. */
	{ "MaxConnections", ISCSI_FFP_LOGIN_ONLY },
	{ "InitialR2T", ISCSI_FFP_LOGIN_ONLY },
	{ "ImmediateData", ISCSI_FFP_LOGIN_ONLY },
	{ "MaxBurstLength", ISCSI_FFP_LOGIN_ONLY },
	{ "FirstBurstLength", ISCSI_FFP_LOGIN_ONLY },
	{ "DefaultTime2Wait", ISCSI_FFP_LOGIN_ONLY },
	{ "DefaultTime2Retain", ISCSI_FFP_LOGIN_ONLY },
	{ "MaxOutstandingR2T", ISCSI_FFP_LOGIN_ONLY },
	{ "DataPDUInOrder", ISCSI_FFP_LOGIN_ONLY },
	{ "DataSequenceInOrder", ISCSI_FFP_LOGIN_ONLY },
	{ "ErrorRecoveryLevel", ISCSI_FFP_LOGIN_ONLY },
	{ "SessionType", ISCSI_FFP_LOGIN_ONLY },
	{ "TargetName", ISCSI_FFP_LOGIN_ONLY },
	{ "TaskReporting", ISCSI_FFP_LOGIN_ONLY },
	{ "iSCSIProtocolLevel", ISCSI_FFP_LOGIN_ONLY },
	/* Declared by the target, never by an initiator (13.8, 13.9,
	 * 13.10): an initiator sending one gets Reject, as at login. */
	{ "TargetAlias", ISCSI_FFP_LOGIN_ONLY },
	{ "TargetAddress", ISCSI_FFP_LOGIN_ONLY },
	{ "TargetPortalGroupTag", ISCSI_FFP_LOGIN_ONLY },
};

enum iscsi_ffp_key_use iscsi_ffp_key_use(const char *key)
{
	for (size_t i = 0; i < sizeof(uses) / sizeof(uses[0]); i++)
		if (strcmp(key, uses[i].name) == 0)
			return uses[i].use;
	return ISCSI_FFP_UNKNOWN;
}
