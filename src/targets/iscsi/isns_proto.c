/* iSNS wire format: see isns_proto.h. */
#include "targets/iscsi/isns_proto.h"

#include <assert.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint16_t get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

void isns_msg_init(struct isns_msg *m, uint16_t function, uint16_t flags, uint16_t xid)
{
	memset(m->buf, 0, ISNS_HDR_LEN);
	put_be16(m->buf, ISNS_VERSION);
	put_be16(m->buf + 2, function);
	put_be16(m->buf + 6, flags);
	put_be16(m->buf + 8, xid);
	m->len = ISNS_HDR_LEN;
	m->overflow = false;
}

/* Appends one attribute of @len value bytes (padded with NULs to four). */
static void put_tlv(struct isns_msg *m, uint32_t tag, const void *value, size_t len)
{
	size_t padded = (len + 3) & ~(size_t)3;

	if (m->overflow || padded > sizeof(m->buf) - m->len - 8) {
		m->overflow = true;
		return;
	}
	uint8_t *p = m->buf + m->len;
	put_be32(p, tag);
	put_be32(p + 4, (uint32_t)padded);
	memset(p + 8, 0, padded);
	if (len)
		memcpy(p + 8, value, len);
	m->len += 8 + padded;
}

void isns_put_u32(struct isns_msg *m, uint32_t tag, uint32_t value)
{
	uint8_t b[4];

	put_be32(b, value);
	put_tlv(m, tag, b, 4);
}

void isns_put_str(struct isns_msg *m, uint32_t tag, const char *s)
{
	/* The NUL is part of the value (RFC 4171 5.5: null-terminated). */
	put_tlv(m, tag, s, strlen(s) + 1);
}

void isns_put_ip(struct isns_msg *m, uint32_t tag, const struct sockaddr_storage *ss)
{
	uint8_t a[16] = { 0 };

	if (ss->ss_family == AF_INET6) {
		memcpy(a, &((const struct sockaddr_in6 *)ss)->sin6_addr, 16);
	} else {
		assert(ss->ss_family == AF_INET);
		a[10] = a[11] = 0xff;
		memcpy(a + 12, &((const struct sockaddr_in *)ss)->sin_addr, 4);
	}
	put_tlv(m, tag, a, 16);
}

void isns_put_port(struct isns_msg *m, uint32_t tag, const struct sockaddr_storage *ss)
{
	in_port_t port = ss->ss_family == AF_INET6 ? ((const struct sockaddr_in6 *)ss)->sin6_port
						   : ((const struct sockaddr_in *)ss)->sin_port;
	isns_put_u32(m, tag, ntohs(port));
}

void isns_put_bytes(struct isns_msg *m, uint32_t tag, const void *value, size_t len)
{
	put_tlv(m, tag, value, len);
}

void isns_put_status(struct isns_msg *m, uint32_t status)
{
	if (m->overflow || sizeof(m->buf) - m->len < 4) {
		m->overflow = true;
		return;
	}
	put_be32(m->buf + m->len, status);
	m->len += 4;
}

void isns_put_nil(struct isns_msg *m, uint32_t tag)
{
	put_tlv(m, tag, NULL, 0);
}

int isns_msg_finish(struct isns_msg *m)
{
	if (m->overflow)
		return -1;
	assert(m->len >= ISNS_HDR_LEN && (m->len - ISNS_HDR_LEN) % 4 == 0);
	put_be16(m->buf + 4, (uint16_t)(m->len - ISNS_HDR_LEN));
	return 0;
}

int isns_hdr_parse(const uint8_t *b, struct isns_hdr *h, char *why, size_t whylen)
{
	h->version = get_be16(b);
	h->function = get_be16(b + 2);
	h->length = get_be16(b + 4);
	h->flags = get_be16(b + 6);
	h->xid = get_be16(b + 8);
	h->seq = get_be16(b + 10);
	if (h->version != ISNS_VERSION) {
		snprintf(why, whylen, "iSNSP version %u, not 1", h->version);
		return -1;
	}
	if (h->length % 4) {
		snprintf(why, whylen, "PDU length %u is not a multiple of 4", h->length);
		return -1;
	}
	if (h->seq != 0 || !(h->flags & ISNS_F_LAST)) {
		snprintf(why, whylen, "a message in several PDUs (sequence %u, flags 0x%04x)",
			 h->seq, h->flags);
		return -1;
	}
	return 0;
}

int isns_tlv_next(const uint8_t *payload, size_t len, size_t *pos, struct isns_tlv *t,
		  char *why, size_t whylen)
{
	if (*pos == len)
		return 0;
	if (len - *pos < 8) {
		snprintf(why, whylen, "%zu stray bytes at offset %zu", len - *pos, *pos);
		return -1;
	}
	t->tag = get_be32(payload + *pos);
	t->len = get_be32(payload + *pos + 4);
	if (t->len % 4) {
		snprintf(why, whylen, "attribute %u at offset %zu has length %u, not a multiple of 4",
			 t->tag, *pos, t->len);
		return -1;
	}
	if (t->len > len - *pos - 8) {
		snprintf(why, whylen, "attribute %u at offset %zu has length %u past the PDU's end",
			 t->tag, *pos, t->len);
		return -1;
	}
	t->value = payload + *pos + 8;
	*pos += 8 + t->len;
	return 1;
}

