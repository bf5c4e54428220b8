/* FORMAT UNIT (SBC-4 5.3): the CDB and the parameter list checked, then
 * the medium formatted as a medium job (vdisk_medium_job.c), FORMAT IN
 * PROGRESS (04/04) with its progress meanwhile.
 *
 * What a format is on a virtual disk, decided here: the logical block
 * size and count stay (MODE SELECT's block descriptor does not change
 * them), there is no protection information (FMTPINFO, RTO_REQ and the
 * PROTECTION FIELD USAGE, P_I_INFORMATION and PROTECTION INTERVAL
 * EXPONENT fields are refused: READ CAPACITY(16) reports PROT_EN=0), no
 * defect list (a non-empty one is refused: there is no medium that could
 * have defects, and no list to merge it with) and no initialization
 * pattern (IP refused). SBC-4 leaves what a format does to the data
 * vendor specific ("the degree that the medium is altered"): here a
 * format leaves every block reading as zeros, a thin LUN deallocating
 * them all, a fully provisioned one writing zeros, so that a format
 * behaves the same on both and a test can see it happened. A FAST FORMAT
 * (FFMT 01b, SBC-4 5.3.2) keeps the data and completes at once, as the
 * standard allows it to; FFMT 10b (reads may fail until written) is
 * refused, we have no such state.
 *
 * The options a virtual medium has nothing to do for are accepted when
 * FOV says they are meant (DPRY, DCRT: there is nothing to certify; STPF):
 * with FOV=0 they must be zero (5.3.2.2). A FORMAT UNIT that fails leaves
 * the medium format corrupted: every command that needs it gets MEDIUM
 * ERROR / MEDIUM FORMAT CORRUPTED until a FORMAT UNIT (or a SANITIZE)
 * completes. While a sanitize failure mode holds, only a SANITIZE may
 * run (SBC-4 4.11.3): FORMAT UNIT gets SANITIZE COMMAND FAILED. */
#include <assert.h>

#include "base/bytes.h"
#include "base/log.h"
#include "handlers/vdisk/vdisk_internal.h"

/* CDB byte 1 (SBC-4 table 34). */
#define FU_FMTPINFO 0x80
#define FU_RTO_REQ 0x40
#define FU_LONGLIST 0x20
#define FU_FMTDATA 0x10
#define FU_DEFECT_LIST_FORMAT 0x07
/* CDB byte 4: FFMT. */
#define FU_FFMT_MASK 0x03
#define FFMT_FAST_KEEP 0x01

/* Parameter list header byte 1 (SBC-4 table 37). */
#define FU_FOV 0x80
#define FU_DPRY 0x40
#define FU_DCRT 0x20
#define FU_STPF 0x10
#define FU_IP 0x08
#define FU_IMMED 0x02
#define FU_FOV_OPTIONS (FU_DPRY | FU_DCRT | FU_STPF | FU_IP)
#define FU_PROTECTION_FIELD_USAGE 0x07

#define FU_SHORT_HEADER 4
#define FU_LONG_HEADER 8
/* Room for a header and a defect list no longer than a block: a list is
 * refused anyway, this only keeps an absurd transfer out of PARSE. */
#define FU_MAX_PARAM_LEN 4096u

/* DEFECT LIST FORMAT values SBC-4 table 35 defines: short and long block,
 * bytes from index, physical sector (long and short forms of the last
 * two share the code). */
static bool defect_list_format_defined(uint8_t f)
{
	return f == 0 || f == 3 || f == 4 || f == 5;
}

int vdisk_parse_format_unit(struct scst_cmd *cmd)
{
	uint8_t b1 = cmd->cdb[1];
	uint8_t ffmt = cmd->cdb[4] & FU_FFMT_MASK;
	uint32_t header = b1 & FU_LONGLIST ? FU_LONG_HEADER : FU_SHORT_HEADER;

	if (b1 & FU_FMTPINFO) {
		scst_set_cmd_error(cmd, scsi_sense_invalid_cdb_field(1, 7));
		return -1;
	}
	if (b1 & FU_RTO_REQ) {
		scst_set_cmd_error(cmd, scsi_sense_invalid_cdb_field(1, 6));
		return -1;
	}
	if (ffmt > FFMT_FAST_KEEP) {
		scst_set_cmd_error(cmd, scsi_sense_invalid_cdb_field(4, 1));
		return -1;
	}
	if (!(b1 & FU_FMTDATA))
		return vdisk_parse_no_data(cmd);
	if (!defect_list_format_defined(b1 & FU_DEFECT_LIST_FORMAT)) {
		scst_set_cmd_error(cmd, scsi_sense_invalid_cdb_field(1, 2));
		return -1;
	}
	/* The CDB has no length: the parameter list is what the initiator
	 * sends, a header and the defect list its header announces. */
	if (cmd->expected_dir != SCST_DATA_WRITE || cmd->expected_len < header ||
	    cmd->expected_len > FU_MAX_PARAM_LEN) {
		log_warn_rl("session %s: FORMAT UNIT with FMTDATA and %u byte(s) of Data-Out "
			    "(%u to %u expected): refused", cmd->sess->initiator_name,
			    cmd->expected_dir == SCST_DATA_WRITE ? cmd->expected_len : 0, header,
			    FU_MAX_PARAM_LEN);
		scst_set_cmd_error_asc(cmd, SK_ILLEGAL_REQUEST, ASC_PARAMETER_LIST_LENGTH_ERROR);
		return -1;
	}
	cmd->data_dir = SCST_DATA_WRITE;
	cmd->data_len = cmd->expected_len;
	return 0;
}

