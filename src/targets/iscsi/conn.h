/* The bottom of the iSCSI driver: a TCP connection carrying PDUs.
 *
 * A connection (struct iscsi_conn) lives on one reactor and is touched
 * only there. This layer frames what arrives (BHS, AHS, header digest,
 * data segment and padding, data digest: conn_rx.c), sends what the layers
 * above queue (conn_tx.c), and owns the socket, the once-a-second tick and
 * the close (conn.c). It knows nothing of sessions, commands or opcodes:
 * what a PDU means is decided above it, through the upcalls in struct
 * iscsi_conn_ops (dispatch.c gives them). The fields below say which
 * layer owns each; this header includes no other layer's header.
 *
 * Lifetime: created by iscsi_conn_start() on its reactor; reference
 * counted. The socket holds one reference until iscsi_conn_close(), and
 * so does every piece of work that may run later: a command with
 * allegiance to the connection (cmd.h), a deferred flush, a posted
 * receive, a TMF in progress, a login waiting for a reinstated session.
 * The last iscsi_conn_put() frees it, so a closed connection stays in
 * memory until the core has freed its last command. */
#ifndef USCST_TARGETS_ISCSI_CONN_H
#define USCST_TARGETS_ISCSI_CONN_H

#include <stdbool.h>
#include <stdint.h>

#include "base/list.h"
#include "base/reactor.h"
#include "targets/iscsi/params.h"
#include "targets/iscsi/pdu.h"

/* Data segment limit while logging in (RFC 7143 13.12: the default
 * MaxRecvDataSegmentLength holds until the login is over). */
#define ISCSI_LOGIN_MAX_DSL 8192
/* The staging buffer: big enough for the headers of a full command window
 * (or a few short data segments) per recv(). */
#define ISCSI_RX_STAGE_SIZE (64 * 1024)

struct iscsi_conn;
struct iscsi_cmd;
struct iscsi_login;
struct iscsi_session;
struct scst_cmd;
struct scst_tgt;

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
	/* When this PDU has left (or never will), the core is told that the
	 * command's response is done (scst_tgt_cmd_done). */
	struct scst_cmd *finishes_cmd;
	bool close_after;         /* Logout Response, failed login, TARGET COLD RESET */
	const char *close_why;    /* close_after's reason; NULL: logout or login */
	/* ErrorRecoveryLevel 1 and up: a numbered response is kept once sent,
	 * in conn->status_log, until the initiator acknowledges its StatSN
	 * (conn_statlog.c); only then is finishes_cmd told. */
	bool keep;
	uint32_t stat_sn;         /* the StatSN it carries, when kept */
};

/* How a PDU moves the sequence numbers when it is queued. */
enum iscsi_tx_sn {
	TX_SN_STATUS,   /* carries status: takes a StatSN */
	TX_SN_NONE,     /* R2T, Data-In without status, NOP-In ping: StatSN not advanced */
	/* A numbered response sent again (SNACK, conn_statlog.c): the StatSN
	 * in its header is kept, nothing advances, and it is not kept
	 * again. */
	TX_SN_RESEND,
};

/* ------------------------------------------------------------------ */
/* Receive state machine (conn_rx.c). */

enum iscsi_rx_state {
	RX_BHS,
	RX_AHS,
	RX_HDIGEST,
	RX_DATA,      /* data segment and padding */
	RX_DDIGEST,
};

/* The PDU being received. The framing fields are conn_rx.c's; dst,
 * dst_len, heap, cmd, drop and reject are set by the rx_header upcall,
 * which decides where the data segment goes and what becomes of the
 * PDU. */
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

/* What the layers above do with a connection's traffic and events. All
 * are called on the connection's reactor, never after the close has run
 * closed(). */
