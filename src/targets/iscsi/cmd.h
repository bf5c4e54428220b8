/* SCSI commands over iSCSI (cmd.c): the SCSI Command PDU, Data-Out and
 * R2T, Data-In and SCSI Response (cmd_response.c), error recovery
 * (cmd_recovery.c), and the core's callbacks for them.
 *
 * Each SCSI command has a struct iscsi_cmd in cmd->tgt_priv. It is a task
 * of its session (struct iscsi_task: ITT, connection allegiance) and, while
 * it waits for its CmdSN, an entry in the session's ordered queue.
 *
 * Lifetime: created when its SCSI Command header arrives, on the
 * connection's reactor (which is the session's), and freed by the core's
 * on_free_cmd there. It holds a reference on its connection. Whatever
 * state it is in when the connection closes, iscsi_cmd_conn_closed() ends
 * it: not started (waiting for its CmdSN, for data budget, or still being
 * received) through scst_cmd_abandon(), waiting for Data-Out through
 * scst_rx_data(false), with its response queued through
 * scst_tgt_cmd_done() (the transmit queue's drain); executing ones end
 * when the handler is done. */
#ifndef USCST_TARGETS_ISCSI_CMD_H
#define USCST_TARGETS_ISCSI_CMD_H

#include <assert.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/list.h"
#include "targets/iscsi/session.h"

struct iscsi_conn;
struct scst_cmd;

struct iscsi_cmd {
	struct scst_cmd *scst;
	/* Its connection allegiance (RFC 7143): Data-Out, R2T and status
	 * go here, and the session's CmdSN queue asks for it
	 * (cmd_pending_ops). The connection its SCSI Command came on,
	 * referenced; only TASK REASSIGN (iscsi_cmd_reassign(), ERL 2)
	 * changes it, moving the reference to the connection that asked. */
	struct iscsi_conn *conn;
	struct iscsi_session *sess; /* outlives the command */
	struct iscsi_task task;     /* in sess->tasks */
	struct iscsi_pending pend;  /* its CmdSN; in sess->pending while held */
	bool immediate;
	bool read;               /* R bit: Data-In expected */
	bool write;              /* W bit */
	bool cmdsn_ok;           /* its CmdSN has come (or it is immediate) */
	bool in_window;          /* counted in sess->cmds_due */
	uint32_t edtl;
	/* Write data, offsets into the initiator's data (in order). */
	uint32_t recv_off;       /* next byte expected */
	uint32_t want_end;       /* bytes we collect in all */
	uint32_t unsol_end;      /* end of unsolicited data */
	bool unsol_pending;      /* unsolicited Data-Out still to come */
	uint32_t seq_end;        /* end of the sequence being received */
	uint32_t exp_data_sn;    /* within the current sequence */
	uint32_t r2t_start;      /* first solicited offset */
	uint32_t r2t_off;        /* next offset to solicit */
	unsigned r2t_outstanding;
	uint32_t r2t_sn;
	uint32_t ttt;
	bool waiting_data;       /* in RDY_TO_XFER */
	bool abort_pending;      /* aborted while a Data-Out was landing */
	bool data_failed;        /* a Data-Out was out of sequence */
	bool digest_failed;      /* a Data-Out's data digest did not match */
	bool discarded;          /* its PDU was discarded: ends without response */
	bool held;               /* waiting for its CmdSN (in sess->pending) */
	bool started;            /* handed to the core (or abandoned) */
	uint32_t budget;         /* bytes of sess->data_budget_used it holds */
	/* Data that arrived before the command had its buffer (it was not
	 * due yet): copied in when it starts. */
	uint8_t *stash;
	uint32_t stash_cap;
	unsigned ticks_waiting;
	uint32_t data_sn;        /* Data-In PDUs (or R2Ts) sent */
	/* ErrorRecoveryLevel 1 and up (cmd_recovery.c). */
	struct cmd_recovery {
		/* The command's status is queued: it has left the task set
		 * (the initiator may reuse its ITT once it has the status) and
		 * is in conn->answered until the core frees it, which is when
		 * its status is acknowledged (conn_statlog.c). */
		bool answered;
		struct list_head answered_entry;
		uint32_t status_sn;      /* the StatSN of its status */
		/* How its Data-In went out, to send any of it again: PDUs
		 * from DataSN base_sn on cover the bytes from base_off to
		 * len, cut at dsl and at every burst; the last carries the
		 * status when collapsed. Below base_sn all is acknowledged. */
		uint32_t base_sn, base_off, len, dsl, burst;
		bool collapsed;
		uint32_t ack_ttt;        /* the TTT of its A-bit Data-In, 0: none yet */
		/* R2Ts from R2TSN r2t_base_sn on ask for max_burst bytes each
		 * from r2t_base_off (the first R2T, or the recovery R2T). */
		uint32_t r2t_base_sn, r2t_base_off;
		/* A solicited Data-Out of the current burst failed its data
		 * digest: from recover_off on the burst is asked for again
		 * once it is over (a recovery R2T). */
		bool recovering;
		uint32_t recover_off;
		/* ERL 2: its connection is gone and kept for recovery; its
		 * response is ready and waits for TASK REASSIGN (or for the
		 * connection's time to run out). */
		bool held_rsp;
	} rec;
	struct list_head budget_entry; /* sess->budget_waiting while due and
					* waiting for data budget, else empty */
};

