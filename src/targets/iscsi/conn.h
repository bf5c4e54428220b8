/* The iSCSI driver's internal objects and the calls between its files.
 *
 * A connection (struct iscsi_conn) lives on one reactor; with
 * MaxConnections=1 it carries exactly one session (struct iscsi_session),
 * which after login owns the core's I_T nexus. Each SCSI command has a
 * struct iscsi_cmd in cmd->tgt_priv.
 *
 * Lifetimes (docs/architecture.md has the whole picture):
 *  - a connection is created by iscsi_conn_start() on its reactor and
 *    touched only there. It is reference counted: the socket holds one
 *    reference until iscsi_conn_close(), every iscsi_cmd one, every
 *    pending piece of work (a deferred flush, a posted receive, a TMF in
 *    progress, a login waiting for a reinstated session) one. The last
 *    iscsi_conn_put() frees it, so a closed connection stays in memory
 *    until the core has freed its last command.
 *  - an iscsi_cmd is created when its SCSI Command header arrives and
 *    freed by the core's on_free_cmd, on the connection's reactor. Whatever
 *    state it is in when the connection closes, iscsi_conn_close() ends
 *    it: not started (waiting for its CmdSN, for data budget, or still
 *    being received) through scst_cmd_abandon(), waiting for Data-Out
 *    through scst_rx_data(false), with its response queued through
 *    scst_tgt_cmd_done(); executing ones end when the handler is done.
 *  - an iscsi_session is created at the end of login on the connection's
 *    reactor and freed there once the core has freed its I_T nexus (after
 *    the last command and TMF). */
#ifndef USCST_TARGETS_ISCSI_CONN_H
#define USCST_TARGETS_ISCSI_CONN_H

#include <stdbool.h>
#include <stdint.h>

#include "base/list.h"
#include "base/reactor.h"
#include "core/scst.h"
#include "targets/iscsi/portal_access.h"
#include "targets/iscsi/chap.h"
#include "targets/iscsi/params.h"
#include "targets/iscsi/pdu.h"

struct iscsi_login;
struct iscsi_session;
struct iscsi_cmd;

extern struct scst_tgt_template iscsi_template;

/* What a target carries in tgt->tgt_priv. */
struct iscsi_tgt {
	struct iscsi_target_params tp;
	struct chap_credentials chap;   /* IncomingUser / OutgoingUser */
	struct iscsi_allowed_portals portals; /* allowed_portal */
};

/* Copies the discovery sessions' CHAP credentials (the TARGET_DRIVER
 * iscsi section's IncomingUser / OutgoingUser) into @dst. Caller holds
 * scst_mutex, under which management replaces them. Returns 0 or -1. */
int iscsi_discovery_chap_copy(struct chap_credentials *dst);

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
	bool close_after;         /* Logout Response, failed login, TARGET COLD RESET */
	const char *close_why;    /* close_after's reason; NULL: logout or login */
};

/* How a PDU moves the sequence numbers when it is queued. */
enum iscsi_tx_sn {
	TX_SN_STATUS,   /* carries status: takes a StatSN */
	TX_SN_NONE,     /* R2T, Data-In without status, NOP-In ping: StatSN not advanced */
};

/* A request PDU as the handlers see it: its header and data segment.
 * A handler may take @data (setting it to NULL); the caller frees what is
 * left. */
struct iscsi_req {
	uint8_t bhs[ISCSI_BHS_LEN];
	uint8_t *data;
	uint32_t data_len;
};

/* Something waiting in the session for its CmdSN to come (RFC 7143
 * 4.2.2.1): a SCSI command, a non-SCSI request (NOP-Out, Text, TMF,
 * Logout) copied whole, or a number that is consumed without anything to
 * run (an aborted command, or one a TMF declared received). At most one
 * per CmdSN; the window bounds how many there are. */
enum iscsi_pending_kind {
	PENDING_SCSI,
	PENDING_REQUEST,
	PENDING_VOID,
};

