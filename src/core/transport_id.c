/* TransportIDs (SPC-4 7.6.4); the formats are listed in transport_id.h. */
#include <ctype.h>
#include <string.h>

#include "base/bytes.h"
#include "core/transport_id.h"

enum {
	PROTO_FCP = 0x0,
	PROTO_SRP = 0x4,
	PROTO_ISCSI = 0x5,
	PROTO_SAS = 0x6,
};

#define FORMAT_DEVICE 0x0 /* 00b */
#define FORMAT_PORT 0x1   /* 01b: iSCSI initiator port */
#define FIXED_TID_LEN 24
#define ISCSI_NAME_MAX 223
#define ISID_HEX_DIGITS 12
static const char ISCSI_PORT_SEPARATOR[] = ",i,0x";

static unsigned tid_format(const uint8_t *tid)
{
	return tid[0] >> 6;
}

static unsigned tid_protocol(const uint8_t *tid)
{
	return tid[0] & 0x0f;
}

/* An iSCSI TransportID: 4 + ADDITIONAL LENGTH bytes, the name (and for
 * format 01b the separator and ISID) NUL-terminated in bytes 4 on. */
static unsigned parse_iscsi(const uint8_t *buf, size_t avail, uint8_t *out, unsigned *bad)
{
	unsigned fmt = tid_format(buf);
	unsigned len, end, name_len;
	const char *s, *sep;

	if (fmt != FORMAT_DEVICE && fmt != FORMAT_PORT) {
		*bad = 0;
		return 0;
	}
	if (avail < 4) {
		*bad = 0;
		return 0;
	}
	len = 4u + get_be16(buf + 2);
	/* At least a one-character name and its NUL, padded. */
	if (len % 4 || len < 8 || len > SCST_TID_MAX || len > avail) {
		*bad = 2;
		return 0;
	}
	s = (const char *)buf + 4;
	end = (unsigned)strnlen(s, len - 4);
	if (end == len - 4 || end == 0) { /* no NUL inside, or empty */
		*bad = 4;
		return 0;
	}
	sep = NULL;
	for (unsigned i = 0; i + sizeof(ISCSI_PORT_SEPARATOR) - 1 <= end; i++) {
		if (strncasecmp(s + i, ISCSI_PORT_SEPARATOR, sizeof(ISCSI_PORT_SEPARATOR) - 1) == 0) {
			sep = s + i;
			break;
		}
	}
	name_len = sep ? (unsigned)(sep - s) : end;
	if (name_len == 0 || name_len > ISCSI_NAME_MAX) {
		*bad = 4;
		return 0;
	}
	if (fmt == FORMAT_PORT) {
		const char *isid = sep ? sep + sizeof(ISCSI_PORT_SEPARATOR) - 1 : NULL;
		unsigned n = isid ? (unsigned)(s + end - isid) : 0;

		if (!isid || n == 0 || n > ISID_HEX_DIGITS) {
			*bad = 4 + name_len;
			return 0;
		}
		for (unsigned i = 0; i < n; i++) {
			if (!isxdigit((unsigned char)isid[i])) {
				*bad = (unsigned)(isid - s) + 4 + i;
				return 0;
			}
		}
	} else if (sep) {
		/* A device TransportID names no port. */
		*bad = 4 + name_len;
		return 0;
	}
	memset(out, 0, len);
	out[0] = buf[0] & 0xcf; /* FORMAT CODE, PROTOCOL IDENTIFIER */
	put_be16(out + 2, (uint16_t)(len - 4));
	for (unsigned i = 0; i < end; i++)
		out[4 + i] = (uint8_t)tolower((unsigned char)s[i]);
	return len;
}

