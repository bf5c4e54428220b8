/* COPY ABORTED sense data with a copy target's sense forwarded:
 * copy_sense.h. */
#include "scsi/copy_sense.h"

#include <assert.h>
#include <string.h>

#include "base/bytes.h"

#define SENSE_KEY_COPY_ABORTED 0x0a
#define FIXED_LEN 18
#define SKSV 0x80
#define DESC_CSI 0x01
#define DESC_SKS 0x02
#define DESC_FORWARDED 0x0c
#define FSDT 0x80

static void segment_pointer(const struct copy_target_failure *f, uint8_t sks[3])
{
	sks[0] = SKSV; /* SD 0: a byte of the parameter list; BPV 0 */
	put_be16(sks + 1, f->cscd_byte);
}

static size_t fixed(const struct copy_target_failure *f, uint8_t *b, size_t len)
{
	size_t n = FIXED_LEN, fwd = f->sense_len;

	assert(len >= FIXED_LEN);
	memset(b, 0, FIXED_LEN);
	b[0] = 0x70;
	b[2] = SENSE_KEY_COPY_ABORTED;
	/* The status byte and sense data at byte 18, if the status fits. */
	if (len > FIXED_LEN) {
		b[f->side == COPY_SENSE_SOURCE ? 8 : 9] = FIXED_LEN;
		b[n++] = f->status;
		if (fwd > len - n)
			fwd = len - n;
		memcpy(b + n, f->sense, fwd);
		n += fwd;
	}
	put_be16(b + 10, f->segment);
	b[12] = (uint8_t)(f->asc >> 8);
	b[13] = (uint8_t)f->asc;
	segment_pointer(f, b + 15);
	b[7] = (uint8_t)(n - 8);
	return n;
}

static size_t descriptor(const struct copy_target_failure *f, uint8_t *b, size_t len)
{
	size_t n = 8, fwd = f->sense_len;
	bool cut = false;

	assert(len >= 8 + 12 + 8 + 4);
	memset(b, 0, 8 + 12 + 8);
	b[0] = 0x72;
	b[1] = SENSE_KEY_COPY_ABORTED;
	b[2] = (uint8_t)(f->asc >> 8);
	b[3] = (uint8_t)f->asc;
	b[n] = DESC_CSI;
	b[n + 1] = 0x0a;
	put_be64(b + n + 4, f->segment);
	n += 12;
	b[n] = DESC_SKS;
	b[n + 1] = 0x06;
	segment_pointer(f, b + n + 4);
	n += 8;
	/* The descriptor's length is one byte, and so is the whole sense
	 * data's additional length. */
	if (fwd > len - n - 4) {
		fwd = len - n - 4;
		cut = true;
	}
	if (fwd > 255 - 2 - (n - 8) - 2) {
		fwd = 255 - 2 - (n - 8) - 2;
		cut = true;
	}
	b[n] = DESC_FORWARDED;
	b[n + 1] = (uint8_t)(2 + fwd);
	b[n + 2] = (uint8_t)((cut ? FSDT : 0) | f->side);
	b[n + 3] = f->status;
	memcpy(b + n + 4, f->sense, fwd);
	n += 4 + fwd;
	b[7] = (uint8_t)(n - 8);
	return n;
}

size_t scsi_copy_aborted_sense(const struct copy_target_failure *f, bool descriptor_format,
			       uint8_t *buf, size_t len)
{
	assert(f->side == COPY_SENSE_SOURCE || f->side == COPY_SENSE_DESTINATION);
	return descriptor_format ? descriptor(f, buf, len) : fixed(f, buf, len);
}
