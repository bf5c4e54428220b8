/* The iSCSI driver's internal objects and the calls between its files.
 *
 * A connection (struct iscsi_conn) lives on one reactor; with
 * MaxConnections=1 it carries exactly one session (struct iscsi_session),
 * which after login owns the core's I_T nexus. Each SCSI command has a
 * struct iscsi_cmd in cmd->tgt_priv. Commands and pending work hold
 * references on their connection, so a closed connection stays in memory
 * until the last of its commands has been freed by the core. */
#ifndef USCST_TARGETS_ISCSI_CONN_H
#define USCST_TARGETS_ISCSI_CONN_H

#include <stdbool.h>
#include <stdint.h>

#include "base/list.h"
#include "base/reactor.h"
#include "core/scst.h"
#include "targets/iscsi/params.h"
#include "targets/iscsi/pdu.h"

struct iscsi_login;
struct iscsi_session;
struct iscsi_cmd;

extern struct scst_tgt_template iscsi_template;

/* What a target carries in tgt->tgt_priv. */
struct iscsi_tgt {
	struct iscsi_target_params tp;
};

/* The Target Portal Group Tag we report for @tgt. */
uint16_t iscsi_tpgt(const struct scst_tgt *tgt);

/* ------------------------------------------------------------------ */
/* Transmit queue entry: one PDU. */

struct iscsi_tx_pdu {
	struct list_head entry;
	uint8_t hdr[ISCSI_BHS_LEN + ISCSI_DIGEST_LEN];
	uint32_t hdr_len;
	const uint8_t *data;      /* data segment (not owned unless owned != NULL) */
	uint32_t data_len;
	uint8_t *owned;           /* freed once sent */
	uint8_t trailer[3 + ISCSI_DIGEST_LEN]; /* padding and data digest */
	uint32_t trailer_len;
	uint32_t sent;
	/* When this PDU has left (or never will): the command's XMIT is over. */
	struct iscsi_cmd *finishes_cmd;
	bool close_after;         /* Logout Response, failed login */
};

/* How a PDU moves the sequence numbers when it is queued. */
enum iscsi_tx_sn {
	TX_SN_STATUS,   /* carries status: takes a StatSN */
	TX_SN_NONE,     /* R2T, Data-In without status, NOP-In ping: StatSN not advanced */
};

/* ------------------------------------------------------------------ */
/* Receive state machine. */

enum iscsi_rx_state {
	RX_BHS,
	RX_AHS,
	RX_HDIGEST,
	RX_DATA,      /* data segment and padding */
	RX_DDIGEST,
};

struct iscsi_rx {
	enum iscsi_rx_state state;
	uint32_t got;             /* bytes of the current piece */
	uint8_t bhs[ISCSI_BHS_LEN];
	uint8_t ahs[255 * 4];
	uint8_t digest[ISCSI_DIGEST_LEN];
	uint32_t data_len;        /* DataSegmentLength */
	uint32_t data_total;      /* with padding */
	/* Where the data segment goes: the first dst_len bytes to dst (a
	 * command's buffer, or heap), the rest is read and dropped. */
	uint8_t *dst;
	uint32_t dst_len;
	uint8_t *heap;            /* owned buffer for non-SCSI data segments */
	uint32_t crc;
	struct iscsi_cmd *cmd;    /* command the data belongs to, if any */
	bool drop;                /* the PDU is to be ignored once read */
	bool digest_error;        /* its data digest did not match */
	uint8_t reject;           /* non-zero: answer with this Reject reason */
};

enum iscsi_conn_phase {
	CONN_LOGIN,
	CONN_FULL_FEATURE,
	CONN_LOGGED_OUT,  /* Logout answered; closing once sent */
};

struct iscsi_conn {
	int fd;
	struct reactor *reactor;
	struct reactor_fd watch;
	struct reactor_tick tick;
	char peer[80];            /* "address:port" of the initiator */
	char local[80];           /* our address, as TargetAddress reports it */
	int refs;
	bool closed;
	enum iscsi_conn_phase phase;
	uint16_t cid;

	struct iscsi_rx rx;
	/* Bytes received ahead of the state machine: small pieces (headers,
	 * digests, short data segments) are served from here, so that one
	 * recv() brings in many PDUs; large data segments are received
	 * straight into their command's buffer once this is drained. */
	uint8_t *stage;
	uint32_t stage_head, stage_tail;
	/* A receive batch stopped with bytes still staged: it goes on from a
	 * function posted to the reactor (the socket may have nothing more
	 * to wake us with). */
	bool rx_resume_posted;

