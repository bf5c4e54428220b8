/* SANITIZE (SBC-4 5.30, 4.11): OVERWRITE, BLOCK ERASE, CRYPTOGRAPHIC
 * ERASE and EXIT FAILURE MODE. The sanitize itself is a medium job
 * (vdisk_medium_job.c); this file checks the CDB and the parameter list,
 * and keeps the failure mode's rules (4.11.3, 5.30.1).
 *
 * What each service action does here:
 *   OVERWRITE           OVERWRITE COUNT passes of the initialization
 *                       pattern over every block, INVERT honoured;
 *   BLOCK ERASE         a thin LUN deallocates every block (they read as
 *                       zeros: LBPRZ); a fully provisioned one is written
 *                       with zeros, the nearest thing a file has to
 *                       erasing its blocks;
 *   CRYPTOGRAPHIC ERASE there is no encryption key to change: the data is
 *                       made unrecoverable the only way a file allows, as
 *                       BLOCK ERASE does. libiscsi's CryptoErase checks no
 *                       more than that the old data is gone; the log line
 *                       says which method ran;
 *   EXIT FAILURE MODE   leaves the failure mode of a sanitize that failed
 *                       with AUSE=1 (5.30.1); refused (INVALID FIELD IN
 *                       CDB) after one with AUSE=0; GOOD with no failed
 *                       sanitize behind it (nothing to leave).
 * VPD page 0xb1 says reads after a sanitize succeed (WABEREQ = WACEREQ =
 * 01b), which holds for both erase methods.
 *
 * The SANITIZE rows carry SCST_OP_NOT_READY_OK: the core does not refuse
 * SANITIZE while the unit is in a sanitize failure mode, since another
 * SANITIZE is the way out of it; exec asks the not-ready hook itself for
 * everything else (a job already running, no medium). ZNR is a reserved
 * bit here (the device is not zoned), and a sanitize is not ordered as
 * HEAD OF QUEUE: the task attribute the initiator gave it stands. */
#include <assert.h>
#include <string.h>

#include "base/bytes.h"
#include "base/log.h"
#include "handlers/vdisk/vdisk_internal.h"

#define SANITIZE_IMMED 0x80
#define SANITIZE_ZNR 0x40
#define SANITIZE_AUSE 0x20
#define SANITIZE_SA_MASK 0x1f
#define SANITIZE_PARAM_LEN_BYTE 7

/* The OVERWRITE parameter list (SBC-4 table 105): a 4-byte header and the
 * initialization pattern. */
#define OVERWRITE_HEADER_LEN 4
#define OVERWRITE_INVERT 0x80
#define OVERWRITE_TEST_MASK 0x60
#define OVERWRITE_COUNT_MASK 0x1f

static uint16_t sanitize_param_len(const struct scst_cmd *cmd)
{
	return get_be16(cmd->cdb + SANITIZE_PARAM_LEN_BYTE);
}

int vdisk_parse_sanitize(struct scst_cmd *cmd)
{
	uint8_t sa = cmd->cdb[1] & SANITIZE_SA_MASK;
	uint16_t len = sanitize_param_len(cmd);
	uint32_t bs = cmd->dev->block_size;

	if (cmd->cdb[1] & SANITIZE_ZNR) {
		scst_set_cmd_error(cmd, scsi_sense_invalid_cdb_field(1, 6));
		return -1;
	}
	for (unsigned i = 2; i < SANITIZE_PARAM_LEN_BYTE; i++) {
		if (cmd->cdb[i]) {
			scst_set_cmd_error(cmd, scsi_sense_invalid_cdb_field((uint16_t)i, -1));
			return -1;
		}
	}
	if (sa == SANITIZE_SA_OVERWRITE) {
		/* At least one byte of pattern, at most a block of it (5.30.2). */
		if (len <= OVERWRITE_HEADER_LEN || len > bs + OVERWRITE_HEADER_LEN) {
			scst_set_cmd_error(cmd,
					   scsi_sense_invalid_cdb_field(SANITIZE_PARAM_LEN_BYTE, -1));
			return -1;
		}
		cmd->data_dir = SCST_DATA_WRITE;
		cmd->data_len = len;
		return 0;
	}
	/* The other service actions take no parameter list (5.30.3-5). */
	if (len) {
		scst_set_cmd_error(cmd, scsi_sense_invalid_cdb_field(SANITIZE_PARAM_LEN_BYTE, -1));
		return -1;
	}
	return vdisk_parse_no_data(cmd);
}

/* The OVERWRITE parameter list, checked field by field (5.30.2); fills the
 * job's pattern. Returns false with the sense set. */
static bool overwrite_params(struct scst_cmd *cmd, struct vdisk_medium_job_spec *spec)
{
	uint32_t got = vdisk_write_len(cmd);
	uint32_t bs = cmd->dev->block_size;
	const uint8_t *p = cmd->buf;
	uint16_t ipl;

	if (got < cmd->data_len) {
		log_warn_rl("session %s: SANITIZE OVERWRITE with %u of its %u parameter bytes: "
			    "refused", cmd->sess->initiator_name, got, cmd->data_len);
		scst_set_cmd_error_asc(cmd, SK_ILLEGAL_REQUEST, ASC_PARAMETER_LIST_LENGTH_ERROR);
		return false;
	}
	/* TEST (vendor specific test modes): we have none to offer. */
	if (p[0] & OVERWRITE_TEST_MASK) {
		scst_set_cmd_error(cmd, scsi_sense_invalid_param_field(0, 6));
		return false;
	}
	if ((p[0] & OVERWRITE_COUNT_MASK) == 0) {
		scst_set_cmd_error(cmd, scsi_sense_invalid_param_field(0, 4));
		return false;
	}
	if (p[1]) {
		scst_set_cmd_error(cmd, scsi_sense_invalid_param_field(1, -1));
		return false;
	}
	ipl = get_be16(p + 2);
	/* The pattern is what follows the header, all of it: no more than a
	 * block, and exactly the length the header gives. */
	if (ipl == 0 || ipl > bs || (uint32_t)ipl + OVERWRITE_HEADER_LEN != cmd->data_len) {
		scst_set_cmd_error(cmd, scsi_sense_invalid_param_field(2, -1));
		return false;
	}
	spec->invert = p[0] & OVERWRITE_INVERT;
	spec->passes = p[0] & OVERWRITE_COUNT_MASK;
	spec->pattern_len = ipl;
	memcpy(spec->pattern, p + OVERWRITE_HEADER_LEN, ipl);
	return true;
}

