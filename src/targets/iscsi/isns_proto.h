/* The iSNS protocol's wire format (RFC 4171 5.1, 6): a 12-byte header and
 * a payload of tag-length-value attributes, big-endian, every value padded
 * to a multiple of four bytes. Pure: builds messages into a caller's
 * buffer and checks received ones; no sockets, no state. Everything that
 * reads a peer's bytes validates them here first, so the client
 * (isns.c) only ever sees well-formed attributes. */
#ifndef USCST_TARGETS_ISCSI_ISNS_PROTO_H
#define USCST_TARGETS_ISCSI_ISNS_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define ISNS_VERSION 1
#define ISNS_HDR_LEN 12
/* RFC 7143 4.2.7.1: an iSCSI name is at most 223 bytes. */
#define ISNS_NAME_LEN_MAX 223
/* The PDU Length field is 16 bits; we never send or accept more. */
#define ISNS_PAYLOAD_MAX 65532u

/* Function IDs (RFC 4171 6.1); a response is the request's | 0x8000. */
enum isns_function {
	ISNS_DEV_ATTR_REG = 0x0001,
	ISNS_DEV_ATTR_QRY = 0x0002,
	ISNS_DEV_DEREG = 0x0004,
	ISNS_SCN_REG = 0x0005,
	ISNS_SCN = 0x0008,
	ISNS_ESI = 0x000d,
	ISNS_RESPONSE = 0x8000,
};

/* Header flags (RFC 4171 5.1.4). */
enum isns_flags {
	ISNS_F_CLIENT = 0x8000,
	ISNS_F_SERVER = 0x4000,
	ISNS_F_AUTH = 0x2000,
	ISNS_F_REPLACE = 0x1000,
	ISNS_F_LAST = 0x0800,
	ISNS_F_FIRST = 0x0400,
};

/* Attribute tags (RFC 4171 6.1) we send or read. */
enum isns_tag {
	ISNS_TAG_DELIMITER = 0,
	ISNS_TAG_EID = 1,
	ISNS_TAG_ENTITY_PROTOCOL = 2,
	ISNS_TAG_REGISTRATION_PERIOD = 6,
	ISNS_TAG_PORTAL_IP = 16,
	ISNS_TAG_PORTAL_PORT = 17,
	ISNS_TAG_SCN_PORT = 23,
	ISNS_TAG_ISCSI_NAME = 32,
	ISNS_TAG_NODE_TYPE = 33,
	ISNS_TAG_ALIAS = 34,
	ISNS_TAG_SCN_BITMAP = 35,
	ISNS_TAG_PG_ISCSI_NAME = 48,
	ISNS_TAG_PG_PORTAL_IP = 49,
	ISNS_TAG_PG_PORTAL_PORT = 50,
	ISNS_TAG_PGT = 51,
};

#define ISNS_ENTITY_PROTOCOL_ISCSI 2
/* iSCSI Node Type bits (RFC 4171 6.4.2). */
#define ISNS_NODE_TARGET 0x1u
#define ISNS_NODE_INITIATOR 0x2u
/* iSCSI SCN Bitmap bits (RFC 4171 6.4.4; the RFC numbers bits from the
 * most significant, so its bit 31 is our 0x1). */
#define ISNS_SCN_DD_MEMBER_ADDED 0x01u
#define ISNS_SCN_DD_MEMBER_REMOVED 0x02u
#define ISNS_SCN_OBJECT_UPDATED 0x04u
#define ISNS_SCN_OBJECT_ADDED 0x08u
#define ISNS_SCN_OBJECT_REMOVED 0x10u
#define ISNS_SCN_INITIATOR_AND_SELF 0x80u

/* Status codes (RFC 4171 6.4.3) the client acts on. */
#define ISNS_STATUS_SUCCESS 0
#define ISNS_STATUS_NO_SUCH_ENTRY 9

/* A message being built. Appending past the buffer sets overflow, and
 * isns_msg_finish() then refuses it: a caller checks once, at the end. */
