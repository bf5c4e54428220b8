/* VPD page 0x8F, Third-party Copy (SPC-4 7.8.17): what the copy manager
 * (copy_job.c) takes, from the same limits its checks use
 * (copy_params.h). Each third-party copy descriptor is a 2-byte type, a
 * 2-byte length and a payload padded to a multiple of 4. */
#include <string.h>

#include "base/bytes.h"
#include "core/copy_mgr.h"
#include "core/copy_params.h"
#include "core/copy_token.h"
#include "scsi/scsi.h"

#define TPC_DESC_SUPPORTED_COMMANDS 0x0001
#define TPC_DESC_PARAMETER_DATA 0x0004
#define TPC_DESC_SUPPORTED_DESCRIPTORS 0x0008
#define TPC_DESC_GENERAL_COPY_OPERATIONS 0x8001
#define TPC_DESC_BLOCK_ROD_TOKEN_LIMITS 0x0000
#define TPC_DESC_ROD_TOKEN_FEATURES 0x0106
#define TPC_DESC_SUPPORTED_ROD_TYPES 0x0108

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
		EXTENDED_COPY, 5, 0x00 /* LID1 */, 0x01 /* LID4 */, 0x10 /* POPULATE TOKEN */,
		0x11 /* WRITE USING TOKEN */, 0x1c /* COPY OPERATION ABORT */,
		RECEIVE_COPY_RESULTS, 7, 0x00, 0x01, 0x03, 0x04, 0x05,
		0x06 /* RECEIVE COPY DATA(LID4) */, 0x07 /* RECEIVE ROD TOKEN INFORMATION */,
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

/* SBC-4 6.6.7.2, Block Device ROD Token Limits (copy_token.h): the
 * limits POPULATE TOKEN and WRITE USING TOKEN check. */
static size_t block_rod_token_limits(uint8_t *d)
{
	memset(d, 0, 36);
	put_be16(d + 10, COPY_TOKEN_MAX_RANGES);
	put_be32(d + 12, COPY_TOKEN_MAX_TIMEOUT);
	put_be32(d + 16, COPY_TOKEN_DEFAULT_TIMEOUT);
	/* MAXIMUM TOKEN TRANSFER SIZE and OPTIMAL TRANSFER COUNT, in
	 * logical blocks. */
	put_be64(d + 20, COPY_TOKEN_MAX_BLOCKS);
	put_be64(d + 28, COPY_TOKEN_MAX_BLOCKS);
	return finish_desc(d, TPC_DESC_BLOCK_ROD_TOKEN_LIMITS, 32);
}

/* SPC-4 7.8.17.11: the ROD types tokens are made (TOKEN_OUT) and taken
 * (TOKEN_IN) of: the change vulnerable point-in-time copy, and the block
 * device zero ROD, which is only taken. Each ROD type descriptor is 64
 * bytes (type, flags, preference indication, 56 reserved): a reader
 * steps by 64, so a shorter one would be read as garbage. */
#define ROD_TYPE_DESC_LEN 64
static size_t supported_rod_types(uint8_t *d)
{
	static const struct {
		uint32_t type;
		uint8_t flags;
	} types[] = {
		{ COPY_ROD_TYPE_PIT_CHANGE_VULNERABLE, 0x03 },
		{ COPY_ROD_TYPE_BLOCK_ZERO, 0x02 },
	};
	size_t n = sizeof(types) / sizeof(types[0]);
	size_t len = 4 + ROD_TYPE_DESC_LEN * n;

	memset(d, 0, 4 + len);
	put_be16(d + 6, (uint16_t)(len - 4));
	for (size_t i = 0; i < n; i++) {
		uint8_t *t = d + 8 + ROD_TYPE_DESC_LEN * i;

		put_be32(t, types[i].type);
		t[4] = types[i].flags;
	}
	return finish_desc(d, TPC_DESC_SUPPORTED_ROD_TYPES, len);
}

/* SPC-4 7.8.17.10, ROD Token Features, with SBC-4's block ROD device type
 * specific features descriptor: what Windows reads before it offloads a
 * copy (ODX). No remote tokens (REMOTE TOKENS 0: a token is used only
 * within this uscstd); lifetimes in seconds are the inactivity timeouts
 * copy_token.h enforces; the byte limits are COPY_TOKEN_MAX_BLOCKS of the
 * LUN's blocks, in one segment. */
#define BLOCK_ROD_FEATURES_LEN 48
static size_t rod_token_features(const struct scst_device *dev, uint8_t *d)
{
	uint64_t max_bytes = (uint64_t)COPY_TOKEN_MAX_BLOCKS * dev->block_size;
	uint8_t *b = d + 48;

	memset(d, 0, 48 + BLOCK_ROD_FEATURES_LEN);
	put_be32(d + 16, 1);                          /* MINIMUM TOKEN LIFETIME */
	put_be32(d + 20, COPY_TOKEN_MAX_TIMEOUT);     /* MAXIMUM TOKEN LIFETIME */
	put_be32(d + 24, COPY_TOKEN_MAX_TIMEOUT);     /* MAXIMUM TOKEN INACTIVITY TIMEOUT */
	put_be16(d + 46, BLOCK_ROD_FEATURES_LEN);
	b[0] = TYPE_DISK;                             /* PERIPHERAL DEVICE TYPE */
	put_be16(b + 2, BLOCK_ROD_FEATURES_LEN - 4);
	put_be16(b + 6, 1);                           /* OPTIMAL BLOCK ROD LENGTH GRANULARITY */
	put_be64(b + 8, max_bytes);                   /* MAXIMUM BYTES IN BLOCK ROD */
	put_be64(b + 16, max_bytes);                  /* OPTIMAL BYTES IN BLOCK ROD TRANSFER */
	put_be64(b + 24, max_bytes);                  /* OPTIMAL BYTES TO TOKEN PER SEGMENT */
	put_be64(b + 32, max_bytes);                  /* OPTIMAL BYTES FROM TOKEN PER SEGMENT */
	return finish_desc(d, TPC_DESC_ROD_TOKEN_FEATURES, 44 + BLOCK_ROD_FEATURES_LEN);
}

size_t scst_copy_vpd_page(const struct scst_device *dev, uint8_t *d)
{
	size_t n = 0;

	n += supported_commands(d + n);
	n += parameter_data(d + n);
	n += supported_descriptors(d + n);
	n += general_copy_operations(d + n);
	n += block_rod_token_limits(d + n);
	n += rod_token_features(dev, d + n);
	n += supported_rod_types(d + n);
	return n;
}
