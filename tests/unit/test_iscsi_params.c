/* iSCSI login key negotiation (RFC 7143 sections 6 and 13). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "targets/iscsi/params.h"

/* The value answered for @key in @t, or NULL if it was not answered. */
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

struct fixture {
	struct iscsi_target_params tp;
	struct iscsi_negotiation n;
	struct iscsi_text out;
};

static int setup(void **state)
{
	static struct fixture f;
	memset(&f, 0, sizeof(f));
	iscsi_target_params_default(&f.tp);
	iscsi_negotiation_init(&f.n, &f.tp);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	iscsi_text_free(&f->out);
	return 0;
}

static enum iscsi_key_result nego(struct fixture *f, const char *key, const char *value)
{
	return iscsi_negotiate_key(&f->n, key, value, &f->out);
}

static void test_digest_picks_first_acceptable(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(nego(f, "HeaderDigest", "CRC32C,None"), ISCSI_KEY_OK);
	assert_string_equal(answer(&f->out, "HeaderDigest"), "CRC32C");
	assert_true(f->n.sp.header_digest);
	assert_int_equal(nego(f, "DataDigest", "None,CRC32C"), ISCSI_KEY_OK);
	assert_string_equal(answer(&f->out, "DataDigest"), "None");
	assert_false(f->n.sp.data_digest);
}

static void test_digest_none_only_target(void **state)
{
	struct fixture *f = *state;
	f->tp.header_digest = ISCSI_DIGEST_ALLOW_NONE;
	nego(f, "HeaderDigest", "CRC32C");
	assert_string_equal(answer(&f->out, "HeaderDigest"), "Reject");
	assert_false(f->n.sp.header_digest);
	f->tp.data_digest = ISCSI_DIGEST_ALLOW_CRC32C;
	nego(f, "DataDigest", "Bogus,CRC32C");
	assert_string_equal(answer(&f->out, "DataDigest"), "CRC32C");
}

static void test_numbers_min_and_max(void **state)
{
	struct fixture *f = *state;
	f->tp.max_burst = 65536;
	nego(f, "MaxBurstLength", "262144");
	assert_string_equal(answer(&f->out, "MaxBurstLength"), "65536");
	assert_int_equal(f->n.sp.max_burst, 65536);
	nego(f, "FirstBurstLength", "0x4000");
	assert_string_equal(answer(&f->out, "FirstBurstLength"), "16384");
	/* The target's DefaultTime2Wait (2) and DefaultTime2Retain (20) and
	 * ErrorRecoveryLevel (0) by default: the larger wait, the smaller
	 * retention and level win. */
	nego(f, "DefaultTime2Wait", "0");
	assert_string_equal(answer(&f->out, "DefaultTime2Wait"), "2");
	nego(f, "DefaultTime2Retain", "30");
	assert_string_equal(answer(&f->out, "DefaultTime2Retain"), "20");
	nego(f, "ErrorRecoveryLevel", "2");
	assert_string_equal(answer(&f->out, "ErrorRecoveryLevel"), "0");
	/* MaxConnections: the target's attribute (8 by default) bounds it. */
	nego(f, "MaxConnections", "16");
	assert_string_equal(answer(&f->out, "MaxConnections"), "8");
	nego(f, "MaxOutstandingR2T", "1");
	assert_string_equal(answer(&f->out, "MaxOutstandingR2T"), "1");
}

static void test_numbers_out_of_range_rejected(void **state)
{
	struct fixture *f = *state;
	nego(f, "MaxBurstLength", "511");
	assert_string_equal(answer(&f->out, "MaxBurstLength"), "Reject");
	assert_int_equal(f->n.sp.max_burst, 262144); /* the RFC default stays */
	nego(f, "FirstBurstLength", "16777216");
	assert_string_equal(answer(&f->out, "FirstBurstLength"), "Reject");
	nego(f, "MaxOutstandingR2T", "0");
	assert_string_equal(answer(&f->out, "MaxOutstandingR2T"), "Reject");
	nego(f, "DefaultTime2Wait", "-1");
	assert_string_equal(answer(&f->out, "DefaultTime2Wait"), "Reject");
	nego(f, "ErrorRecoveryLevel", "abc");
	assert_string_equal(answer(&f->out, "ErrorRecoveryLevel"), "Reject");
}

