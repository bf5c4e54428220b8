/* REQUEST SENSE (SPC-4 6.39). With autosense every CHECK CONDITION already
 * carried its sense data, so what is left to report is a pending unit
 * attention, the LUN's absence or why the unit is not ready. The unit
 * attention reported is the one of the highest precedence, and REQUEST
 * SENSE clears it whatever UA_INTLCK_CTRL says (under 10b and 11b it is
 * the only command that does); the next one, if any, is reported by the
 * next command. */
#include "core/core_internal.h"
#include "core/emulated.h"

#define RS_DESC 0x01

int scst_request_sense_parse(struct scst_cmd *cmd)
{
	cmd->data_dir = SCST_DATA_READ;
	cmd->data_len = cmd->cdb[4];
	return 0;
}

void scst_request_sense_exec(struct scst_cmd *cmd)
{
	struct scsi_sense sense = scsi_sense_make(SK_NO_SENSE, ASC_NO_ADDITIONAL_SENSE);
	struct scsi_sense not_ready;
	uint8_t d[SCSI_SENSE_BUFFERSIZE];
	size_t n;

	if (!cmd->tgt_dev)
		sense = scsi_sense_make(SK_ILLEGAL_REQUEST, ASC_LUN_NOT_SUPPORTED);
	else if (!scst_tgt_dev_ua_request_sense(cmd->tgt_dev, &sense) &&
		 cmd->dev->handler->not_ready &&
		 cmd->dev->handler->not_ready(cmd->dev, 0, &not_ready))
		/* No unit attention: a not-ready unit reports why, with the
		 * progress of a SANITIZE or FORMAT UNIT (SPC-4 6.39; what
		 * libiscsi's and Linux's polling reads). */
		sense = not_ready;
	n = scsi_sense_encode(&sense, cmd->cdb[1] & RS_DESC, d, sizeof(d));
	scst_cmd_copy_response(cmd, d, n);
	scst_cmd_done(cmd);
}
