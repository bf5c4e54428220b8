/* PERSISTENT RESERVE IN (SPC-4 6.16): the four reports of a logical
 * unit's persistent reservations, built under dev->lock into a scratch
 * buffer and copied out as far as the allocation length allows (the
 * ADDITIONAL LENGTH fields always give the whole length). */
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "core/core_internal.h"
#include "core/emulated.h"
#include "core/pr_internal.h"
#include "core/pr_rules.h"

enum pr_in_sa {
	PR_IN_READ_KEYS = 0x00,
	PR_IN_READ_RESERVATION = 0x01,
	PR_IN_REPORT_CAPABILITIES = 0x02,
	PR_IN_READ_FULL_STATUS = 0x03,
};

#define HEADER_LEN 8            /* PRgeneration, ADDITIONAL LENGTH */
#define RESERVATION_DESC_LEN 16 /* READ RESERVATION's descriptor */
#define CAPABILITIES_LEN 8
#define FULL_STATUS_DESC_LEN 24 /* before the TransportID */

/* REPORT CAPABILITIES byte 2 and 3 (SPC-4 6.16.4). */
#define CRH 0x10    /* RESERVE/RELEASE handled as SPC-3 5.6.3 says */
#define SIP_C 0x08  /* SPEC_I_PT supported */
#define ATP_C 0x04  /* ALL_TG_PT supported */
#define PTPL_C 0x01 /* APTPL supported */
#define TMV 0x80    /* the type mask is valid */
#define PTPL_A 0x01 /* APTPL is active */
/* ALLOW COMMANDS 001b: TEST UNIT READY is allowed through the Write
 * Exclusive and Exclusive Access reservations (table 72); the device
 * server says nothing more than that table says. */
#define ALLOW_COMMANDS_TUR (0x1 << 4)

int scst_pr_in_parse(struct scst_cmd *cmd)
{
	if ((cmd->cdb[1] & 0x1f) > PR_IN_READ_FULL_STATUS) {
		scst_set_cmd_error(cmd, scsi_sense_invalid_cdb_field(1, 4));
		return -1;
	}
	cmd->data_dir = SCST_DATA_READ;
	cmd->data_len = get_be16(cmd->cdb + 7);
	return 0;
}

static size_t read_keys(const struct scst_pr *pr, uint8_t *buf)
{
	const struct scst_pr_registrant *r;
	size_t off = HEADER_LEN;

	put_be32(buf, pr->generation);
	list_for_each_entry(r, &pr->registrants, entry) {
		put_be64(buf + off, r->key);
		off += 8;
	}
	put_be32(buf + 4, (uint32_t)(off - HEADER_LEN));
	return off;
}

static size_t read_reservation(const struct scst_pr *pr, uint8_t *buf)
{
	put_be32(buf, pr->generation);
	if (!pr->reserved) {
		put_be32(buf + 4, 0);
		return HEADER_LEN;
	}
	/* An All Registrants reservation reports key 0 (6.16.3.3). */
	put_be64(buf + 8, pr->holder ? pr->holder->key : 0);
	buf[21] = (uint8_t)(pr->scope << 4 | pr->type);
	put_be32(buf + 4, RESERVATION_DESC_LEN);
	return HEADER_LEN + RESERVATION_DESC_LEN;
}

static size_t report_capabilities(const struct scst_pr *pr, uint8_t *buf)
{
	put_be16(buf, CAPABILITIES_LEN);
	buf[2] = CRH | SIP_C | ATP_C | (scst_pr_store_available() ? PTPL_C : 0);
	buf[3] = TMV | ALLOW_COMMANDS_TUR | (pr->aptpl ? PTPL_A : 0);
	put_be16(buf + 4, scst_pr_type_mask());
	return CAPABILITIES_LEN;
}

static size_t read_full_status(const struct scst_pr *pr, uint8_t *buf)
{
	const struct scst_pr_registrant *r;
	size_t off = HEADER_LEN;

	put_be32(buf, pr->generation);
	list_for_each_entry(r, &pr->registrants, entry) {
		uint8_t *d = buf + off;
		bool holder = scst_pr_is_holder(pr, r);

		put_be64(d, r->key);
		d[12] = (uint8_t)((r->all_tg_pt ? 0x02 : 0) | (holder ? 0x01 : 0));
		if (holder)
			d[13] = (uint8_t)(pr->scope << 4 | pr->type);
		put_be16(d + 18, r->all_tg_pt ? 0 : r->rel_tgt_id);
		put_be32(d + 20, r->transport_id_len);
		memcpy(d + FULL_STATUS_DESC_LEN, r->transport_id, r->transport_id_len);
		off += FULL_STATUS_DESC_LEN + r->transport_id_len;
	}
	put_be32(buf + 4, (uint32_t)(off - HEADER_LEN));
	return off;
}

/* The most a report can take: READ FULL STATUS with every registration
 * carrying the longest TransportID. */
static size_t report_room(const struct scst_pr *pr)
{
	return HEADER_LEN + (size_t)pr->nregistrants * (FULL_STATUS_DESC_LEN + 248) +
	       RESERVATION_DESC_LEN;
}

void scst_pr_in_exec(struct scst_cmd *cmd)
{
	struct scst_device *dev = cmd->dev;
	struct scst_pr *pr = &dev->pr;
	uint8_t *buf;
	size_t len;

	pthread_mutex_lock(&dev->lock);
	/* SPC-3 5.6.1: an SPC-2 reservation makes every PERSISTENT RESERVE
	 * IN conflict, its holder's too. */
	if (dev->spc2_holder) {
		pthread_mutex_unlock(&dev->lock);
		scst_set_cmd_status(cmd, SAM_STAT_RESERVATION_CONFLICT);
		scst_cmd_done(cmd);
		return;
	}
	buf = calloc(1, report_room(pr));
	if (!buf) {
		pthread_mutex_unlock(&dev->lock);
		scst_set_cmd_status(cmd, SAM_STAT_TASK_SET_FULL);
		scst_cmd_done(cmd);
		return;
	}
	switch (cmd->cdb[1] & 0x1f) {
	case PR_IN_READ_KEYS:
		len = read_keys(pr, buf);
		break;
	case PR_IN_READ_RESERVATION:
		len = read_reservation(pr, buf);
		break;
	case PR_IN_REPORT_CAPABILITIES:
		len = report_capabilities(pr, buf);
		break;
	default:
		len = read_full_status(pr, buf);
		break;
	}
	pthread_mutex_unlock(&dev->lock);
	scst_cmd_copy_response(cmd, buf, len);
	free(buf);
	scst_cmd_done(cmd);
}
