/* The iSNS wire format (src/targets/iscsi/isns_proto.c): what we build is
 * what RFC 4171 says, and every malformed thing a server could send is
 * refused with a reason, never read past. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>

#include "targets/iscsi/isns_proto.h"

static struct isns_msg m;
static char why[256];

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Appends one attribute to a hand-made payload. */
static size_t raw_tlv(uint8_t *buf, size_t at, uint32_t tag, uint32_t len, const void *v,
		      size_t vlen)
{
	uint32_t t = htonl(tag), l = htonl(len);
	memcpy(buf + at, &t, 4);
	memcpy(buf + at + 4, &l, 4);
	memset(buf + at + 8, 0, len);
	if (vlen)
		memcpy(buf + at + 8, v, vlen);
	return at + 8 + len;
}

static void test_build_message(void **state)
{
	(void)state;
	struct sockaddr_storage v4 = { 0 }, v6 = { 0 };
	struct sockaddr_in *a4 = (struct sockaddr_in *)&v4;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&v6;
	a4->sin_family = AF_INET;
	a4->sin_port = htons(3260);
	inet_pton(AF_INET, "127.0.0.1", &a4->sin_addr);
	a6->sin6_family = AF_INET6;
	a6->sin6_port = htons(3261);
	inet_pton(AF_INET6, "::1", &a6->sin6_addr);

	isns_msg_init(&m, ISNS_DEV_ATTR_REG, ISNS_F_CLIENT | ISNS_F_FIRST | ISNS_F_LAST, 7);
	isns_put_str(&m, ISNS_TAG_ISCSI_NAME, "iqn.x"); /* 5 + NUL: padded to 8 */
	isns_put_nil(&m, ISNS_TAG_DELIMITER);
	isns_put_u32(&m, ISNS_TAG_NODE_TYPE, ISNS_NODE_TARGET);
	isns_put_ip(&m, ISNS_TAG_PORTAL_IP, &v4);
	isns_put_port(&m, ISNS_TAG_PORTAL_PORT, &v4);
	isns_put_ip(&m, ISNS_TAG_PORTAL_IP, &v6);
	assert_int_equal(isns_msg_finish(&m), 0);

	const uint8_t *b = m.buf;
	assert_int_equal(b[0] << 8 | b[1], 1);                    /* version */
	assert_int_equal(b[2] << 8 | b[3], ISNS_DEV_ATTR_REG);
	assert_int_equal(b[4] << 8 | b[5], m.len - ISNS_HDR_LEN); /* PDU length */
	assert_int_equal(b[6] << 8 | b[7], 0x8c00);
	assert_int_equal(b[8] << 8 | b[9], 7);
	const uint8_t *p = b + ISNS_HDR_LEN;
	assert_int_equal(be32(p), ISNS_TAG_ISCSI_NAME);
	assert_int_equal(be32(p + 4), 8);
	assert_memory_equal(p + 8, "iqn.x\0\0\0", 8);
	p += 16;
	assert_int_equal(be32(p), 0);
	assert_int_equal(be32(p + 4), 0);
	p += 8;
	assert_int_equal(be32(p + 4), 4);
	assert_int_equal(be32(p + 8), 1);
	p += 12;
	/* IPv4 as an IPv4-mapped IPv6 address (RFC 4171 6.3.1). */
	static const uint8_t mapped[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1 };
	assert_int_equal(be32(p + 4), 16);
	assert_memory_equal(p + 8, mapped, 16);
	p += 24;
	assert_int_equal(be32(p + 8), 3260); /* TCP: the UDP bit clear */
	p += 12;
	assert_int_equal(p[8 + 15], 1);
	assert_int_equal(p + 24 - b, m.len);
}

static void test_overflow_refused(void **state)
{
	(void)state;
	static char big[70000];
	memset(big, 'a', sizeof(big) - 1);
	isns_msg_init(&m, ISNS_DEV_ATTR_QRY, ISNS_F_CLIENT, 1);
	isns_put_str(&m, ISNS_TAG_ISCSI_NAME, big);
	assert_true(m.overflow);
	isns_put_u32(&m, ISNS_TAG_NODE_TYPE, 1); /* ignored once overflowed */
	assert_int_equal(isns_msg_finish(&m), -1);
}

static void hdr(uint8_t *b, uint16_t version, uint16_t len, uint16_t flags, uint16_t seq)
{
	memset(b, 0, ISNS_HDR_LEN);
	b[0] = (uint8_t)(version >> 8), b[1] = (uint8_t)version;
	b[2] = 0x80, b[3] = 0x01;
	b[4] = (uint8_t)(len >> 8), b[5] = (uint8_t)len;
	b[6] = (uint8_t)(flags >> 8), b[7] = (uint8_t)flags;
	b[10] = (uint8_t)(seq >> 8), b[11] = (uint8_t)seq;
}