	struct list_head txq;
	uint64_t txq_bytes;       /* not yet sent */
	bool want_out;
	bool flushing;
	bool flush_again;
	/* Inside the readiness handler: responses queued now are sent by its
	 * flush at the end of the batch. */
	bool in_batch;
	/* Responses queued outside it (completions of backing I/O, posted
	 * work) are sent once the reactor's current batch is over. */
	struct reactor_deferred flush_later;

	uint32_t stat_sn;

	struct iscsi_login *login;  /* during login */
	/* Seconds since accept while logging in: the whole login gets
	 * iscsi_login_timeout(), however often the initiator sends. */
	unsigned login_ticks;
	struct iscsi_session *sess; /* after login */
	struct scst_tgt *tgt;       /* NULL for discovery */
	struct iscsi_target_params tp;
	struct iscsi_session_params params;

	struct list_head cmds;      /* every struct iscsi_cmd of this connection */
	uint32_t next_ttt;

	/* Target-initiated NOP-In. */
	unsigned idle_ticks;
	bool ping_outstanding;
	uint32_t ping_ttt;
	unsigned ping_ticks;

	/* Text Response that did not fit one PDU. */
	struct iscsi_text text_rsp;
	size_t text_sent;
	uint32_t text_ttt;
	struct iscsi_text text_req;  /* request split with the C bit */

	struct list_head all_entry;  /* every connection, under conns_lock */
};

/* ------------------------------------------------------------------ */
/* conn.c */

/* Starts serving a just-accepted socket on the calling reactor. */
void iscsi_conn_start(int fd, struct reactor *r);
void iscsi_conn_get(struct iscsi_conn *conn);
void iscsi_conn_put(struct iscsi_conn *conn);
/* Closes the socket and cleans up; logs @why with the peer's identity. */
void iscsi_conn_close(struct iscsi_conn *conn, const char *why);
/* Allocates a PDU to queue; NULL on allocation failure. */
struct iscsi_tx_pdu *iscsi_tx_alloc(void);
/* Stamps sequence numbers and digests and appends @pdu to the queue. */
void iscsi_conn_queue(struct iscsi_conn *conn, struct iscsi_tx_pdu *pdu, enum iscsi_tx_sn sn);
/* Has what the queue holds sent before the reactor waits again: at the end
 * of the receive batch being processed, or else once the reactor's current
 * batch of events and completions is over, so that the responses of many
 * commands leave with one system call and none of them waits longer. */
void iscsi_conn_flush_soon(struct iscsi_conn *conn);
/* Builds and queues a Reject of the header in conn->rx.bhs. */
void iscsi_conn_reject(struct iscsi_conn *conn, enum iscsi_reject_reason reason);
/* Who is on the other side, for log lines. */
const char *iscsi_conn_initiator(const struct iscsi_conn *conn);
/* Close every connection of @tgt (all when NULL) living on this reactor. */
void iscsi_conns_close_on_this_reactor(struct scst_tgt *tgt, const char *why);

/* ------------------------------------------------------------------ */
/* login.c */

/* Login phase: a Login Request PDU has arrived whole (header in
 * conn->rx.bhs, data in conn->rx.heap). */
void iscsi_login_rx(struct iscsi_conn *conn);
void iscsi_login_free(struct iscsi_login *login);

/* ------------------------------------------------------------------ */
/* session.c */

struct iscsi_session {
	struct scst_session *scst;  /* NULL for discovery sessions */
	struct iscsi_conn *conn;    /* NULL once closed */
	struct scst_tgt *tgt;
	char *initiator_name;
	uint8_t isid[6];
	uint16_t tsih;
	bool discovery;
	struct reactor *reactor;
	uint32_t exp_cmd_sn;
	uint32_t window;            /* QueuedCommands */
	struct list_head held;      /* commands waiting for their CmdSN */
	struct list_head registry_entry;
	/* A login reinstating this session waits for it to be freed
	 * (sessions_lock); it holds a reference on this connection. */
	struct iscsi_conn *successor;
	struct reactor *successor_reactor;
};

/* Session reinstatement (RFC 7143 6.3.5): closes every older session of
 * @initiator with @isid on @conn's target and makes @conn's login wait
 * until each is freed, that is until all of its commands have finished,
 * so that nothing the old session started can land after what the new
 * one does. Each freed predecessor posts iscsi_login_predecessor_gone()
 * to @conn's reactor. Returns how many to wait for (0: go on now), or -1
 * if another login already waits for one of them. */
