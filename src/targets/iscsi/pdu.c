/* Basic Header Segment helpers and the SAM LUN encoding. */
#include "targets/iscsi/pdu.h"

#include <string.h>

void pdu_init(uint8_t *bhs, uint8_t opcode, uint8_t flags)
{
	memset(bhs, 0, ISCSI_BHS_LEN);
	bhs[0] = opcode & ISCSI_OPCODE_MASK;
	bhs[1] = flags;
}

void pdu_set_data_len(uint8_t *bhs, uint32_t len)
{
	put_be24(bhs + ISCSI_OFF_DSL, len);
}

uint64_t pdu_lun_decode(const uint8_t *lun8)
{
	for (unsigned i = 2; i < 8; i++)
		if (lun8[i] != 0)
			return ISCSI_LUN_INVALID;
	switch (lun8[0] >> 6) {
	case 0: /* peripheral device addressing; bus identifier must be 0 */
		if (lun8[0] != 0)
			return ISCSI_LUN_INVALID;
		return lun8[1];
	case 1: /* flat space addressing */
		return (uint64_t)(lun8[0] & 0x3f) << 8 | lun8[1];
	default:
		return ISCSI_LUN_INVALID;
	}
}

void pdu_lun_encode(uint8_t *lun8, uint64_t lun)
{
	memset(lun8, 0, 8);
	if (lun < 256) {
		lun8[1] = (uint8_t)lun;
	} else if (lun < 16384) {
		lun8[0] = (uint8_t)(0x40 | (lun >> 8));
		lun8[1] = (uint8_t)lun;
	}
}

const char *pdu_opcode_name(uint8_t opcode)
{
	static const char *const names[] = {
		[ISCSI_OP_NOP_OUT] = "NOP-Out",
		[ISCSI_OP_SCSI_CMD] = "SCSI Command",
		[ISCSI_OP_TMF_REQ] = "Task Management Request",
		[ISCSI_OP_LOGIN_REQ] = "Login Request",
		[ISCSI_OP_TEXT_REQ] = "Text Request",
		[ISCSI_OP_DATA_OUT] = "Data-Out",
		[ISCSI_OP_LOGOUT_REQ] = "Logout Request",
		[ISCSI_OP_SNACK] = "SNACK",
	};
	if (opcode < sizeof(names) / sizeof(names[0]) && names[opcode])
		return names[opcode];
	return "unknown";
}