static void test_header_checks(void **state)
{
	(void)state;
	uint8_t b[ISNS_HDR_LEN];
	struct isns_hdr h;

	hdr(b, 1, 8, ISNS_F_SERVER | ISNS_F_FIRST | ISNS_F_LAST, 0);
	assert_int_equal(isns_hdr_parse(b, &h, why, sizeof(why)), 0);
	assert_int_equal(h.function, 0x8001);
	assert_int_equal(h.length, 8);
	hdr(b, 2, 8, ISNS_F_LAST, 0);
	assert_int_equal(isns_hdr_parse(b, &h, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "version 2"));
	hdr(b, 1, 6, ISNS_F_LAST, 0);
	assert_int_equal(isns_hdr_parse(b, &h, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "multiple of 4"));
	hdr(b, 1, 8, ISNS_F_FIRST, 0); /* more PDUs follow */
	assert_int_equal(isns_hdr_parse(b, &h, why, sizeof(why)), -1);
	hdr(b, 1, 8, ISNS_F_LAST, 1);
	assert_int_equal(isns_hdr_parse(b, &h, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "several PDUs"));
}

static void test_tlv_walk(void **state)
{
	(void)state;
	uint8_t p[64];
	struct isns_tlv t;
	size_t pos = 0, n;

	n = raw_tlv(p, 0, ISNS_TAG_EID, 4, "ab", 3);
	n = raw_tlv(p, n, ISNS_TAG_DELIMITER, 0, NULL, 0);
	assert_int_equal(isns_tlv_next(p, n, &pos, &t, why, sizeof(why)), 1);
	assert_int_equal(t.tag, ISNS_TAG_EID);
	assert_int_equal(t.len, 4);
	assert_int_equal(isns_tlv_next(p, n, &pos, &t, why, sizeof(why)), 1);
	assert_int_equal(t.tag, 0);
	assert_int_equal(isns_tlv_next(p, n, &pos, &t, why, sizeof(why)), 0);
	assert_int_equal(isns_payload_check(p, n, why, sizeof(why)), 0);

	/* A length past the end, a length not a multiple of 4, stray bytes. */
	n = raw_tlv(p, 0, ISNS_TAG_EID, 4, "ab", 3);
	assert_int_equal(isns_payload_check(p, n - 1, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "stray") ? why : strstr(why, "past"));
	uint32_t bad = htonl(400);
	memcpy(p + 4, &bad, 4);
	assert_int_equal(isns_payload_check(p, n, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "past the PDU's end"));
	bad = htonl(3);
	memcpy(p + 4, &bad, 4);
	assert_int_equal(isns_payload_check(p, n, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "not a multiple of 4"));
	n = raw_tlv(p, 0, ISNS_TAG_EID, 4, "ab", 3);
	assert_int_equal(isns_payload_check(p, n + 4, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "stray"));
	/* An attribute length near 2^32 must not wrap the bounds check. */
	bad = htonl(0xfffffffc);
	memcpy(p + 4, &bad, 4);
	assert_int_equal(isns_payload_check(p, n, why, sizeof(why)), -1);
}

static void test_typed_values(void **state)
{
	(void)state;
	char s[16];
	uint32_t v;
	struct isns_tlv t = { .tag = 32 };

	t.value = (const uint8_t *)"iqn.a\0\0\0", t.len = 8;
	assert_int_equal(isns_tlv_str(&t, s, sizeof(s), why, sizeof(why)), 0);
	assert_string_equal(s, "iqn.a");
	t.value = (const uint8_t *)"iqn.abcd", t.len = 8;
	assert_int_equal(isns_tlv_str(&t, s, sizeof(s), why, sizeof(why)), -1);
	assert_non_null(strstr(why, "not NUL-terminated"));
	t.value = (const uint8_t *)"iq\0x\0\0\0\0", t.len = 8;
	assert_int_equal(isns_tlv_str(&t, s, sizeof(s), why, sizeof(why)), -1);
	assert_non_null(strstr(why, "after its NUL"));
	t.value = (const uint8_t *)"iq\n\0", t.len = 4;
	assert_int_equal(isns_tlv_str(&t, s, sizeof(s), why, sizeof(why)), -1);
	assert_non_null(strstr(why, "control character"));
	t.value = (const uint8_t *)"iqn.a\0\0\0", t.len = 8;
	assert_int_equal(isns_tlv_str(&t, s, 4, why, sizeof(why)), -1);
	t.len = 0;
	assert_int_equal(isns_tlv_str(&t, s, sizeof(s), why, sizeof(why)), -1);

	t.value = (const uint8_t *)"\0\0\1\2", t.len = 4;
	assert_int_equal(isns_tlv_u32(&t, &v, why, sizeof(why)), 0);
	assert_int_equal(v, 0x102);
	t.len = 8;
	t.value = (const uint8_t *)"\0\0\1\2\0\0\0\0";
	assert_int_equal(isns_tlv_u32(&t, &v, why, sizeof(why)), -1);
}