struct isns_msg {
	uint8_t buf[ISNS_HDR_LEN + ISNS_PAYLOAD_MAX];
	size_t len; /* header included */
	bool overflow;
};

void isns_msg_init(struct isns_msg *m, uint16_t function, uint16_t flags, uint16_t xid);
void isns_put_u32(struct isns_msg *m, uint32_t tag, uint32_t value);
/* A NUL-terminated string attribute (names, alias, EID). */
void isns_put_str(struct isns_msg *m, uint32_t tag, const char *s);
/* A 16-byte IP address (IPv4 as ::ffff:a.b.c.d) from @ss's address. */
void isns_put_ip(struct isns_msg *m, uint32_t tag, const struct sockaddr_storage *ss);
/* A TCP port attribute (the UDP bit clear) from @ss's port. */
void isns_put_port(struct isns_msg *m, uint32_t tag, const struct sockaddr_storage *ss);
/* An attribute of @len bytes as they are (padded to four). */
void isns_put_bytes(struct isns_msg *m, uint32_t tag, const void *value, size_t len);
/* A response's leading status word (no tag, no length: RFC 4171 5.5). */
void isns_put_status(struct isns_msg *m, uint32_t status);
/* An attribute without value: the delimiter, or "return this" in a query. */
void isns_put_nil(struct isns_msg *m, uint32_t tag);
/* Writes the PDU Length; -1 when the message did not fit. */
int isns_msg_finish(struct isns_msg *m);

struct isns_hdr {
	uint16_t version, function, length, flags, xid, seq;
};

/* Reads a header (ISNS_HDR_LEN bytes). A version other than 1, a payload
 * length not a multiple of four, or a message in several PDUs (we never
 * send one that needs an answer that long) is refused: -1 with the reason. */
int isns_hdr_parse(const uint8_t *b, struct isns_hdr *h, char *why, size_t whylen);

struct isns_tlv {
	uint32_t tag, len;
	const uint8_t *value;
};

/* Walks a payload: *pos starts at 0. Returns 1 with the next attribute,
 * 0 at the end, -1 (with the reason) when an attribute's length runs past
 * the payload or is not a multiple of four. */
int isns_tlv_next(const uint8_t *payload, size_t len, size_t *pos, struct isns_tlv *t,
		  char *why, size_t whylen);
/* Checks every attribute of a payload (isns_tlv_next() to the end). */
int isns_payload_check(const uint8_t *payload, size_t len, char *why, size_t whylen);

/* Typed reads of one attribute; each refuses a value of the wrong shape. */
int isns_tlv_u32(const struct isns_tlv *t, uint32_t *v, char *why, size_t whylen);
/* A string: NUL-terminated inside its length, nothing but padding NULs
 * after it, no control characters, at most outlen - 1 bytes. */
int isns_tlv_str(const struct isns_tlv *t, char *out, size_t outlen, char *why, size_t whylen);

/* A response's status (its payload's first four bytes), -1 when the
 * payload is too short or malformed. */
int isns_response_status(const uint8_t *payload, size_t len, uint32_t *status, char *why,
			 size_t whylen);

/* Reading an answer's attributes (the payload after the status). Each
 * checks every attribute it passes over and returns -1 with the reason on
 * the first malformed one. */

/* The first @tag attribute as a number: 1 found, 0 none. */
int isns_find_u32(const uint8_t *payload, size_t len, uint32_t tag, uint32_t *v, char *why,
		  size_t whylen);
/* Whether some @tag attribute is the string @want: 1 yes, 0 no. */
int isns_has_str(const uint8_t *payload, size_t len, uint32_t tag, const char *want, char *why,
		 size_t whylen);
/* A DevAttrQryRsp's operating attributes (after the delimiter): calls @fn
 * with each iSCSI Name whose iSCSI Node Type that follows it has a bit of
 * @type_mask. Returns how many, or -1 (@fn may have been called for the
 * ones before the malformed attribute: the caller drops them). */
int isns_each_node(const uint8_t *payload, size_t len, uint32_t type_mask,
		   int (*fn)(const char *name, void *ctx), void *ctx, char *why, size_t whylen);

#endif
