/* READ DEFECT DATA (10/12), SBC-4 5.19 and 5.20: the medium's defect
 * lists. A virtual disk has no defects: both the primary list (PLIST, the
 * factory's) and the grown list (GLIST) are empty, and every list asked
 * for is returned, empty, with its valid bit set (PLISTV, GLISTV).
 *
 * Formats (SBC-4 6.2, DEFECT LIST FORMAT): an empty list has the same
 * bytes in every address descriptor format, so the standard ones (short
 * and long block, bytes from index, physical sector and their extended
 * forms, 000b..101b) are served as asked. For the vendor-specific 110b
 * and the reserved 111b we have no format: SBC-4 then returns the list in
 * a format the device does use (short block, 000b) and ends the command
 * with RECOVERED ERROR / DEFECT LIST NOT FOUND, the header still sent.
 *
 * The header: (10) 4 bytes, DEFECT LIST LENGTH in bytes 2..3; (12) 8
 * bytes, GENERATION CODE 0 (not reported) in 2..3, the length in 4..7.
 * The ADDRESS DESCRIPTOR INDEX of (12) names a descriptor of an empty
 * list: any value returns none. ALLOCATION LENGTH cuts the header as
 * usual; 0 transfers nothing and is not an error. */
#include <string.h>

#include "handlers/vdisk/vdisk_internal.h"

#define DEFECT_PLISTV 0x10
#define DEFECT_GLISTV 0x08
#define DEFECT_FORMAT_SHORT_BLOCK 0x0
#define DEFECT_FORMAT_LAST_STANDARD 0x5 /* physical sector format */

int vdisk_parse_read_defect_data(struct scst_cmd *cmd)
{
	struct scsi_read_defect_cdb rd;

	if (!scsi_cdb_decode_read_defect_data(cmd->cdb, cmd->cdb_len, &rd)) {
		scst_set_cmd_error(cmd, scsi_sense_invalid_cdb_field(0, -1));
		return -1;
	}
	/* At most the header goes back; a larger length is only room. */
	cmd->data_dir = SCST_DATA_READ;
	cmd->data_len = rd.alloc_len;
	return 0;
}

void vdisk_exec_read_defect_data(struct scst_cmd *cmd)
{
	struct scsi_read_defect_cdb rd;
	uint8_t hdr[8] = { 0 };
	size_t len;
	uint8_t format;
	bool format_served;

	scsi_cdb_decode_read_defect_data(cmd->cdb, cmd->cdb_len, &rd); /* PARSE accepted it */
	format_served = rd.format <= DEFECT_FORMAT_LAST_STANDARD;
	format = format_served ? rd.format : DEFECT_FORMAT_SHORT_BLOCK;
	hdr[1] = (rd.req_plist ? DEFECT_PLISTV : 0) | (rd.req_glist ? DEFECT_GLISTV : 0) | format;
	/* DEFECT LIST LENGTH and GENERATION CODE: 0, already. */
	len = rd.twelve ? 8 : 4;
	scst_cmd_copy_response(cmd, hdr, len);
	if (!format_served) {
		/* The error clears the response length; the header goes all
		 * the same, as SBC-4 asks. */
		scst_set_cmd_error_asc(cmd, SK_RECOVERED_ERROR, ASC_DEFECT_LIST_NOT_FOUND);
		scst_set_resp_data_len(cmd, (uint32_t)len);
	}
	scst_cmd_done(cmd);
}