static void test_booleans(void **state)
{
	struct fixture *f = *state;
	f->tp.initial_r2t = false;
	f->tp.immediate_data = true;
	nego(f, "InitialR2T", "No");
	assert_string_equal(answer(&f->out, "InitialR2T"), "No");
	assert_false(f->n.sp.initial_r2t);
	nego(f, "ImmediateData", "No");
	assert_string_equal(answer(&f->out, "ImmediateData"), "No");
	assert_false(f->n.sp.immediate_data);
	nego(f, "DataPDUInOrder", "No"); /* OR with our Yes */
	assert_string_equal(answer(&f->out, "DataPDUInOrder"), "Yes");
	nego(f, "DataSequenceInOrder", "maybe");
	assert_string_equal(answer(&f->out, "DataSequenceInOrder"), "Reject");
}

static void test_boolean_target_insists_on_r2t(void **state)
{
	struct fixture *f = *state;
	f->tp.initial_r2t = true;
	f->tp.immediate_data = false;
	nego(f, "InitialR2T", "No");
	assert_string_equal(answer(&f->out, "InitialR2T"), "Yes");
	nego(f, "ImmediateData", "Yes");
	assert_string_equal(answer(&f->out, "ImmediateData"), "No");
}

static void test_mrdsl_is_declarative(void **state)
{
	struct fixture *f = *state;
	f->tp.max_xmit_dsl = 65536;
	nego(f, "MaxRecvDataSegmentLength", "262144");
	/* Not echoed: the initiator's declaration only bounds what we send. */
	assert_null(answer(&f->out, "MaxRecvDataSegmentLength"));
	assert_int_equal(f->n.sp.max_xmit_dsl, 65536);
	iscsi_negotiation_declare(&f->n, &f->out);
	assert_string_equal(answer(&f->out, "MaxRecvDataSegmentLength"), "1048576");
	/* Declared once only. */
	size_t len = f->out.len;
	iscsi_negotiation_declare(&f->n, &f->out);
	assert_int_equal(f->out.len, len);
}

static void test_mrdsl_default_when_not_declared(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(f->n.sp.max_xmit_dsl, 8192);
	nego(f, "MaxRecvDataSegmentLength", "100");
	assert_string_equal(answer(&f->out, "MaxRecvDataSegmentLength"), "Reject");
	assert_int_equal(f->n.sp.max_xmit_dsl, 8192);
}

static void test_first_burst_bounded_by_max_burst(void **state)
{
	struct fixture *f = *state;
	nego(f, "MaxBurstLength", "8192");
	nego(f, "FirstBurstLength", "65536");
	iscsi_negotiation_declare(&f->n, &f->out);
	assert_int_equal(f->n.sp.first_burst, 8192);
}

static void test_unknown_and_repeated(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(nego(f, "X-com.example.Frob", "1"), ISCSI_KEY_OK);
	assert_string_equal(answer(&f->out, "X-com.example.Frob"), "NotUnderstood");
	assert_int_equal(nego(f, "IFMarker", "No"), ISCSI_KEY_OK);
	assert_string_equal(answer(&f->out, "IFMarker"), "NotUnderstood");
	assert_int_equal(nego(f, "MaxBurstLength", "8192"), ISCSI_KEY_OK);
	assert_int_equal(nego(f, "MaxBurstLength", "8192"), ISCSI_KEY_REPEATED);
	assert_int_equal(nego(f, "InitiatorName", "iqn.x"), ISCSI_KEY_NOT_OPERATIONAL);
	assert_int_equal(nego(f, "AuthMethod", "None"), ISCSI_KEY_NOT_OPERATIONAL);
}