struct iscsi_conn_ops {
	/* A PDU's header is in (its header digest checked) and conn->rx has
	 * its lengths: decide where its data segment goes, or that it is
	 * dropped or rejected once read. Returns -1 if the connection
	 * closed. */
	int (*rx_header)(struct iscsi_conn *conn);
	/* The whole PDU is in (rx.digest_error says whether its data digest
	 * matched). Returns -1 if the connection closed. */
	int (*rx_pdu)(struct iscsi_conn *conn);
	/* Once a second. */
	void (*tick)(struct iscsi_conn *conn);
	/* The socket is closed and the transmit queue dropped: end what the
	 * connection carried (commands, login, its place in the session). */
	void (*closed)(struct iscsi_conn *conn);
	/* Fills ExpCmdSN and MaxCmdSN of a PDU being queued. */
	void (*stamp_cmdsn)(struct iscsi_conn *conn, uint8_t *bhs);
	/* The response of @cmd will not reach the initiator: the connection
	 * closed before it was sent, or before it was acknowledged (ERL 1
	 * and up). The layers above end the command (scst_tgt_cmd_done)
	 * or keep it for another connection (ERL 2). Called while the
	 * connection closes, before closed(). */
	void (*response_lost)(struct iscsi_conn *conn, struct scst_cmd *cmd);
};

struct iscsi_conn {
	/* --- the connection itself (conn.c, conn_rx.c, conn_tx.c) --- */
	int fd;
	struct reactor *reactor;
	struct reactor_fd watch;
	struct reactor_tick tick;
	const struct iscsi_conn_ops *ops;
	char peer[80];            /* "address:port" of the initiator */
	char local[80];           /* our address, as TargetAddress reports it */
	char local_ip[64];        /* the same without the port, for allowed_portal */
	char *initiator;          /* for log lines, once login has seen InitiatorName */
	int refs;
	bool closed;
	/* Closed for good by the target (its end, the target's, a cold
	 * reset; or a Logout or reinstatement above): nothing it carried is
	 * kept for recovery, even at ErrorRecoveryLevel 2. */
	bool no_recovery;
	enum iscsi_conn_phase phase;

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
	 * so we stop reading from it until it drains (conn_tx.c). */
	bool rx_paused;
	bool want_out;
	bool flushing;
	bool flush_again;
	/* Inside the readiness handler: responses queued now are sent by its
	 * flush at the end of the batch. */
	bool in_batch;
	/* Responses queued outside it (completions of backing I/O, posted
	 * work) are sent once the reactor's current batch is over. */
	struct reactor_deferred flush_later;
	/* Moving to another reactor (iscsi_conn_migrate): not read from
	 * meanwhile; in_transit once its socket and tick have left the old
	 * reactor and until they are on the new one. */
	bool migrating;
	bool in_transit;
	struct reactor *migrate_to;
	struct reactor_msg migrate_msg;
	void (*migrated)(struct iscsi_conn *conn);

	/* StatSN is the connection's (RFC 7143 4.2.2.2), stamped on every
	 * PDU queued after login. */
	uint32_t stat_sn;
	/* ErrorRecoveryLevel 1 and up (conn_statlog.c): the numbered
	 * responses sent and not yet acknowledged by the initiator's
	 * ExpStatSN, oldest first, each a struct iscsi_tx_pdu with keep set.
	 * An initiator that never acknowledges has its connection closed
	 * once status_log_len passes iscsi_conn_status_log_max(). */
	struct list_head status_log;
	unsigned status_log_len;
	uint32_t exp_stat_sn;     /* the initiator's latest acknowledgement */
	/* Parameters in force: framing reads the digests and
	 * MaxRecvDataSegmentLength; login sets them. */
	struct iscsi_target_params tp;
	struct iscsi_session_params params;
	struct scst_tgt *tgt;       /* NULL for discovery */
	struct list_head all_entry; /* every connection, under conns_lock */