/* Header of a SCSI Command / Data-Out has arrived (in conn->rx): set where
 * the data goes. Returns -1 when the connection must close. */
int iscsi_cmd_rx_header(struct iscsi_conn *conn);
int iscsi_data_out_rx_header(struct iscsi_conn *conn);
/* Their data segment has arrived. */
int iscsi_cmd_rx_done(struct iscsi_conn *conn);
int iscsi_data_out_rx_done(struct iscsi_conn *conn);
/* Their data segment has arrived with a wrong data digest (RFC 7143 7.8;
 * the Reject is already queued): the SCSI Command is discarded as if
 * never received, so the initiator may retry it; the Data-Out's command
 * fails with a CRC error once its outstanding data has arrived. */
int iscsi_cmd_rx_digest_error(struct iscsi_conn *conn);
int iscsi_data_out_rx_digest_error(struct iscsi_conn *conn);
/* The command with Initiator Task Tag @itt in @sess, or NULL. */
struct iscsi_cmd *iscsi_cmd_find(struct iscsi_session *sess, uint32_t itt);
/* @conn is closing: every command with allegiance to it ends its part
 * in it (see the lifetime note above). */
void iscsi_cmds_conn_closed(struct iscsi_conn *conn);
/* Once a second: has a command on @conn waited for Data-Out longer than
 * @timeout seconds? */
bool iscsi_cmds_data_timed_out(struct iscsi_conn *conn, unsigned timeout);

/* ErrorRecoveryLevel 2. @conn has closed and keeps its tasks: only a
 * command whose PDU had not all arrived ends. */
void iscsi_cmds_conn_failed(struct iscsi_conn *conn);
/* How many commands have allegiance to @conn. */
unsigned iscsi_cmds_of_conn(struct iscsi_conn *conn);
/* The connection layer's response_lost: ended, or held (ERL 2). */
void iscsi_cmd_response_lost(struct iscsi_conn *conn, struct scst_cmd *cmd);
/* TASK REASSIGN of task @itt to @conn (RFC 7143 11.5.1, 7.2.2): 0 with
 * the task now @conn's, or the TMF response code refusing it. The caller
 * queues the TMF Response, then calls iscsi_cmd_resume_reassigned(). */
uint8_t iscsi_cmd_reassign(struct iscsi_conn *conn, uint32_t itt, struct iscsi_cmd **out);
/* A reassigned task goes on: its held response is sent from @exp_data_sn
 * (cut for the new connection, a new StatSN), the Data-Out it still
 * needs is asked for, or it just runs on. */
void iscsi_cmd_resume_reassigned(struct iscsi_cmd *icmd, uint32_t exp_data_sn);

/* ErrorRecoveryLevel 1 and up (cmd_recovery.c). SNACK services return 0
 * or the reason to Reject the SNACK with; a Data/R2T SNACK's Reject
 * carries *next_sn (RFC 7143 11.17: the next DataSN or R2TSN). */
void iscsi_cmd_answered(struct iscsi_cmd *icmd);
uint8_t iscsi_cmd_snack_data(struct iscsi_conn *conn, uint32_t itt, uint32_t beg, uint32_t run,
			     uint32_t *next_sn);
uint8_t iscsi_cmd_data_ack(struct iscsi_conn *conn, uint32_t ttt, uint32_t beg);
uint8_t iscsi_cmd_snack_rdata(struct iscsi_conn *conn, uint32_t itt, uint32_t tag);