static void test_discovery_irrelevant(void **state)
{
	struct fixture *f = *state;
	f->n.discovery = true;
	nego(f, "MaxBurstLength", "8192");
	assert_string_equal(answer(&f->out, "MaxBurstLength"), "Irrelevant");
	nego(f, "InitialR2T", "Yes");
	assert_string_equal(answer(&f->out, "InitialR2T"), "Irrelevant");
	nego(f, "HeaderDigest", "None");
	assert_string_equal(answer(&f->out, "HeaderDigest"), "None");
}

/* A further connection of a session (MC/S): the session-wide keys are the
 * leading connection's, the connection's own are negotiated. */
static void test_joining_connection(void **state)
{
	struct fixture *f = *state;
	f->n.joining = true;
	nego(f, "MaxBurstLength", "8192");
	assert_string_equal(answer(&f->out, "MaxBurstLength"), "Irrelevant");
	nego(f, "MaxConnections", "4");
	assert_string_equal(answer(&f->out, "MaxConnections"), "Irrelevant");
	nego(f, "ErrorRecoveryLevel", "0");
	assert_string_equal(answer(&f->out, "ErrorRecoveryLevel"), "Irrelevant");
	f->tp.header_digest = ISCSI_DIGEST_ALLOW_CRC32C;
	nego(f, "HeaderDigest", "CRC32C,None");
	assert_string_equal(answer(&f->out, "HeaderDigest"), "CRC32C");
	nego(f, "MaxRecvDataSegmentLength", "16384");
	assert_int_equal(f->n.sp.max_xmit_dsl, 16384);

	struct iscsi_session_params sess = f->n.sp;
	sess.max_burst = 65536;
	sess.max_connections = 4;
	sess.header_digest = false;
	sess.max_xmit_dsl = 4096;
	struct iscsi_session_params conn = f->n.sp;
	iscsi_session_params_join(&conn, &sess);
	assert_int_equal(conn.max_burst, 65536);
	assert_int_equal(conn.max_connections, 4);
	assert_true(conn.header_digest);
	assert_int_equal(conn.max_xmit_dsl, 16384);
}

static void test_auth_method(void **state)
{
	/* No IncomingUser: None, never CHAP. */
	assert_string_equal(iscsi_negotiate_auth_method("None", false), "None");
	assert_string_equal(iscsi_negotiate_auth_method("CHAP,None", false), "None");
	assert_null(iscsi_negotiate_auth_method("CHAP", false));
	assert_null(iscsi_negotiate_auth_method("Nonesuch", false));
	/* CHAP required: CHAP, never None, wherever it is in the list. */
	assert_string_equal(iscsi_negotiate_auth_method("CHAP,None", true), "CHAP");
	assert_string_equal(iscsi_negotiate_auth_method("None,KRB5,CHAP", true), "CHAP");
	assert_null(iscsi_negotiate_auth_method("None", true));
	assert_null(iscsi_negotiate_auth_method("CHAPX,SRP", true));
}

static int count_pair(void *ctx, const char *key, const char *value)
{
	(*(int *)ctx)++;
	return strcmp(key, "Stop") == 0 ? 7 : 0;
}

static void test_text_walk(void **state)
{
	int n = 0;
	static const char ok[] = "A=1\0B=\0\0"; /* trailing padding NUL */
	assert_int_equal(iscsi_text_for_each(ok, sizeof(ok) - 1, count_pair, &n), 0);
	assert_int_equal(n, 2);
	static const char no_nul[] = { 'A', '=', '1' };
	assert_int_equal(iscsi_text_for_each(no_nul, sizeof(no_nul), count_pair, &n), -1);
	static const char no_eq[] = "A1";
	assert_int_equal(iscsi_text_for_each(no_eq, sizeof(no_eq), count_pair, &n), -1);
	static const char stop[] = "Stop=1\0C=2";
	assert_int_equal(iscsi_text_for_each(stop, sizeof(stop), count_pair, &n), 7);
}