	/* --- owned by the layers above --- */
	uint16_t cid;
	struct iscsi_login *login;  /* during login (login.c) */
	/* Seconds since accept while logging in: the whole login gets
	 * iscsi_login_timeout(), however often the initiator sends. */
	unsigned login_ticks;
	struct iscsi_session *sess; /* after login (session.c) */
	struct list_head sess_entry; /* sess->conns */
	/* ERL 1 and up: commands whose status is queued, until freed
	 * (struct iscsi_cmd rec.answered_entry, cmd_recovery.c). */
	struct list_head answered;
	/* ERL 2 (session_recovery.c): closed, and kept in sess->failed_conns
	 * with its tasks, for another connection's TASK REASSIGN, for
	 * retain_ticks more seconds (DefaultTime2Wait + DefaultTime2Retain).
	 * sess stays set while it is. */
	bool retained;
	unsigned retain_ticks;
	uint32_t next_ttt;

	/* Target-initiated NOP-In (nop.c). */
	unsigned idle_ticks;
	bool ping_outstanding;
	uint32_t ping_ttt;
	unsigned ping_ticks;

	/* Text Response that did not fit one PDU (text.c). */
	struct iscsi_text text_rsp;
	size_t text_sent;
	uint32_t text_ttt;
	struct iscsi_text text_req;  /* request split with the C bit */
	/* The Text exchange under way (text.c): its ITT, whether the
	 * request being answered had the F bit, and what it negotiated,
	 * put into params only once it is over (RFC 7143 11.10). */
	bool text_active;
	bool text_req_final;
	uint32_t text_itt;
	struct iscsi_negotiation text_neg;
	/* AsyncEvent 4 sent (renegotiate.c): seconds (ticks) left for the
	 * initiator to start a Text exchange; 0: nothing asked. */
	unsigned reneg_wait;
};

/* ------------------------------------------------------------------ */
/* conn.c */

/* Starts serving a just-accepted socket on the calling reactor; @ops are
 * the layers above (iscsi_pdu_ops, dispatch.h). */
void iscsi_conn_start(int fd, struct reactor *r, const struct iscsi_conn_ops *ops);
void iscsi_conn_get(struct iscsi_conn *conn);
void iscsi_conn_put(struct iscsi_conn *conn);
/* Closes the socket and cleans up; logs @why with the peer's identity. */
void iscsi_conn_close(struct iscsi_conn *conn, const char *why);
/* Who is on the other side, for log lines. */
const char *iscsi_conn_initiator(const struct iscsi_conn *conn);
/* Records the initiator's name for log lines (login). */
void iscsi_conn_set_initiator(struct iscsi_conn *conn, const char *name);
/* Close every connection of @tgt (all when NULL) living on this reactor. */
void iscsi_conns_close_on_this_reactor(struct scst_tgt *tgt, const char *why);
/* The same but for @except (which closes itself later). */
void iscsi_conns_close_on_this_reactor_except(struct scst_tgt *tgt,
					      const struct iscsi_conn *except, const char *why);
/* Moves @conn to reactor @to (MC/S: a connection joins its session's
 * reactor). It is read no more here; once the current batch is over its
 * socket and tick leave this reactor, and on @to they are watched again
 * and @arrived(conn) runs, then reading goes on (bytes already staged
 * included). Closing it meanwhile is allowed, from either side of the
 * move. On the connection's reactor, with nothing queued to send. */
void iscsi_conn_migrate(struct iscsi_conn *conn, struct reactor *to,
			void (*arrived)(struct iscsi_conn *conn));
/* A fresh target transfer tag for this connection (never 0xffffffff). */
uint32_t iscsi_conn_next_ttt(struct iscsi_conn *conn);
/* The readiness handler, for input (a receive batch resumed). */
void iscsi_conn_on_ready_in(struct iscsi_conn *conn);
/* The epoll events wanted now: input unless paused, output while the
 * socket is full (within the connection layer). */
void iscsi_conn_watch_update(struct iscsi_conn *conn);

/* ------------------------------------------------------------------ */
/* conn_tx.c */

/* Allocates a PDU to queue; NULL on allocation failure. */
struct iscsi_tx_pdu *iscsi_tx_alloc(void);
/* Frees a PDU that is on no list, with what it owns (not its command). */
void iscsi_tx_free(struct iscsi_tx_pdu *pdu);
/* Stamps sequence numbers and digests and appends @pdu to the queue. */
void iscsi_conn_queue(struct iscsi_conn *conn, struct iscsi_tx_pdu *pdu, enum iscsi_tx_sn sn);
/* Has what the queue holds sent before the reactor waits again: at the end
 * of the receive batch being processed, or else once the reactor's current
 * batch of events and completions is over, so that the responses of many
 * commands leave with one system call and none of them waits longer. */
