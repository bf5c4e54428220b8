/* REPORT SUPPORTED TASK MANAGEMENT FUNCTIONS (SPC-4 6.37): what tmf.c
 * implements, bit for bit. A function added there gets its bit here. */
#include <string.h>

#include "base/bytes.h"
#include "core/core_internal.h"
#include "core/emulated.h"

#define REPCD 0x80
#define BASIC_LEN 4
#define EXTENDED_LEN 16

/* Byte 0. */
#define ATS 0x80   /* ABORT TASK */
#define ATSS 0x40  /* ABORT TASK SET */
#define CACAS 0x20 /* CLEAR ACA */
#define CTSS 0x10  /* CLEAR TASK SET */
#define LURS 0x08  /* LOGICAL UNIT RESET */
#define QTS 0x04   /* QUERY TASK */
#define TRS 0x02   /* TARGET RESET (warm and cold) */
/* Byte 1. */
#define QAES 0x04  /* QUERY ASYNCHRONOUS EVENT */
#define QTSS 0x02  /* QUERY TASK SET */
#define ITNRS 0x01 /* I_T NEXUS RESET */

int scst_report_tmfs_parse(struct scst_cmd *cmd)
{
	uint32_t alloc = get_be32(cmd->cdb + 6);

	/* SPC-4 6.37: an allocation length below four is an error. */
	if (alloc < BASIC_LEN) {
		scst_set_cmd_error(cmd, scsi_sense_invalid_cdb_field(6, -1));
		return -1;
	}
	cmd->data_dir = SCST_DATA_READ;
	cmd->data_len = alloc;
	return 0;
}

void scst_report_tmfs_exec(struct scst_cmd *cmd)
{
	uint8_t data[EXTENDED_LEN];
	size_t len = BASIC_LEN;

	memset(data, 0, sizeof(data));
	data[0] = ATS | ATSS | CACAS | CTSS | LURS | QTS | TRS;
	data[1] = QAES | QTSS | ITNRS;
	if (cmd->cdb[2] & REPCD) {
		/* The extended format: ADDITIONAL DATA LENGTH, and TMFTMOV 0,
		 * so no timeouts (the functions have none beyond the
		 * commands they wait for). */
		data[3] = EXTENDED_LEN - BASIC_LEN;
		len = EXTENDED_LEN;
	}
	scst_cmd_copy_response(cmd, data, len);
	scst_cmd_done(cmd);
}