/* The parameter list header (SBC-4 5.3.2): sets *immed; false with the
 * sense set when a field asks for what we do not have. */
static bool format_params(struct scst_cmd *cmd, bool *immed)
{
	const uint8_t *p = cmd->buf;
	bool longlist = cmd->cdb[1] & FU_LONGLIST;
	uint32_t header = longlist ? FU_LONG_HEADER : FU_SHORT_HEADER;
	uint32_t got = vdisk_write_len(cmd);
	uint32_t dll;

	assert(got >= header); /* PARSE took at least a header */
	if (p[0] & ~FU_PROTECTION_FIELD_USAGE) {
		scst_set_cmd_error(cmd, scsi_sense_invalid_param_field(0, 7));
		return false;
	}
	if (p[0] & FU_PROTECTION_FIELD_USAGE) {
		scst_set_cmd_error(cmd, scsi_sense_invalid_param_field(0, 2));
		return false;
	}
	if (!(p[1] & FU_FOV) && (p[1] & FU_FOV_OPTIONS)) {
		/* The first one set, for the field pointer. */
		int bit = p[1] & FU_DPRY ? 6 : p[1] & FU_DCRT ? 5 : p[1] & FU_STPF ? 4 : 3;

		scst_set_cmd_error(cmd, scsi_sense_invalid_param_field(1, bit));
		return false;
	}
	if (p[1] & FU_IP) {
		scst_set_cmd_error(cmd, scsi_sense_invalid_param_field(1, 3));
		return false;
	}
	if (longlist && p[2]) {
		scst_set_cmd_error(cmd, scsi_sense_invalid_param_field(2, -1));
		return false;
	}
	/* P_I_INFORMATION and PROTECTION INTERVAL EXPONENT. */
	if (longlist && p[3]) {
		scst_set_cmd_error(cmd, scsi_sense_invalid_param_field(3, p[3] & 0xf0 ? 7 : 3));
		return false;
	}
	dll = longlist ? get_be32(p + 4) : get_be16(p + 2);
	if (dll) {
		scst_set_cmd_error(cmd, scsi_sense_invalid_param_field(longlist ? 4 : 2, -1));
		return false;
	}
	if (got != header) {
		log_warn_rl("session %s: FORMAT UNIT with %u parameter byte(s) for a %u-byte header "
			    "and no defect list: refused", cmd->sess->initiator_name, got, header);
		scst_set_cmd_error_asc(cmd, SK_ILLEGAL_REQUEST, ASC_PARAMETER_LIST_LENGTH_ERROR);
		return false;
	}
	*immed = p[1] & FU_IMMED;
	return true;
}

/* Whether the unit may be formatted now; false with the sense set. */
static bool format_allowed(struct scst_cmd *cmd)
{
	/* A format corrupted is what a format is for. */
	return vdisk_medium_job_unit_ready(cmd, VDISK_OP_FORMAT_FAILED);
}

void vdisk_exec_format_unit(struct scst_cmd *cmd)
{
	struct vdisk_dev *vd = vdisk_of(cmd);
	struct vdisk_medium_job_spec spec = {
		.running = VDISK_OP_FORMATTING,
		.failed = VDISK_OP_FORMAT_FAILED,
		.failure_asc = ASC_FORMAT_COMMAND_FAILED,
		.passes = 1,
	};

	if (!format_allowed(cmd) ||
	    ((cmd->cdb[1] & FU_FMTDATA) && !format_params(cmd, &spec.immed))) {
		scst_cmd_done(cmd);
		return;
	}
	if ((cmd->cdb[4] & FU_FFMT_MASK) == FFMT_FAST_KEEP) {
		/* Nothing to write: the medium is formatted as it is. */
		vdisk_medium_transition(vd, VDISK_OP_FORMAT_FAILED, VDISK_OP_IDLE,
					VDISK_RECORD_CLEAR, NULL, NULL);
		log_info("device %s: fast format (data kept) by %s", cmd->dev->name,
			 cmd->sess->initiator_name);
		scst_cmd_done(cmd);
		return;
	}
	spec.deallocate = vdisk_is_thin(vd);
	spec.name = spec.deallocate ? "format (deallocate)" : "format (zeros)";
	vdisk_medium_job_start(cmd, &spec);
}