void iscsi_conn_flush_soon(struct iscsi_conn *conn);
/* Sends what is queued now, as far as the socket takes it. */
void iscsi_conn_flush_now(struct iscsi_conn *conn);
/* Builds and queues a Reject of the header in conn->rx.bhs. */
void iscsi_conn_reject(struct iscsi_conn *conn, enum iscsi_reject_reason reason);
/* The same for the header @bhs (a request that waited for its CmdSN). */
void iscsi_conn_reject_bhs(struct iscsi_conn *conn, const uint8_t *bhs,
			   enum iscsi_reject_reason reason);
/* The same with DataSN/R2TSN @next_sn (RFC 7143 11.17.1: a Data/R2T
 * SNACK refused as a protocol error says what the target sends next). */
void iscsi_conn_reject_sn(struct iscsi_conn *conn, const uint8_t *bhs,
			  enum iscsi_reject_reason reason, uint32_t next_sn);
/* Reading paused for a full transmit queue may resume (called as the
 * queue drains, and when a command's buffer is released). */
void iscsi_conn_rx_maybe_resume(struct iscsi_conn *conn);
/* Drops everything queued (the connection has closed); each PDU's
 * command is told its response is done. */
void iscsi_conn_tx_drain(struct iscsi_conn *conn);
/* A PDU has been received: stop reading from a peer whose answers pile
 * up unread (the queue is over its bound). */
void iscsi_conn_rx_pause_if_needed(struct iscsi_conn *conn);

/* ------------------------------------------------------------------ */
/* conn_statlog.c: numbered responses kept for Status SNACK (ERL >= 1). */

/* Whether numbered responses queued on @conn are kept once sent. */
bool iscsi_conn_keeps_status(const struct iscsi_conn *conn);
/* A sent PDU with keep set joins the log (from the transmit queue). */
void iscsi_conn_status_log_add(struct iscsi_conn *conn, struct iscsi_tx_pdu *pdu);
/* The initiator's ExpStatSN @exp (from any PDU it sent): every kept
 * response below it is released (its command told it is done). */
void iscsi_conn_status_acked(struct iscsi_conn *conn, uint32_t exp);
/* The kept status of @cmd, if there is one, is released now (@cmd is
 * told it is done): task management does not wait for an initiator's
 * acknowledgement of a task that has completed. True if it was kept. */
bool iscsi_conn_status_log_drop(struct iscsi_conn *conn, const struct scst_cmd *cmd);
/* The kept response with StatSN @sn, or NULL (acknowledged, not sent yet
 * or never). */
struct iscsi_tx_pdu *iscsi_conn_status_log_find(struct iscsi_conn *conn, uint32_t sn);
/* Queues a replica of the kept @kept (RFC 7143 11.16: ExpCmdSN and
 * MaxCmdSN current, the rest as first sent). False on no memory. */
bool iscsi_conn_resend(struct iscsi_conn *conn, const struct iscsi_tx_pdu *kept);
/* The connection has closed: every kept response is released, its
 * command's response lost (struct iscsi_conn_ops). */
void iscsi_conn_status_log_drain(struct iscsi_conn *conn);

/* ------------------------------------------------------------------ */
/* conn_rx.c */

/* The socket is readable: receive and frame PDUs, as many as a batch
 * takes (conn.c's readiness handler calls it). */
void iscsi_conn_on_readable(struct iscsi_conn *conn);
/* Frees what the PDU being received holds. */
void iscsi_conn_rx_free(struct iscsi_conn *conn);
/* Bytes are staged but the socket may not wake us again: go on reading
 * from a message posted to the reactor. */
void iscsi_conn_rx_yield(struct iscsi_conn *conn);

#endif
