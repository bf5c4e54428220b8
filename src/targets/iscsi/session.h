/* The iSCSI session (RFC 7143 4.2): the middle of the driver.
 *
 * A session owns the core's I_T nexus, the connections that carry it, the
 * task set (every SCSI command of the session, whichever connection it
 * came on), and the CmdSN window with the one ordered queue of everything
 * that carries a CmdSN (RFC 7143 4.2.2.1): SCSI commands and the other
 * requests alike wait there until their number comes. Only cmdsn.c
 * changes ExpCmdSN and MaxCmdSN.
 *
 * The session does not know what a queued PDU is: each entry in the
 * queue comes with its own operations (struct iscsi_pending_ops), so the
 * handlers above (cmd.c, dispatch.c) depend on the session and not the
 * other way round; nor does the connection layer (conn.h) know the
 * session.
 *
 * Lifetime: created at the end of login on the connection's reactor
 * (session.c); that reactor is the session's, and every field is touched
 * only there, except the registry's (session_registry.c, under its lock).
 * When its last connection has gone, the session unregisters its nexus
 * from the core; it is freed on its reactor once the core has freed the
 * nexus, which is after the last command and TMF, so a command's pointer
 * to its session is always good. */
#ifndef USCST_TARGETS_ISCSI_SESSION_H
#define USCST_TARGETS_ISCSI_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/list.h"
#include "base/reactor.h"
#include "targets/iscsi/params.h"

struct iscsi_conn;
struct iscsi_pending;
struct scst_session;
struct scst_tgt;
struct successor_note;

/* ------------------------------------------------------------------ */
/* The ordered queue. */

struct iscsi_pending_ops {
	/* Its CmdSN has come, or it is immediate: it has left the queue and
	 * ExpCmdSN is already past it, so that a response it sends at once
	 * acknowledges it. May free @p. */
	void (*due)(struct iscsi_pending *p);
	/* Its connection closed while it waited: it has left the queue;
	 * free it. NULL: its owner takes it out itself (a SCSI command
	 * ends through its connection's close, cmd.c). */
	void (*discard)(struct iscsi_pending *p);
	/* The connection it belongs to now: the one it came on, or, for a
	 * SCSI command, the one TASK REASSIGN moved it to. Its owner keeps
	 * that, so the queue asks rather than holding a copy that could go
	 * stale. Valid while the entry is queued. */
	struct iscsi_conn *(*conn)(const struct iscsi_pending *p);
};

/* Something waiting for its CmdSN: a SCSI command (embedded in struct
 * iscsi_cmd), a non-SCSI request (dispatch.c), or a number consumed
 * without anything to run (ops NULL: an aborted command, or one a TMF
 * declared received; the session's own, of no connection). At most one
 * per CmdSN; the window bounds how many there are. */
struct iscsi_pending {
	struct list_head entry;   /* sess->pending while held */
	uint32_t cmd_sn;
	unsigned ticks;           /* seconds it has waited */
	const struct iscsi_pending_ops *ops;
};

/* ------------------------------------------------------------------ */
/* The task set. */

/* One SCSI command of the session, embedded in struct iscsi_cmd. The
 * Initiator Task Tag is unique within the session (RFC 7143 4.2.1). */
struct iscsi_task {
	struct list_head entry;   /* sess->tasks */
	uint32_t itt;
};

/* ------------------------------------------------------------------ */

struct iscsi_session {
	struct scst_session *scst;  /* NULL for discovery sessions */
	struct scst_tgt *tgt;
	char *initiator_name;
	uint8_t isid[6];
	uint16_t tsih;
	bool discovery;
	/* A Logout closing the session was answered: the nexus ends in
	 * order. Otherwise (a dropped connection, a reinstatement, a
	 * shutdown) the nexus is lost. */
	bool logged_out;
	bool closing;               /* its last connection has gone */
	struct reactor *reactor;
	struct reactor_tick tick;   /* ages what waits in the CmdSN queue */
	unsigned rsp_timeout;       /* RspTimeout of its target, seconds */

	/* Connections (conn->sess_entry), each referenced while listed; at
	 * most params.max_connections (MC/S). All live on the session's
	 * reactor: a further one is moved there at its first Login PDU. */
	struct list_head conns;
	unsigned nconns;
	/* ErrorRecoveryLevel 2 (session_recovery.c): connections that
	 * failed or were logged out for recovery, closed, each referenced
	 * while listed, their tasks waiting for TASK REASSIGN; the session
	 * lives on while any is here, even with no connection left. */
	struct list_head failed_conns;
	/* Closed for good (reinstatement, management): nothing is kept for
	 * recovery any more. */
	bool ending;
	/* What the leading connection negotiated: the session-wide values
	 * every further connection runs with. */
	struct iscsi_session_params params;

	/* The CmdSN window (cmdsn.c). */
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