unsigned scst_tid_parse(const uint8_t *buf, size_t avail, uint8_t out[SCST_TID_MAX],
			unsigned *bad_byte)
{
	*bad_byte = 0;
	if (avail < 1)
		return 0;
	switch (tid_protocol(buf)) {
	case PROTO_ISCSI:
		return parse_iscsi(buf, avail, out, bad_byte);
	case PROTO_FCP:
	case PROTO_SRP:
	case PROTO_SAS:
		if (tid_format(buf) != FORMAT_DEVICE)
			return 0;
		if (avail < FIXED_TID_LEN) {
			*bad_byte = (unsigned)avail;
			return 0;
		}
		memcpy(out, buf, FIXED_TID_LEN);
		out[0] &= 0xcf;
		return FIXED_TID_LEN;
	default:
		return 0;
	}
}

/* The identifying bytes of a fixed-length TransportID. */
static void fixed_identifier(const uint8_t *tid, const uint8_t **id, unsigned *n)
{
	switch (tid_protocol(tid)) {
	case PROTO_SAS:
		*id = tid + 4;
		*n = 8;
		return;
	case PROTO_SRP:
		*id = tid + 8;
		*n = 16;
		return;
	default: /* FCP */
		*id = tid + 8;
		*n = 8;
		return;
	}
}

/* The name part of an iSCSI TransportID and, for a port, its ISID. */
static void iscsi_parts(const uint8_t *tid, unsigned len, const char **name, unsigned *name_len,
			const char **isid, unsigned *isid_len)
{
	const char *s = (const char *)tid + 4;
	unsigned end = (unsigned)strnlen(s, len - 4);

	*name = s;
	*name_len = end;
	*isid = NULL;
	*isid_len = 0;
	for (unsigned i = 0; i + sizeof(ISCSI_PORT_SEPARATOR) - 1 <= end; i++) {
		if (strncasecmp(s + i, ISCSI_PORT_SEPARATOR, sizeof(ISCSI_PORT_SEPARATOR) - 1) == 0) {
			*name_len = i;
			*isid = s + i + sizeof(ISCSI_PORT_SEPARATOR) - 1;
			*isid_len = end - i - (unsigned)(sizeof(ISCSI_PORT_SEPARATOR) - 1);
			return;
		}
	}
}

/* ISIDs as numbers: "0x023d0000" and "0x23d0000" are the same ISID. */
static bool isid_equal(const char *a, unsigned an, const char *b, unsigned bn)
{
	while (an > 1 && *a == '0')
		a++, an--;
	while (bn > 1 && *b == '0')
		b++, bn--;
	return an == bn && strncasecmp(a, b, an) == 0;
}

static bool tid_compare(const uint8_t *a, unsigned a_len, const uint8_t *b, unsigned b_len,
			bool device_matches_port)
{
	const char *an, *ai, *bn, *bi;
	unsigned anl, ail, bnl, bil;

	if (a_len < 4 || b_len < 4 || tid_protocol(a) != tid_protocol(b))
		return false;
	if (tid_protocol(a) != PROTO_ISCSI) {
		const uint8_t *ida, *idb;
		unsigned na, nb;

		if (a_len < FIXED_TID_LEN || b_len < FIXED_TID_LEN)
			return false;
		fixed_identifier(a, &ida, &na);
		fixed_identifier(b, &idb, &nb);
		return na == nb && memcmp(ida, idb, na) == 0;
	}
	iscsi_parts(a, a_len, &an, &anl, &ai, &ail);
	iscsi_parts(b, b_len, &bn, &bnl, &bi, &bil);
	if (anl != bnl || strncasecmp(an, bn, anl) != 0)
		return false;
	if (!ai && device_matches_port)
		return true; /* a device: every port of it */
	if (!ai || !bi)
		return !ai && !bi;
	return isid_equal(ai, ail, bi, bil);
}

bool scst_tid_matches(const uint8_t *reg, unsigned reg_len, const uint8_t *port,
		      unsigned port_len)
{
	return tid_compare(reg, reg_len, port, port_len, true);
}

bool scst_tid_equal(const uint8_t *a, unsigned a_len, const uint8_t *b, unsigned b_len)
{
	return tid_compare(a, a_len, b, b_len, false);
}

bool scst_tid_is_port(const uint8_t *tid, unsigned len)
{
	return len >= 4 && !(tid_protocol(tid) == PROTO_ISCSI && tid_format(tid) == FORMAT_DEVICE);
}