static void test_target_attrs(void **state)
{
	struct iscsi_target_params tp;
	char err[128];
	iscsi_target_params_default(&tp);
	struct scst_attr attrs[] = {
		{ .name = "MaxBurstLength", .value = "131072" },
		{ .name = "InitialR2T", .value = "Yes" },
		{ .name = "HeaderDigest", .value = "CRC32C" },
		{ .name = "FirstBurstLength", .value = "65536" },
		{ .name = "NotOurs", .value = "1" },
	};
	assert_int_equal(iscsi_target_params_parse(&tp, attrs, 5, err, sizeof(err)), 0);
	assert_int_equal(tp.max_burst, 131072);
	assert_true(tp.initial_r2t);
	assert_int_equal(tp.header_digest, ISCSI_DIGEST_ALLOW_CRC32C);
	assert_true(attrs[0].consumed && attrs[1].consumed && attrs[2].consumed);
	assert_false(attrs[4].consumed);

	struct scst_attr bad[] = { { .name = "MaxRecvDataSegmentLength", .value = "100" } };
	assert_int_equal(iscsi_target_params_parse(&tp, bad, 1, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "MaxRecvDataSegmentLength"));
	struct scst_attr inverted[] = { { .name = "FirstBurstLength", .value = "262144" },
					{ .name = "MaxBurstLength", .value = "8192" } };
	assert_int_equal(iscsi_target_params_parse(&tp, inverted, 2, err, sizeof(err)), -1);
}

static void test_target_alias(void **state)
{
	struct iscsi_target_params tp;
	char err[128], long_alias[ISCSI_ALIAS_MAX + 2];
	iscsi_target_params_default(&tp);
	assert_string_equal(tp.alias, "");
	struct scst_attr attrs[] = { { .name = "TargetAlias", .value = "array 1, shelf 2" } };
	assert_int_equal(iscsi_target_params_parse(&tp, attrs, 1, err, sizeof(err)), 0);
	assert_true(attrs[0].consumed);
	assert_string_equal(tp.alias, "array 1, shelf 2");

	memset(long_alias, 'a', sizeof(long_alias) - 1);
	long_alias[sizeof(long_alias) - 1] = '\0';
	struct scst_attr too_long[] = { { .name = "TargetAlias", .value = long_alias } };
	assert_int_equal(iscsi_target_params_parse(&tp, too_long, 1, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "TargetAlias"));
	assert_string_equal(tp.alias, "array 1, shelf 2");
}

static void test_parse_number(void **state)
{
	uint64_t v;
	assert_true(iscsi_parse_number("8192", &v));
	assert_int_equal(v, 8192);
	assert_true(iscsi_parse_number("0x2000", &v));
	assert_int_equal(v, 8192);
	assert_false(iscsi_parse_number("", &v));
	assert_false(iscsi_parse_number("0x", &v));
	assert_false(iscsi_parse_number("12a", &v));
	assert_false(iscsi_parse_number("-5", &v));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_digest_picks_first_acceptable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_digest_none_only_target, setup, teardown),
		cmocka_unit_test_setup_teardown(test_numbers_min_and_max, setup, teardown),
		cmocka_unit_test_setup_teardown(test_numbers_out_of_range_rejected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_booleans, setup, teardown),
		cmocka_unit_test(test_target_alias),
		cmocka_unit_test_setup_teardown(test_boolean_target_insists_on_r2t, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mrdsl_is_declarative, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mrdsl_default_when_not_declared, setup, teardown),
		cmocka_unit_test_setup_teardown(test_first_burst_bounded_by_max_burst, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_and_repeated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_discovery_irrelevant, setup, teardown),
		cmocka_unit_test_setup_teardown(test_joining_connection, setup, teardown),
		cmocka_unit_test(test_auth_method),
		cmocka_unit_test(test_text_walk),
		cmocka_unit_test(test_target_attrs),
		cmocka_unit_test(test_parse_number),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
