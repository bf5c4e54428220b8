/* The requests other than SCSI commands, in the full feature phase: each
 * is run by dispatch.c when its CmdSN comes (or at once, immediate), with
 * the PDU it arrived in. A handler may take @req->data (setting it to
 * NULL); the caller frees what is left. */
#ifndef USCST_TARGETS_ISCSI_REQUESTS_H
#define USCST_TARGETS_ISCSI_REQUESTS_H

#include <stdint.h>

#include "targets/iscsi/pdu.h"

struct iscsi_conn;
struct scst_mgmt_cmd;

/* A request PDU as the handlers see it: its header and data segment. */
struct iscsi_req {
	uint8_t bhs[ISCSI_BHS_LEN];
	uint8_t *data;
	uint32_t data_len;
};

/* nop.c: NOP-Out, and the target's own pings (called once a second). */
void iscsi_nop_out_rx(struct iscsi_conn *conn, struct iscsi_req *req);
void iscsi_nop_tick(struct iscsi_conn *conn);
/* logout.c */
void iscsi_logout_rx(struct iscsi_conn *conn, struct iscsi_req *req);
/* snack.c: a SNACK, served as soon as it is in (it has no CmdSN). */
void iscsi_snack_rx(struct iscsi_conn *conn);
/* text.c */
void iscsi_text_rx(struct iscsi_conn *conn, struct iscsi_req *req);
/* tmf.c: Task Management Function Request, and the core's answer. */
void iscsi_tmf_rx(struct iscsi_conn *conn, struct iscsi_req *req);
void iscsi_task_mgmt_fn_done(struct scst_mgmt_cmd *mcmd);

#endif