	/* The task set (session.c). */
	struct list_head tasks;     /* struct iscsi_task */
	unsigned ntasks;

	/* Data buffers of the session's commands are bounded: a command
	 * starts only when its buffer fits in what is left (the first one
	 * always does); the others wait, in CmdSN order (cmd.c). */
	uint64_t data_budget_used;
	struct list_head budget_waiting; /* struct iscsi_cmd, in start order */
	struct reactor_deferred budget_drain;

	struct reactor_msg close_msg;
	/* The registry (session_registry.c, under its lock). */
	struct list_head registry_entry;
	/* A login reinstating this session waits for it to be freed; it
	 * holds a reference on that login's connection. */
	struct iscsi_conn *successor;
	void (*successor_gone)(struct iscsi_conn *conn);
	struct reactor *successor_reactor;
	struct successor_note *successor_note; /* sent to it when this session is freed */
};

/* ------------------------------------------------------------------ */
/* session.c: life, connections, task set. */

/* Creates the session for a finished login on @conn, registering it (a
 * TSIH, within the target's session caps) and, for a normal session, its
 * I_T nexus with the core. Returns NULL on failure. */
struct iscsi_session *iscsi_session_create(struct iscsi_conn *conn, const char *initiator,
					   const uint8_t *isid, bool discovery,
					   uint32_t exp_cmd_sn);
/* A further connection's login is over: @conn joins @sess (which is not
 * closing and has room). On the session's reactor. */
void iscsi_session_add_conn(struct iscsi_session *sess, struct iscsi_conn *conn);
/* The session's connection with CID @cid, or NULL. */
struct iscsi_conn *iscsi_session_conn_by_cid(struct iscsi_session *sess, uint16_t cid);
/* @conn has closed: it leaves the session, its requests still waiting
 * for their CmdSN are dropped; with it the last, the session ends (its
 * nexus is unregistered, and it is freed once the core is done). */
void iscsi_session_conn_closed(struct iscsi_session *sess, struct iscsi_conn *conn);
/* Closes every connection of the session (reinstatement, management),
 * and ends the tasks kept for recovery. */
void iscsi_session_close_conns(struct iscsi_session *sess, const char *why);
/* Ends the session if it has no connection left, live or kept for
 * recovery (its nexus is unregistered, and it is freed once the core is
 * done). */
void iscsi_session_end_if_unused(struct iscsi_session *sess);

/* ------------------------------------------------------------------ */
/* session_recovery.c: ErrorRecoveryLevel 2 (docs/iscsi_erl.md). */

/* Whether @conn, closing now, keeps its tasks for another connection. */
bool iscsi_session_keeps_tasks(const struct iscsi_conn *conn);
/* @conn has closed and keeps its tasks: it moves to failed_conns. */
void iscsi_session_conn_failed(struct iscsi_session *sess, struct iscsi_conn *conn);
/* Once a second: kept connections whose time is up (or whose target is
 * disabled, or the daemon ends) end their tasks and go. */
void iscsi_session_recovery_tick(struct iscsi_session *sess);
/* @conn (kept) ends its tasks and leaves; the session may end with it. */
void iscsi_session_recovery_expire(struct iscsi_session *sess, struct iscsi_conn *conn,
				   const char *why);
/* @conn (kept) goes if no task of it is left (all reassigned). */
void iscsi_session_recovery_done_if_empty(struct iscsi_session *sess, struct iscsi_conn *conn);
/* The daemon ends: nothing is kept for recovery any more. */
void iscsi_session_recovery_stop_all(void);

void iscsi_session_add_task(struct iscsi_session *sess, struct iscsi_task *t);
void iscsi_session_remove_task(struct iscsi_session *sess, struct iscsi_task *t);
/* The task with Initiator Task Tag @itt, or NULL. */
struct iscsi_task *iscsi_session_find_task(struct iscsi_session *sess, uint32_t itt);

/* ------------------------------------------------------------------ */
/* session_registry.c: every session of the daemon, TSIHs, reinstatement. */

/* Gives @sess a TSIH and lists it, if its target's session caps
 * (MaxSessions, MaxSessionsPerInitiator) leave room; else returns -1 with
 * the reason in @why. */
int iscsi_registry_add(struct iscsi_session *sess, const struct iscsi_target_params *tp,
		       char *why, size_t whylen);
/* Unlists @sess, which is being freed, and tells a login waiting for it. */
void iscsi_registry_remove(struct iscsi_session *sess);
/* Does a session with TSIH @tsih exist? */
bool iscsi_session_tsih_exists(uint16_t tsih);
/* The reactor of the session with TSIH @tsih, or NULL. */
struct reactor *iscsi_session_reactor_of(uint16_t tsih);
/* The session with TSIH @tsih if it lives on the calling reactor, else
 * NULL. Good until the caller returns to its reactor (sessions are freed
 * only from a message on their own reactor). */