int isns_payload_check(const uint8_t *payload, size_t len, char *why, size_t whylen)
{
	struct isns_tlv t;
	size_t pos = 0;
	int rc;

	while ((rc = isns_tlv_next(payload, len, &pos, &t, why, whylen)) == 1)
		;
	return rc;
}

int isns_tlv_u32(const struct isns_tlv *t, uint32_t *v, char *why, size_t whylen)
{
	if (t->len != 4) {
		snprintf(why, whylen, "attribute %u has length %u, not 4", t->tag, t->len);
		return -1;
	}
	*v = get_be32(t->value);
	return 0;
}

int isns_tlv_str(const struct isns_tlv *t, char *out, size_t outlen, char *why, size_t whylen)
{
	const uint8_t *nul = t->len ? memchr(t->value, 0, t->len) : NULL;

	if (!nul) {
		snprintf(why, whylen, "string attribute %u is not NUL-terminated", t->tag);
		return -1;
	}
	size_t n = (size_t)(nul - t->value);
	for (size_t i = n; i < t->len; i++) {
		if (t->value[i]) {
			snprintf(why, whylen, "string attribute %u has bytes after its NUL", t->tag);
			return -1;
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (t->value[i] < 0x20 || t->value[i] == 0x7f) {
			snprintf(why, whylen, "string attribute %u has control character 0x%02x",
				 t->tag, t->value[i]);
			return -1;
		}
	}
	if (n >= outlen) {
		snprintf(why, whylen, "string attribute %u is %zu bytes long, at most %zu taken",
			 t->tag, n, outlen - 1);
		return -1;
	}
	memcpy(out, t->value, n);
	out[n] = '\0';
	return 0;
}

int isns_response_status(const uint8_t *payload, size_t len, uint32_t *status, char *why,
			 size_t whylen)
{
	if (len < 4) {
		snprintf(why, whylen, "a response of %zu bytes, without a status", len);
		return -1;
	}
	*status = get_be32(payload);
	return isns_payload_check(payload + 4, len - 4, why, whylen);
}

int isns_find_u32(const uint8_t *payload, size_t len, uint32_t tag, uint32_t *v, char *why,
		  size_t whylen)
{
	struct isns_tlv t;
	size_t pos = 0;
	int rc;

	while ((rc = isns_tlv_next(payload, len, &pos, &t, why, whylen)) == 1)
		if (t.tag == tag)
			return isns_tlv_u32(&t, v, why, whylen) < 0 ? -1 : 1;
	return rc;
}

int isns_has_str(const uint8_t *payload, size_t len, uint32_t tag, const char *want, char *why,
		 size_t whylen)
{
	char s[256];
	struct isns_tlv t;
	size_t pos = 0;
	int rc;

	while ((rc = isns_tlv_next(payload, len, &pos, &t, why, whylen)) == 1) {
		/* A nil one (the key echoed back without value) says nothing. */
		if (t.tag != tag || t.len == 0)
			continue;
		if (isns_tlv_str(&t, s, sizeof(s), why, whylen) < 0)
			return -1;
		if (strcmp(s, want) == 0)
			return 1;
	}
	return rc;
}

int isns_each_node(const uint8_t *payload, size_t len, uint32_t type_mask,
		   int (*fn)(const char *name, void *ctx), void *ctx, char *why, size_t whylen)
{
	char name[ISNS_NAME_LEN_MAX + 1];
	bool after_delim = false, have_name = false;
	struct isns_tlv t;
	size_t pos = 0;
	int rc, count = 0;

	while ((rc = isns_tlv_next(payload, len, &pos, &t, why, whylen)) == 1) {
		if (t.tag == ISNS_TAG_DELIMITER) {
			after_delim = true;
			continue;
		}
		/* The message key comes back first: not an answer. */
		if (!after_delim)
			continue;
		if (t.tag == ISNS_TAG_ISCSI_NAME) {
			if (isns_tlv_str(&t, name, sizeof(name), why, whylen) < 0)
				return -1;
			have_name = true;
		} else if (t.tag == ISNS_TAG_NODE_TYPE && have_name) {
			uint32_t type;
			if (isns_tlv_u32(&t, &type, why, whylen) < 0)
				return -1;
			if (type & type_mask) {
				if (fn(name, ctx) < 0) {
					snprintf(why, whylen, "out of memory");
					return -1;
				}
				count++;
			}
			have_name = false;
		}
	}
	return rc < 0 ? -1 : count;
}
