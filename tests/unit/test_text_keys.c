/* Which keys a Text Request may carry in the full feature phase
 * (src/targets/iscsi/text_keys.c), compiled alone: every key of RFC 7143
 * section 13 has its "Use", so a key the login negotiates is never
 * renegotiated after it by accident. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "targets/iscsi/text_keys.h"

static void renegotiable(void **state)
{
	(void)state;
	/* 13.12: the one operational key with "Use: ALL". */
	assert_int_equal(iscsi_ffp_key_use("MaxRecvDataSegmentLength"), ISCSI_FFP_NEGOTIATE);
	assert_int_equal(iscsi_ffp_key_use("InitiatorAlias"), ISCSI_FFP_DECLARED);
	assert_int_equal(iscsi_ffp_key_use("SendTargets"), ISCSI_FFP_SEND_TARGETS);
}

static void login_only(void **state)
{
	/* Every other key the login negotiates (params.c's table) or
	 * handles itself, and the ones only targets declare. */
	static const char *const keys[] = {
		"HeaderDigest", "DataDigest", "MaxBurstLength", "FirstBurstLength",
		"InitialR2T", "ImmediateData", "MaxOutstandingR2T", "DataPDUInOrder",
		"DataSequenceInOrder", "DefaultTime2Wait", "DefaultTime2Retain",
		"ErrorRecoveryLevel", "MaxConnections", "InitiatorName", "TargetName",
		"SessionType", "AuthMethod", "CHAP_A", "CHAP_I", "CHAP_C", "CHAP_N", "CHAP_R",
		"TargetAlias", "TargetAddress", "TargetPortalGroupTag", "TaskReporting",
		"iSCSIProtocolLevel",
	};
	(void)state;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (iscsi_ffp_key_use(keys[i]) != ISCSI_FFP_LOGIN_ONLY)
			fail_msg("%s is not answered Reject after login", keys[i]);
	}
}

static void unknown(void **state)
{
	(void)state;
	/* Keys are case-sensitive (RFC 7143 6.1). */
	assert_int_equal(iscsi_ffp_key_use("maxrecvdatasegmentlength"), ISCSI_FFP_UNKNOWN);
	assert_int_equal(iscsi_ffp_key_use("X-com.example.key"), ISCSI_FFP_UNKNOWN);
	assert_int_equal(iscsi_ffp_key_use(""), ISCSI_FFP_UNKNOWN);
	assert_int_equal(iscsi_ffp_key_use("MaxRecvDataSegmentLengthX"), ISCSI_FFP_UNKNOWN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(renegotiable),
		cmocka_unit_test(login_only),
		cmocka_unit_test(unknown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
