/* iSCSI PDUs (RFC 7143 section 11): the 48-byte Basic Header Segment, the
 * opcodes, the flag bits and field offsets, and helpers to read and build
 * headers. A header is kept as its raw bytes; fields are read and written
 * through the accessors below, so no struct layout has to match the wire. */
#ifndef USCST_TARGETS_ISCSI_PDU_H
#define USCST_TARGETS_ISCSI_PDU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/bytes.h"

#define ISCSI_BHS_LEN 48
#define ISCSI_DIGEST_LEN 4
#define ISCSI_RESERVED_TAG 0xffffffffu
/* Largest data segment the 24-bit DataSegmentLength can carry, and the
 * largest value MaxRecvDataSegmentLength and the burst lengths may take. */
#define ISCSI_MAX_DSL 0xffffffu

enum iscsi_opcode {
	/* Initiator to target. */
	ISCSI_OP_NOP_OUT = 0x00,
	ISCSI_OP_SCSI_CMD = 0x01,
	ISCSI_OP_TMF_REQ = 0x02,
	ISCSI_OP_LOGIN_REQ = 0x03,
	ISCSI_OP_TEXT_REQ = 0x04,
	ISCSI_OP_DATA_OUT = 0x05,
	ISCSI_OP_LOGOUT_REQ = 0x06,
	ISCSI_OP_SNACK = 0x10,
	/* Target to initiator. */
	ISCSI_OP_NOP_IN = 0x20,
	ISCSI_OP_SCSI_RSP = 0x21,
	ISCSI_OP_TMF_RSP = 0x22,
	ISCSI_OP_LOGIN_RSP = 0x23,
	ISCSI_OP_TEXT_RSP = 0x24,
	ISCSI_OP_DATA_IN = 0x25,
	ISCSI_OP_LOGOUT_RSP = 0x26,
	ISCSI_OP_R2T = 0x31,
	ISCSI_OP_ASYNC = 0x32,
	ISCSI_OP_REJECT = 0x3f,
};

/* Byte 0. */
#define ISCSI_OPCODE_MASK 0x3f
#define ISCSI_FLAG_IMMEDIATE 0x40
/* Byte 1. */
#define ISCSI_FLAG_FINAL 0x80
#define ISCSI_FLAG_CONTINUE 0x40      /* Login, Text */
#define ISCSI_FLAG_TRANSIT 0x80       /* Login */
#define ISCSI_CMD_FLAG_READ 0x40
#define ISCSI_CMD_FLAG_WRITE 0x20
#define ISCSI_CMD_ATTR_MASK 0x07
#define ISCSI_RSP_FLAG_OVERFLOW 0x04  /* SCSI Response, Data-In */
#define ISCSI_RSP_FLAG_UNDERFLOW 0x02
#define ISCSI_DATA_IN_FLAG_ACK 0x40
#define ISCSI_DATA_IN_FLAG_STATUS 0x01

/* Field offsets common to most PDUs. */
#define ISCSI_OFF_AHS_LEN 4
#define ISCSI_OFF_DSL 5
#define ISCSI_OFF_LUN 8
#define ISCSI_OFF_ITT 16
#define ISCSI_OFF_TTT 20
#define ISCSI_OFF_CMDSN 24      /* requests */
#define ISCSI_OFF_EXPSTATSN 28  /* requests */
#define ISCSI_OFF_STATSN 24     /* responses */
#define ISCSI_OFF_EXPCMDSN 28   /* responses */
#define ISCSI_OFF_MAXCMDSN 32   /* responses */
/* SCSI Command. */
#define ISCSI_OFF_EDTL 20
#define ISCSI_OFF_CDB 32
#define ISCSI_CDB_IN_BHS 16
/* Data-Out / Data-In / R2T. */
#define ISCSI_OFF_DATASN 36
#define ISCSI_OFF_BUFFER_OFFSET 40
#define ISCSI_OFF_DESIRED_LEN 44 /* R2T */
#define ISCSI_OFF_RESIDUAL 44    /* Data-In, SCSI Response */

/* Reject reasons (RFC 7143 11.17.1). */
enum iscsi_reject_reason {
	ISCSI_REJECT_DATA_DIGEST = 0x02,
	ISCSI_REJECT_SNACK = 0x03,
	ISCSI_REJECT_PROTOCOL_ERROR = 0x04,
	ISCSI_REJECT_CMD_NOT_SUPPORTED = 0x05,
	ISCSI_REJECT_IMMEDIATE_CMD = 0x06,
	ISCSI_REJECT_TASK_IN_PROGRESS = 0x07,
	ISCSI_REJECT_INVALID_DATA_ACK = 0x08,
	ISCSI_REJECT_INVALID_PDU_FIELD = 0x09,
	ISCSI_REJECT_LONG_OP = 0x0a,
	ISCSI_REJECT_WAITING_FOR_LOGOUT = 0x0c,
};

static inline uint8_t pdu_opcode(const uint8_t *bhs)
{
	return bhs[0] & ISCSI_OPCODE_MASK;
}

static inline bool pdu_immediate(const uint8_t *bhs)
{
	return (bhs[0] & ISCSI_FLAG_IMMEDIATE) != 0;
}

static inline bool pdu_final(const uint8_t *bhs)
{
	return (bhs[1] & ISCSI_FLAG_FINAL) != 0;
}

/* TotalAHSLength in bytes. */
static inline uint32_t pdu_ahs_len(const uint8_t *bhs)
{
	return (uint32_t)bhs[ISCSI_OFF_AHS_LEN] * 4;
}

static inline uint32_t pdu_data_len(const uint8_t *bhs)
{
	return get_be24(bhs + ISCSI_OFF_DSL);
}

static inline uint32_t pdu_itt(const uint8_t *bhs)
{
	return get_be32(bhs + ISCSI_OFF_ITT);
}

/* Bytes of padding after a data segment of @len bytes (to a 4-byte bound). */
static inline uint32_t pdu_pad_len(uint32_t len)
{
	return (4 - (len & 3)) & 3;
}

/* Clears @bhs and sets the opcode and the byte-1 flags. */
void pdu_init(uint8_t *bhs, uint8_t opcode, uint8_t flags);
void pdu_set_data_len(uint8_t *bhs, uint32_t len);

/* SAM LUN (8 bytes, SAM-5 4.7) to the LUN number the core uses:
 * peripheral device addressing for 0..255, flat space for 0..16383.
 * Other addressing methods, or non-zero second-level bytes, give
 * ISCSI_LUN_INVALID, which no LUN map contains. */
#define ISCSI_LUN_INVALID UINT64_MAX
uint64_t pdu_lun_decode(const uint8_t *lun8);
/* The reverse, picking peripheral addressing below 256 and flat above. */
void pdu_lun_encode(uint8_t *lun8, uint64_t lun);

/* Serial number arithmetic (RFC 1982, 32 bits) as CmdSN and StatSN use. */
static inline bool sn_lt(uint32_t a, uint32_t b)
{
	return a != b && (int32_t)(a - b) < 0;
}

static inline bool sn_le(uint32_t a, uint32_t b)
{
	return a == b || sn_lt(a, b);
}

const char *pdu_opcode_name(uint8_t opcode);

#endif