struct iscsi_session *iscsi_session_find_here(uint16_t tsih);
/* Session reinstatement (RFC 7143 6.3.5): closes every older session of
 * @initiator with @isid on @conn's target and makes @conn's login wait
 * until each is freed, that is until all of its commands have finished,
 * so that nothing the old session started can land after what the new
 * one does. Each freed predecessor has @gone(conn) run on @conn's
 * reactor, with the reference on @conn this takes for it. Returns how
 * many to wait for (0: go on now), or -1 if another login already waits
 * for one of them. */
int iscsi_session_reinstate(struct iscsi_conn *conn, const char *initiator, const uint8_t *isid,
			    bool discovery, void (*gone)(struct iscsi_conn *conn));
/* A login waiting for older sessions is going away (its connection
 * closed): the sessions it waited for forget it, so that the next login
 * of the same initiator and ISID may reinstate them. */
void iscsi_session_forget_successor(struct iscsi_conn *conn);

/* ------------------------------------------------------------------ */
/* cmdsn.c: the CmdSN window and the ordered queue. */

/* The window a login opens: ExpCmdSN from the login's CmdSN, @window
 * (QueuedCommands) slots, so MaxCmdSN as the final Login Response says. */
void iscsi_session_window_init(struct iscsi_session *sess, uint32_t exp_cmd_sn, uint32_t window);
/* How a PDU carrying a CmdSN stands, judged from its header. */
enum iscsi_cmdsn_admit {
	CMDSN_IMMEDIATE, /* I bit: runs once whole, takes no number */
	CMDSN_DUE,       /* equal to ExpCmdSN */
	CMDSN_LATER,     /* inside the window but ahead: it will wait */
	CMDSN_OUTSIDE,   /* outside the window: dropped silently */
	CMDSN_CONSUMED,  /* a TMF declared it received and aborted: dropped silently */
	CMDSN_TAKEN,     /* another PDU waits with this number: protocol error */
};
enum iscsi_cmdsn_admit iscsi_session_admit(const struct iscsi_session *sess,
					   const uint8_t *bhs);
/* @p's PDU (admitted, and now whole) takes its place: an immediate one or
 * one whose number has come runs now (ExpCmdSN moves first), and then
 * whatever became due behind it; one ahead waits. @p->cmd_sn and ops are
 * set. */
enum iscsi_order {
	ORDER_RAN,      /* its due op ran: @p may be freed */
	ORDER_HELD,     /* it waits in the queue */
	/* Its number is no longer free (another connection's PDU took it
	 * while this one's data arrived, or it left the window): nothing
	 * ran, the caller ends it as a protocol error. */
	ORDER_REFUSED,
};
enum iscsi_order iscsi_session_order(struct iscsi_session *sess, struct iscsi_pending *p,
				     bool immediate);
/* A number is used up with nothing to run: a held command leaving its
 * place (aborted), or a command a TMF declared received (RFC 7143 11.5.1
 * b). If it is the one due, ExpCmdSN moves and what waited behind runs.
 * Returns -1 on allocation failure. */
int iscsi_session_consume_cmdsn(struct iscsi_session *sess, uint32_t cmd_sn);
/* Takes held @p out of the queue (its owner is ending it). */
void iscsi_session_unhold(struct iscsi_session *sess, struct iscsi_pending *p);
/* Is @cmd_sn held (a PDU, or a consumed number, waits with it)? */
bool iscsi_session_cmdsn_held(const struct iscsi_session *sess, uint32_t cmd_sn);
/* Does @cmd_sn lie in [ExpCmdSN, MaxCmdSN]? */
bool iscsi_session_cmdsn_in_window(const struct iscsi_session *sess, uint32_t cmd_sn);
/* Seconds the oldest waiting entry has waited, counting this tick. */
unsigned iscsi_session_pending_tick(struct iscsi_session *sess);
/* @conn is closing: its requests that wait are discarded (and, once it
 * is the last connection, the consumed numbers with them). */
void iscsi_session_drop_pending(struct iscsi_session *sess, const struct iscsi_conn *conn);
/* A SCSI command counts against the window from the moment its number
 * comes (or it arrives, immediate) until its status is queued. */
void iscsi_session_window_take(struct iscsi_session *sess);
void iscsi_session_window_release(struct iscsi_session *sess);
/* MaxCmdSN to tell the initiator now: ExpCmdSN + (QueuedCommands -
 * commands due and not finished) - 1, never less than what was told
 * before. Records it as told. */
uint32_t iscsi_session_max_cmd_sn(struct iscsi_session *sess);
/* Sets ExpCmdSN/MaxCmdSN in a response header. */
void iscsi_session_stamp_cmdsn(struct iscsi_session *sess, uint8_t *bhs);

#endif