struct iscsi_pending {
	struct list_head entry;   /* sess->pending */
	uint32_t cmd_sn;
	enum iscsi_pending_kind kind;
	unsigned ticks;           /* seconds it has waited */
	struct iscsi_req req;     /* PENDING_REQUEST */
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
	char local_ip[64];        /* the same without the port, for allowed_portal */
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
	struct reactor_msg rx_resume_msg; /* in the reactor's queue while posted */

	struct list_head txq;
	uint64_t txq_bytes;       /* not yet sent */
	unsigned txq_pdus;
	/* The peer does not read what we send: the queue is over its bound,
	 * so we stop reading from it until it drains (conn.c). */
	bool rx_paused;

	/* Data buffers of this connection's commands are bounded: a command
	 * starts only when its buffer fits in what is left (the first one
	 * always does); the others wait, in order (cmd.c). */
	uint64_t data_budget_used;
	struct list_head budget_waiting; /* struct iscsi_cmd, in start order */
	struct reactor_deferred budget_drain;
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
	unsigned ncmds;
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
/* The same for the header @bhs (a request that waited for its CmdSN). */
void iscsi_conn_reject_bhs(struct iscsi_conn *conn, const uint8_t *bhs,
			   enum iscsi_reject_reason reason);
/* Sends what is queued now, as far as the socket takes it. */
void iscsi_conn_flush_now(struct iscsi_conn *conn);
/* Reading paused for a full transmit queue may resume (called as the
 * queue drains, and when a command's buffer is released). */
void iscsi_conn_rx_maybe_resume(struct iscsi_conn *conn);
/* Who is on the other side, for log lines. */
const char *iscsi_conn_initiator(const struct iscsi_conn *conn);
/* Close every connection of @tgt (all when NULL) living on this reactor. */
void iscsi_conns_close_on_this_reactor(struct scst_tgt *tgt, const char *why);
/* The same but for @except (which closes itself later). */
void iscsi_conns_close_on_this_reactor_except(struct scst_tgt *tgt,
					      const struct iscsi_conn *except, const char *why);

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
	bool nexus_lost; /* it ends without a logout (iscsi_session_close) */
	struct reactor *reactor;
	uint32_t exp_cmd_sn;
	/* The highest MaxCmdSN told to the initiator: it never goes back
	 * (an initiator ignores a smaller one), and it is what the window
	 * check accepts up to. */
	uint32_t max_cmd_sn;
	uint32_t window;            /* QueuedCommands */
	/* SCSI commands in the target that no longer hold a CmdSN slot: due
	 * (their CmdSN has come) or immediate, not yet freed. */
	unsigned cmds_due;
	struct list_head pending;   /* struct iscsi_pending, waiting for their CmdSN */
	struct reactor_msg close_msg;
	struct list_head registry_entry;
	/* A login reinstating this session waits for it to be freed
	 * (sessions_lock); it holds a reference on this connection. */
	struct iscsi_conn *successor;
	struct reactor *successor_reactor;
	struct successor_note *successor_note; /* sent to it when this session is freed */
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

/* A login waiting for older sessions is going away (its connection
 * closed): the sessions it waited for forget it, so that the next login
 * of the same initiator and ISID may reinstate them. */
void iscsi_session_forget_successor(struct iscsi_conn *conn);

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
/* MaxCmdSN to tell the initiator now: ExpCmdSN + (QueuedCommands -
 * commands due and not finished) - 1, never less than what was told
 * before. Records it as told. */
uint32_t iscsi_session_max_cmd_sn(struct iscsi_session *sess);
/* A non-SCSI request (NOP-Out, Text, TMF, Logout) in full feature phase:
 * immediate ones run now; others take their place in the CmdSN sequence
 * (run when due, held when ahead, dropped outside the window). May take
 * req->data. */
void iscsi_session_rx_request(struct iscsi_conn *conn, struct iscsi_req *req);
/* The pending entry for @cmd_sn, or NULL. */
struct iscsi_pending *iscsi_session_find_pending(struct iscsi_session *sess, uint32_t cmd_sn);
/* Holds @p (cmd_sn set) until its CmdSN comes. */
void iscsi_session_hold(struct iscsi_session *sess, struct iscsi_pending *p);
/* Marks @cmd_sn received with nothing to run (it replaces a held SCSI
 * command being aborted, or is a command a TMF declared received). Returns
 * -1 on allocation failure. */
int iscsi_session_void_cmdsn(struct iscsi_session *sess, uint32_t cmd_sn);
/* Seconds the oldest pending entry has waited, counting this tick. */
unsigned iscsi_session_pending_tick(struct iscsi_session *sess);
/* The connection is closing: frees every pending non-SCSI entry. */
void iscsi_session_drop_pending(struct iscsi_session *sess);

/* CmdSN ordering of a non-immediate request. */
enum iscsi_cmdsn_check {
	CMDSN_DUE,      /* equal to ExpCmdSN */
	CMDSN_LATER,    /* inside the window but ahead */
	CMDSN_OUTSIDE,  /* outside the window: drop silently */
};
enum iscsi_cmdsn_check iscsi_session_check_cmdsn(const struct iscsi_session *sess,
						 uint32_t cmd_sn);
/* ExpCmdSN has moved: run what became due behind it, in order (ExpCmdSN
 * is advanced before each runs, so its response carries the new value). */
void iscsi_session_run_due(struct iscsi_session *sess);

/* ------------------------------------------------------------------ */
/* cmd.c */

struct iscsi_cmd {
	struct scst_cmd *scst;
	struct iscsi_conn *conn;
	struct iscsi_session *sess; /* outlives the command */
	uint32_t itt;
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
	uint32_t budget;         /* bytes of conn->data_budget_used it holds */
	/* Data that arrived before the command had its buffer (it was not
	 * due yet): copied in when it starts. */
	uint8_t *stash;
	uint32_t stash_cap;
	unsigned ticks_waiting;
	uint32_t data_sn;        /* Data-In PDUs (or R2Ts) sent */
	struct list_head conn_entry;
	struct iscsi_pending pend;   /* its CmdSN; in sess->pending while held */
	struct list_head budget_entry; /* conn->budget_waiting while due and
					* waiting for data budget, else empty */
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
/* The command's CmdSN has come (or it is immediate): it counts against
 * the window and starts as soon as its data and the data budget allow. */
void iscsi_cmd_due(struct iscsi_cmd *icmd);
/* The connection is closing: end @icmd's part in it (see the lifetime
 * note above). Returns whether it did anything (it may have freed it). */
bool iscsi_cmd_conn_closed(struct iscsi_cmd *icmd);
struct iscsi_cmd *iscsi_cmd_find(struct iscsi_conn *conn, uint32_t itt);

void iscsi_rdy_to_xfer(struct scst_cmd *cmd);
void iscsi_xmit_response(struct scst_cmd *cmd);
void iscsi_on_abort_cmd(struct scst_cmd *cmd);
void iscsi_on_free_cmd(struct scst_cmd *cmd);

/* ------------------------------------------------------------------ */
/* nop.c, logout.c, text.c, tmf.c: full feature phase requests whose data
 * segment (if any) is in conn->rx.heap. */

void iscsi_nop_out_rx(struct iscsi_conn *conn, struct iscsi_req *req);
void iscsi_nop_tick(struct iscsi_conn *conn);
void iscsi_logout_rx(struct iscsi_conn *conn, struct iscsi_req *req);
void iscsi_text_rx(struct iscsi_conn *conn, struct iscsi_req *req);
void iscsi_tmf_rx(struct iscsi_conn *conn, struct iscsi_req *req);
void iscsi_task_mgmt_fn_done(struct scst_mgmt_cmd *mcmd);

/* Sets ExpCmdSN/MaxCmdSN from the session in a response header. */
void iscsi_stamp_cmdsn(struct iscsi_conn *conn, uint8_t *bhs);

#endif
