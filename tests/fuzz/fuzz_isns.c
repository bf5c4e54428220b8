/* libFuzzer harness: what an iSNS server (or anyone who reaches the SCN
 * listener) sends the client, through the wire format's checks
 * (src/targets/iscsi/isns_proto.c) in the order isns.c applies them.
 *
 * Input: a PDU as it comes off the socket: a 12-byte header, then the
 * payload (whatever follows, cut to the header's length).
 *
 * Besides ASan and UBSan it checks what isns_proto.h promises: every
 * attribute the walk returns lies inside the payload with a length that
 * is a multiple of four; a payload that passes the check is rebuilt
 * byte for byte from its attributes; a string read is NUL-terminated,
 * shorter than the buffer and free of control characters; the query
 * reader reports no more names than it passed. A violation aborts. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "targets/iscsi/isns_proto.h"

#define CHECK(cond)                                                                \
	do {                                                                       \
		if (!(cond)) {                                                     \
			fprintf(stderr, "fuzz_isns: %s:%d: check failed: %s\n",   \
				__FILE__, __LINE__, #cond);                        \
			abort();                                                   \
		}                                                                  \
	} while (0)

static struct isns_msg rebuilt;

static int count_name(const char *name, void *ctx)
{
	CHECK(strlen(name) <= ISNS_NAME_LEN_MAX);
	(*(int *)ctx)++;
	return 0;
}

static void walk(const uint8_t *p, size_t len)
{
	char why[256], s[300];
	struct isns_tlv t;
	size_t pos = 0;
	int rc;

	isns_msg_init(&rebuilt, ISNS_SCN | ISNS_RESPONSE, 0, 0);
	while ((rc = isns_tlv_next(p, len, &pos, &t, why, sizeof(why))) == 1) {
		CHECK(t.value >= p + 8 && t.value + t.len <= p + len && t.len % 4 == 0);
		CHECK(pos <= len);
		isns_put_bytes(&rebuilt, t.tag, t.value, t.len);
		uint32_t v;
		if (isns_tlv_u32(&t, &v, why, sizeof(why)) == 0)
			CHECK(t.len == 4);
		if (isns_tlv_str(&t, s, sizeof(s), why, sizeof(why)) == 0) {
			size_t n = strlen(s);
			CHECK(n < sizeof(s) && n < t.len);
			for (size_t i = 0; i < n; i++)
				CHECK((unsigned char)s[i] >= 0x20 && s[i] != 0x7f);
		} else {
			CHECK(why[0]);
		}
	}
	if (rc == 0) {
		CHECK(isns_payload_check(p, len, why, sizeof(why)) == 0);
		CHECK(isns_msg_finish(&rebuilt) == 0);
		CHECK(rebuilt.len - ISNS_HDR_LEN == len);
		CHECK(memcmp(rebuilt.buf + ISNS_HDR_LEN, p, len) == 0);
	} else {
		CHECK(rc == -1 && why[0]);
		CHECK(isns_payload_check(p, len, why, sizeof(why)) == -1);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct isns_hdr h;
	char why[256];

	if (size < ISNS_HDR_LEN)
		return 0;
	if (isns_hdr_parse(data, &h, why, sizeof(why)) < 0) {
		CHECK(why[0]);
		/* The payload is still worth walking: the walk must not care. */
	}
	size_t len = size - ISNS_HDR_LEN;
	if (len > h.length)
		len = h.length;
	const uint8_t *p = data + ISNS_HDR_LEN;
	walk(p, len);

	/* As a response: status, then what isns.c looks for. */
	uint32_t status, v;
	if (isns_response_status(p, len, &status, why, sizeof(why)) == 0) {
		int names = 0, rc;
		rc = isns_find_u32(p + 4, len - 4, ISNS_TAG_REGISTRATION_PERIOD, &v, why, sizeof(why));
		CHECK(rc >= -1 && rc <= 1);
		rc = isns_has_str(p + 4, len - 4, ISNS_TAG_EID, "uscst:fuzz", why, sizeof(why));
		CHECK(rc >= -1 && rc <= 1);
		rc = isns_each_node(p + 4, len - 4, ISNS_NODE_INITIATOR, count_name, &names, why,
				    sizeof(why));
		CHECK(rc == -1 || rc == names);
		CHECK(len / 12 + 1 >= (size_t)names);
	}
	return 0;
}