int iscsi_session_reinstate(struct iscsi_conn *conn, const char *initiator, const uint8_t *isid,
			    bool discovery);
/* Posted by a freed predecessor: the login of @arg (a struct iscsi_conn,
 * referenced) goes on when it waits for no other. */
void iscsi_login_predecessor_gone(void *arg);

/* Creates the session for a finished login, registering the I_T nexus
 * with the core for a normal session. Returns NULL on failure. */
struct iscsi_session *iscsi_session_create(struct iscsi_conn *conn, const char *initiator,
					   const uint8_t *isid, bool discovery,
					   uint32_t exp_cmd_sn);
/* The session's connection is gone: unregister from the core, free when
 * the core is done. */
void iscsi_session_close(struct iscsi_session *sess);
/* Does a session with TSIH @tsih exist for @initiator? */
bool iscsi_session_tsih_exists(uint16_t tsih);
uint32_t iscsi_session_max_cmd_sn(const struct iscsi_session *sess);
/* CmdSN of a non-SCSI request in conn->rx.bhs (NOP-Out, Text, TMF,
 * Logout): immediate ones pass; others outside the window are to be
 * dropped (returns false); a due one advances ExpCmdSN. */
bool iscsi_session_take_cmdsn(struct iscsi_conn *conn);

/* CmdSN ordering of a non-immediate request. */
enum iscsi_cmdsn_check {
	CMDSN_DUE,      /* equal to ExpCmdSN */
	CMDSN_LATER,    /* inside the window but ahead */
	CMDSN_OUTSIDE,  /* outside the window: drop silently */
};
enum iscsi_cmdsn_check iscsi_session_check_cmdsn(const struct iscsi_session *sess,
						 uint32_t cmd_sn);
/* A due non-immediate request has been taken: advance ExpCmdSN and start
 * the held commands that became due. */
void iscsi_session_advance_cmdsn(struct iscsi_session *sess);
/* Starts the held commands whose CmdSN has become due (ExpCmdSN is
 * advanced before each starts, so its response carries the new value). */
void iscsi_session_start_held(struct iscsi_session *sess);

/* ------------------------------------------------------------------ */
/* cmd.c */

struct iscsi_cmd {
	struct scst_cmd *scst;
	struct iscsi_conn *conn;
	uint32_t itt;
	uint32_t cmd_sn;
	bool immediate;
	bool read;               /* R bit: Data-In expected */
	bool write;              /* W bit */
	bool cmdsn_ok;           /* its CmdSN has come (or it is immediate) */
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
	bool held;               /* waiting for its CmdSN */
	bool started;
	unsigned ticks_waiting;
	uint32_t data_sn;        /* Data-In PDUs (or R2Ts) sent */
	struct list_head conn_entry;
	struct list_head held_entry;
};

/* Header of a SCSI Command / Data-Out has arrived: set where the data
 * goes. Returns -1 when the connection must close. */
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
/* The command's CmdSN has become due. */
void iscsi_cmd_start(struct iscsi_cmd *icmd);
/* The connection is closing: end the data phase of @icmd, start it if it
 * was held. */
void iscsi_cmd_conn_closed(struct iscsi_cmd *icmd);
struct iscsi_cmd *iscsi_cmd_find(struct iscsi_conn *conn, uint32_t itt);

void iscsi_rdy_to_xfer(struct scst_cmd *cmd);
void iscsi_xmit_response(struct scst_cmd *cmd);
void iscsi_on_abort_cmd(struct scst_cmd *cmd);
void iscsi_on_free_cmd(struct scst_cmd *cmd);

/* ------------------------------------------------------------------ */
/* nop.c, logout.c, text.c, tmf.c: full feature phase requests whose data
 * segment (if any) is in conn->rx.heap. */

void iscsi_nop_out_rx(struct iscsi_conn *conn);
void iscsi_nop_tick(struct iscsi_conn *conn);
void iscsi_logout_rx(struct iscsi_conn *conn);
void iscsi_text_rx(struct iscsi_conn *conn);
void iscsi_tmf_rx(struct iscsi_conn *conn);
void iscsi_task_mgmt_fn_done(struct scst_mgmt_cmd *mcmd);

/* Sets ExpCmdSN/MaxCmdSN from the session in a response header. */
void iscsi_stamp_cmdsn(const struct iscsi_conn *conn, uint8_t *bhs);

#endif
