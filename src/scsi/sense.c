/* Sense data encoding (SPC-4 4.5.2 descriptor format, 4.5.3 fixed format). */
#include "scsi/sense.h"

#include <assert.h>
#include <string.h>

#include "base/bytes.h"

#define FIXED_SENSE_LEN 18
#define SKSV 0x80
#define SKS_CD 0x40
#define SKS_BPV 0x08

/* The three sense-key-specific bytes of a field pointer. */
static void encode_field_pointer(const struct scsi_sense *s, uint8_t sks[3])
{
	sks[0] = SKSV;
	if (s->in_cdb)
		sks[0] |= SKS_CD;
	if (s->bit_valid)
		sks[0] |= SKS_BPV | (s->bit & 7);
	put_be16(sks + 1, s->byte);
}

/* The three sense-key-specific bytes of a progress indication. */
static void encode_progress(const struct scsi_sense *s, uint8_t sks[3])
{
	sks[0] = SKSV;
	put_be16(sks + 1, s->progress);
}

static bool has_sense_key_specific(const struct scsi_sense *s)
{
	assert(!(s->has_field_pointer && s->has_progress));
	return s->has_field_pointer || s->has_progress;
}

static void encode_sense_key_specific(const struct scsi_sense *s, uint8_t sks[3])
{
	if (s->has_field_pointer)
		encode_field_pointer(s, sks);
	else
		encode_progress(s, sks);
}

static size_t encode_fixed(const struct scsi_sense *s, uint8_t *out)
{
	memset(out, 0, FIXED_SENSE_LEN);
	out[0] = 0x70;
	out[2] = s->key & 0x0f;
	if (s->has_information && s->information <= 0xffffffffu) {
		out[0] |= 0x80; /* VALID */
		put_be32(out + 3, (uint32_t)s->information);
	}
	out[7] = FIXED_SENSE_LEN - 8;
	out[12] = (uint8_t)(s->asc >> 8);
	out[13] = (uint8_t)s->asc;
	if (has_sense_key_specific(s))
		encode_sense_key_specific(s, out + 15);
	return FIXED_SENSE_LEN;
}

static size_t encode_descriptor(const struct scsi_sense *s, uint8_t *out)
{
	size_t n = 8;

	memset(out, 0, 8);
	out[0] = 0x72;
	out[1] = s->key & 0x0f;
	out[2] = (uint8_t)(s->asc >> 8);
	out[3] = (uint8_t)s->asc;
	if (s->has_information) {
		/* Information descriptor (type 0x00). */
		memset(out + n, 0, 12);
		out[n] = 0x00;
		out[n + 1] = 0x0a;
		out[n + 2] = 0x80; /* VALID */
		put_be64(out + n + 4, s->information);
		n += 12;
	}
	if (has_sense_key_specific(s)) {
		/* Sense key specific descriptor (type 0x02). */
		memset(out + n, 0, 8);
		out[n] = 0x02;
		out[n + 1] = 0x06;
		encode_sense_key_specific(s, out + n + 4);
		n += 8;
	}
	out[7] = (uint8_t)(n - 8);
	return n;
}

size_t scsi_sense_encode(const struct scsi_sense *s, bool descriptor, uint8_t *buf, size_t len)
{
	uint8_t tmp[64];
	size_t n = descriptor ? encode_descriptor(s, tmp) : encode_fixed(s, tmp);

	if (n > len)
		n = len;
	memcpy(buf, tmp, n);
	return n;
}

bool scsi_sense_decode(const uint8_t *buf, size_t len, uint8_t *key, uint16_t *asc)
{
	if (len < 1)
		return false;
	switch (buf[0] & 0x7f) {
	case 0x70:
	case 0x71:
		if (len < 14)
			return false;
		*key = buf[2] & 0x0f;
		*asc = (uint16_t)(buf[12] << 8 | buf[13]);
		return true;
	case 0x72:
	case 0x73:
		if (len < 4)
			return false;
		*key = buf[1] & 0x0f;
		*asc = (uint16_t)(buf[2] << 8 | buf[3]);
		return true;
	default:
		return false;
	}
}