/* The failure mode a failed sanitize left (5.30.1): only a sanitize that
 * completes leaves it, or EXIT FAILURE MODE if the failed one had AUSE=1;
 * and after one with AUSE=0, no sanitize may ask for AUSE=1. Returns
 * false with the sense set when @cmd may not run. */
static bool sanitize_allowed(struct scst_cmd *cmd)
{
	struct vdisk_dev *vd = vdisk_of(cmd);
	unsigned state = atomic_load_explicit(&vd->medium_op.state, memory_order_acquire);
	bool ause = cmd->cdb[1] & SANITIZE_AUSE;

	if (state == VDISK_OP_SANITIZE_FAILED) {
		if (ause && !atomic_load(&vd->medium_op.failed_ause)) {
			scst_set_cmd_error(cmd, scsi_sense_invalid_cdb_field(1, 5));
			return false;
		}
		return true;
	}
	/* A job running, no medium, ...: whatever the device says (a format
	 * failure is left by a sanitize as well as by a format). */
	return vdisk_medium_job_unit_ready(cmd, VDISK_OP_FORMAT_FAILED);
}

const char *vdisk_sanitize_job_name(uint8_t sa, bool deallocate)
{
	switch (sa) {
	case SANITIZE_SA_OVERWRITE:
		return "sanitize (overwrite)";
	case SANITIZE_SA_BLOCK_ERASE:
		return deallocate ? "sanitize (block erase: deallocate)"
				  : "sanitize (block erase: zeros)";
	case SANITIZE_SA_CRYPTO_ERASE:
		/* No key to change: both erase the blocks. */
		return deallocate ? "sanitize (crypto erase, no key: deallocate)"
				  : "sanitize (crypto erase, no key: zeros)";
	default:
		return "sanitize";
	}
}

static void exec_exit_failure_mode(struct scst_cmd *cmd)
{
	struct vdisk_dev *vd = vdisk_of(cmd);
	struct vdisk_medium_op *m = &vd->medium_op;

	if (atomic_load_explicit(&m->state, memory_order_acquire) == VDISK_OP_SANITIZE_FAILED) {
		if (!atomic_load(&m->failed_ause)) {
			/* Restricted completion mode: only a sanitize that
			 * completes gets the unit out. */
			scst_set_cmd_error(cmd, scsi_sense_invalid_cdb_field(1, 4));
		} else if (vdisk_medium_transition(vd, VDISK_OP_SANITIZE_FAILED, VDISK_OP_IDLE,
						   VDISK_RECORD_CLEAR, NULL, NULL)) {
			log_info("device %s: sanitize failure mode left by %s (EXIT FAILURE MODE)",
				 cmd->dev->name, cmd->sess->initiator_name);
		}
	}
	scst_cmd_done(cmd);
}

void vdisk_exec_sanitize(struct scst_cmd *cmd)
{
	struct vdisk_dev *vd = vdisk_of(cmd);
	uint8_t sa = cmd->cdb[1] & SANITIZE_SA_MASK;
	struct vdisk_medium_job_spec spec = {
		.running = VDISK_OP_SANITIZING,
		.failed = VDISK_OP_SANITIZE_FAILED,
		.failure_asc = ASC_SANITIZE_COMMAND_FAILED,
		.immed = cmd->cdb[1] & SANITIZE_IMMED,
		.ause = cmd->cdb[1] & SANITIZE_AUSE,
		.service_action = sa,
	};

	if (!sanitize_allowed(cmd)) {
		scst_cmd_done(cmd);
		return;
	}
	switch (sa) {
	case SANITIZE_SA_OVERWRITE:
		spec.name = vdisk_sanitize_job_name(sa, false);
		if (!overwrite_params(cmd, &spec)) {
			scst_cmd_done(cmd);
			return;
		}
		break;
	case SANITIZE_SA_BLOCK_ERASE:
	case SANITIZE_SA_CRYPTO_ERASE:
		/* No key to change (CRYPTOGRAPHIC ERASE): both erase the
		 * blocks, deallocating them on a thin LUN. */
		spec.deallocate = vdisk_is_thin(vd);
		spec.passes = 1;
		spec.name = vdisk_sanitize_job_name(sa, spec.deallocate);
		break;
	case SANITIZE_SA_EXIT_FAILURE_MODE:
		exec_exit_failure_mode(cmd);
		return;
	default:
		/* The op table has a row for each service action above only. */
		assert(!"unknown SANITIZE service action");
		scst_set_cmd_error(cmd, scsi_sense_invalid_cdb_field(1, 4));
		scst_cmd_done(cmd);
		return;
	}
	vdisk_medium_job_start(cmd, &spec);
}