static void test_response_status(void **state)
{
	(void)state;
	uint8_t p[32] = { 0, 0, 0, 9 };
	uint32_t status;

	assert_int_equal(isns_response_status(p, 4, &status, why, sizeof(why)), 0);
	assert_int_equal(status, ISNS_STATUS_NO_SUCH_ENTRY);
	assert_int_equal(isns_response_status(p, 2, &status, why, sizeof(why)), -1);
	size_t n = raw_tlv(p, 4, ISNS_TAG_REGISTRATION_PERIOD, 4, "\0\0\3\204", 4);
	assert_int_equal(isns_response_status(p, n, &status, why, sizeof(why)), 0);
	assert_int_equal(isns_find_u32(p + 4, n - 4, ISNS_TAG_REGISTRATION_PERIOD, &status, why,
				       sizeof(why)), 1);
	assert_int_equal(status, 900);
	assert_int_equal(isns_find_u32(p + 4, n - 4, ISNS_TAG_PGT, &status, why, sizeof(why)), 0);
	/* A period of the wrong size is refused, not half-read. */
	n = raw_tlv(p, 4, ISNS_TAG_REGISTRATION_PERIOD, 8, "\0\0\0\0\0\0\3\204", 8);
	assert_int_equal(isns_find_u32(p + 4, n - 4, ISNS_TAG_REGISTRATION_PERIOD, &status, why,
				       sizeof(why)), -1);
}

static int collect(const char *name, void *ctx)
{
	char *out = ctx;
	strcat(out, name);
	strcat(out, ";");
	return 0;
}

static void test_query_answer(void **state)
{
	(void)state;
	uint8_t p[256];
	char got[128] = "";
	size_t n = 0;

	/* The key echoed back (a node type: before the delimiter, not an
	 * answer), then initiator, target, initiator, and a name without type. */
	n = raw_tlv(p, n, ISNS_TAG_NODE_TYPE, 4, "\0\0\0\2", 4);
	n = raw_tlv(p, n, ISNS_TAG_DELIMITER, 0, NULL, 0);
	n = raw_tlv(p, n, ISNS_TAG_ISCSI_NAME, 8, "iqn.i1", 7);
	n = raw_tlv(p, n, ISNS_TAG_NODE_TYPE, 4, "\0\0\0\2", 4);
	n = raw_tlv(p, n, ISNS_TAG_ISCSI_NAME, 8, "iqn.t1", 7);
	n = raw_tlv(p, n, ISNS_TAG_NODE_TYPE, 4, "\0\0\0\1", 4);
	n = raw_tlv(p, n, ISNS_TAG_ISCSI_NAME, 8, "iqn.i2", 7);
	n = raw_tlv(p, n, ISNS_TAG_NODE_TYPE, 4, "\0\0\0\6", 4);
	n = raw_tlv(p, n, ISNS_TAG_ISCSI_NAME, 8, "iqn.i3", 7);
	assert_int_equal(isns_each_node(p, n, ISNS_NODE_INITIATOR, collect, got, why, sizeof(why)),
			 2);
	assert_string_equal(got, "iqn.i1;iqn.i2;");
	assert_int_equal(isns_has_str(p, n, ISNS_TAG_ISCSI_NAME, "iqn.t1", why, sizeof(why)), 1);
	assert_int_equal(isns_has_str(p, n, ISNS_TAG_ISCSI_NAME, "iqn.t9", why, sizeof(why)), 0);

	/* A name without its NUL in the middle: the whole answer is refused. */
	n = raw_tlv(p, 0, ISNS_TAG_DELIMITER, 0, NULL, 0);
	n = raw_tlv(p, n, ISNS_TAG_ISCSI_NAME, 4, "iqn.", 4);
	n = raw_tlv(p, n, ISNS_TAG_NODE_TYPE, 4, "\0\0\0\2", 4);
	got[0] = '\0';
	assert_int_equal(isns_each_node(p, n, ISNS_NODE_INITIATOR, collect, got, why, sizeof(why)),
			 -1);
	assert_string_equal(got, "");
	/* A node type of the wrong size. */
	n = raw_tlv(p, 0, ISNS_TAG_DELIMITER, 0, NULL, 0);
	n = raw_tlv(p, n, ISNS_TAG_ISCSI_NAME, 8, "iqn.i1", 7);
	n = raw_tlv(p, n, ISNS_TAG_NODE_TYPE, 8, "\0\0\0\2", 4);
	assert_int_equal(isns_each_node(p, n, ISNS_NODE_INITIATOR, collect, got, why, sizeof(why)),
			 -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_build_message),  cmocka_unit_test(test_overflow_refused),
		cmocka_unit_test(test_header_checks),  cmocka_unit_test(test_tlv_walk),
		cmocka_unit_test(test_typed_values),   cmocka_unit_test(test_response_status),
		cmocka_unit_test(test_query_answer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
