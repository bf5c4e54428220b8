/* VPD page 0x8F, Third-party Copy (SPC-4 7.8.17): what the copy manager
 * (copy_job.c) takes, from the same limits its checks use
 * (copy_params.h). Each third-party copy descriptor is a 2-byte type, a
 * 2-byte length and a payload padded to a multiple of 4. */
#include <string.h>

#include "base/bytes.h"
#include "core/copy_mgr.h"
#include "core/copy_params.h"
#include "scsi/scsi.h"

#define TPC_DESC_SUPPORTED_COMMANDS 0x0001
#define TPC_DESC_PARAMETER_DATA 0x0004
#define TPC_DESC_SUPPORTED_DESCRIPTORS 0x0008
#define TPC_DESC_GENERAL_COPY_OPERATIONS 0x8001

static size_t pad4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

/* Starts a descriptor of @type at @d whose payload is @len bytes (from
 * byte 4); returns its whole padded length. */
static size_t finish_desc(uint8_t *d, uint16_t type, size_t len)
{
	size_t whole = pad4(4 + len);

	put_be16(d, type);
	put_be16(d + 2, (uint16_t)(whole - 4));
	return whole;
}

/* SPC-4 7.8.17.3: each command with the service actions served. */
static size_t supported_commands(uint8_t *d)
{
	static const uint8_t list[] = {
		EXTENDED_COPY, 2, 0x00 /* LID1 */, 0x01 /* LID4 */,
		RECEIVE_COPY_RESULTS, 5, 0x00, 0x01, 0x03, 0x04, 0x05,
	};

	memset(d, 0, pad4(4 + 1 + sizeof(list)));
	d[4] = sizeof(list);
	memcpy(d + 5, list, sizeof(list));
	return finish_desc(d, TPC_DESC_SUPPORTED_COMMANDS, 1 + sizeof(list));
}

/* SPC-4 7.8.17.4: the EXTENDED COPY(LID1) limits. */
static size_t parameter_data(uint8_t *d)
{
	memset(d, 0, 32);
	put_be16(d + 8, COPY_MAX_CSCD_DESCS);
	put_be16(d + 10, COPY_MAX_SEG_DESCS);
	put_be32(d + 12, COPY_MAX_DESC_LIST_LEN);
	/* 16-19 MAXIMUM INLINE DATA LENGTH: 0. */
	return finish_desc(d, TPC_DESC_PARAMETER_DATA, 28);
}

/* SPC-4 7.8.17.5: segment and CSCD descriptor type codes. */
static size_t supported_descriptors(uint8_t *d)
{
	static const uint8_t codes[] = {
		COPY_SEG_BLOCK_TO_BLOCK, COPY_SEG_BLOCK_TO_BLOCK_OFFSET, COPY_CSCD_IDENTIFICATION,
	};

	memset(d, 0, pad4(4 + 1 + sizeof(codes)));
	d[4] = sizeof(codes);
	memcpy(d + 5, codes, sizeof(codes));
	return finish_desc(d, TPC_DESC_SUPPORTED_DESCRIPTORS, 1 + sizeof(codes));
}

/* SPC-4 7.8.17.8. */
static size_t general_copy_operations(uint8_t *d)
{
	memset(d, 0, 32);
	put_be32(d + 4, 0xffff);  /* TOTAL CONCURRENT COPIES */
	put_be32(d + 8, 0xff);    /* MAXIMUM IDENTIFIED CONCURRENT COPIES */
	put_be32(d + 12, COPY_MAX_SEGMENT_LEN);
	d[16] = COPY_DATA_SEGMENT_GRANULARITY;
	/* 17 INLINE DATA GRANULARITY: no inline data. */
	return finish_desc(d, TPC_DESC_GENERAL_COPY_OPERATIONS, 28);
}

size_t scst_copy_vpd_page(uint8_t *d)
{
	size_t n = 0;

	n += supported_commands(d + n);
	n += parameter_data(d + n);
	n += supported_descriptors(d + n);
	n += general_copy_operations(d + n);
	return n;
}