/* Within cmd*.c: building the PDUs. */
struct iscsi_tx_pdu;

/* The Data-In cut (RFC 7143 11.7, 7.1): the one rule that decides how
 * @icmd->rec's bytes go out in PDUs. Sending (cmd_response.c) and the
 * readers of what was sent (DataACK, a reassigned task's ExpDataSN,
 * cmd_recovery.c, cmd.c) all walk it with iscsi_data_in_cut_next(), so a
 * DataSN names the same bytes for each of them. */
struct iscsi_data_in_cut {
	uint32_t sn;          /* DataSN of the next piece */
	uint32_t off;         /* its Buffer Offset */
	uint32_t burst_off;   /* where its burst began */
};
struct iscsi_data_in_piece {
	uint32_t sn, off, len;
	bool burst_start;     /* first of its burst: a DataACK may name it */
	bool burst_end;       /* last of its burst: F bit, and A bit at ERL 1 */
	bool last;            /* ends the command's data (may carry the status) */
};

/* The cut from its first PDU not acknowledged: DataSN rec.base_sn at
 * byte rec.base_off, which begins a burst. */
static inline struct iscsi_data_in_cut iscsi_data_in_cut_start(const struct cmd_recovery *r)
{
	return (struct iscsi_data_in_cut){ .sn = r->base_sn, .off = r->base_off,
					   .burst_off = r->base_off };
}

/* The piece at @c into @p, and @c past it; false once rec.len is all cut.
 * A piece is as long as MaxRecvDataSegmentLength (rec.dsl), the rest of
 * the data and the rest of its burst (rec.burst) allow. Inline: it runs
 * once a Data-In PDU on the READ path. */
static inline bool iscsi_data_in_cut_next(const struct cmd_recovery *r,
					  struct iscsi_data_in_cut *c,
					  struct iscsi_data_in_piece *p)
{
	if (c->off >= r->len)
		return false;
	assert(r->dsl > 0 && r->burst > 0 && c->off - c->burst_off < r->burst);
	uint32_t len = r->len - c->off;
	uint32_t burst_rest = c->burst_off + r->burst - c->off;
	if (len > r->dsl)
		len = r->dsl;
	if (len > burst_rest)
		len = burst_rest;
	p->sn = c->sn;
	p->off = c->off;
	p->len = len;
	p->burst_start = c->off == c->burst_off;
	p->last = c->off + len == r->len;
	p->burst_end = p->last || len == burst_rest;
	c->sn++;
	c->off += len;
	if (p->burst_end)
		c->burst_off = c->off;
	return true;
}

/* Queues the Data-In PDUs of @icmd->rec's cut from DataSN @first on,
 * @count of them (UINT32_MAX: to the end); @resend: replicas (the status
 * keeps its StatSN and finishes nothing). Returns how many PDUs the cut
 * has from rec.base_sn up to where it stopped, or -1 on no memory. */
int iscsi_cmd_queue_data_in(struct iscsi_cmd *icmd, uint32_t first, uint32_t count, bool resend);
/* A SCSI Response for @icmd (SNACK Tag @snack_tag), not queued. */
struct iscsi_tx_pdu *iscsi_cmd_build_response(struct iscsi_cmd *icmd, uint32_t snack_tag);
/* Sends @icmd's response on its connection: its Data-In from DataSN
 * @base_sn at byte @base_off (the rest is acknowledged), then the
 * status. */
void iscsi_cmd_send_response(struct iscsi_cmd *icmd, uint32_t base_sn, uint32_t base_off);
/* Where Data-In DataSN @sn starts in @icmd's cut; false if none. */
bool iscsi_cmd_locate_data_in(const struct iscsi_cmd *icmd, uint32_t sn, uint32_t *off,
			      bool *burst_start);
void iscsi_cmd_fill_r2t(const struct iscsi_cmd *icmd, struct iscsi_tx_pdu *pdu, uint32_t r2t_sn,
			uint32_t off, uint32_t len);

/* The core's callbacks (scst_tgt_template). */
void iscsi_rdy_to_xfer(struct scst_cmd *cmd);
void iscsi_xmit_response(struct scst_cmd *cmd);
void iscsi_on_abort_cmd(struct scst_cmd *cmd);
void iscsi_on_free_cmd(struct scst_cmd *cmd);

#endif
