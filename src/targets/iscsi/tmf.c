/* Task Management Function requests (RFC 7143 11.5, 11.6), handed to the
 * core with scst_rx_mgmt_fn(); the response goes out when the core calls
 * task_mgmt_fn_done. */
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "core/scst.h"
#include "targets/iscsi/cmd.h"
#include "targets/iscsi/conn.h"
#include "targets/iscsi/requests.h"
#include "targets/iscsi/session.h"

/* iSCSI function codes: RFC 7143 11.5.1 (1..8) and RFC 7144 4.1.2, which
 * maps SAM-5's newer functions (9..12). */
enum iscsi_tmf_fn {
	ISCSI_TMF_ABORT_TASK = 1,
	ISCSI_TMF_ABORT_TASK_SET = 2,
	ISCSI_TMF_CLEAR_ACA = 3,
	ISCSI_TMF_CLEAR_TASK_SET = 4,
	ISCSI_TMF_LUN_RESET = 5,
	ISCSI_TMF_TARGET_WARM_RESET = 6,
	ISCSI_TMF_TARGET_COLD_RESET = 7,
	ISCSI_TMF_TASK_REASSIGN = 8,
	ISCSI_TMF_QUERY_TASK = 9,
	ISCSI_TMF_QUERY_TASK_SET = 10,
	ISCSI_TMF_I_T_NEXUS_RESET = 11,
	ISCSI_TMF_QUERY_ASYNC_EVENT = 12,
};

/* iSCSI response codes. */
enum iscsi_tmf_rsp {
	TMF_RSP_COMPLETE = 0,
	TMF_RSP_NO_TASK = 1,
	TMF_RSP_NO_LUN = 2,
	TMF_RSP_TASK_ALLEGIANT = 3,
	TMF_RSP_NO_REASSIGN = 4,
	TMF_RSP_NOT_SUPPORTED = 5,
	TMF_RSP_AUTH_FAILED = 6,
	TMF_RSP_SUCCEEDED = 7, /* RFC 7144: the QUERY functions' "yes" */
	TMF_RSP_REJECTED = 255,
};

/* TMF Response bytes 8..10, where RFC 7143 had reserved bytes: SAM-5's
 * ADDITIONAL RESPONSE INFORMATION (RFC 7144), which QUERY ASYNCHRONOUS
 * EVENT fills. FreeBSD's target and initiator read it there too. */
#define TMF_RSP_OFF_ADD_INFO 8

struct tmf_req {
	struct iscsi_conn *conn;
	uint32_t itt;
	/* ABORT TASK: RefCmdSN names a command that never arrived (a hole in
	 * the CmdSN window before this request), RFC 7143 11.5.1 b). */
	bool ref_cmd_sn_in_window;
};

/* @close_why: the connection closes once the response has left. */
static void send_tmf_rsp(struct iscsi_conn *conn, uint32_t itt, uint8_t response,
			 const uint8_t add_info[3], const char *close_why)
{
	struct iscsi_tx_pdu *pdu = iscsi_tx_alloc();
	if (!pdu) {
		iscsi_conn_close(conn, "out of memory");
		return;
	}
	pdu_init(pdu->hdr, ISCSI_OP_TMF_RSP, ISCSI_FLAG_FINAL);
	pdu->hdr[2] = response;
	put_be32(pdu->hdr + ISCSI_OFF_ITT, itt);
	if (add_info)
		memcpy(pdu->hdr + TMF_RSP_OFF_ADD_INFO, add_info, 3);
	pdu->close_after = close_why != NULL;
	pdu->close_why = close_why;
	iscsi_conn_queue(conn, pdu, TX_SN_STATUS);
}

static bool map_fn(uint8_t fn, enum scst_tmf *out)
{
	switch (fn) {
	case ISCSI_TMF_ABORT_TASK:
		*out = SCST_TMF_ABORT_TASK;
		return true;
	case ISCSI_TMF_ABORT_TASK_SET:
		*out = SCST_TMF_ABORT_TASK_SET;
		return true;
	case ISCSI_TMF_CLEAR_TASK_SET:
		*out = SCST_TMF_CLEAR_TASK_SET;
		return true;
	case ISCSI_TMF_LUN_RESET:
		*out = SCST_TMF_LUN_RESET;
		return true;
	case ISCSI_TMF_TARGET_WARM_RESET:
		*out = SCST_TMF_TARGET_RESET;
		return true;
	case ISCSI_TMF_TARGET_COLD_RESET:
		*out = SCST_TMF_TARGET_COLD_RESET;
		return true;
	case ISCSI_TMF_CLEAR_ACA:
		*out = SCST_TMF_CLEAR_ACA;
		return true;
	case ISCSI_TMF_QUERY_TASK:
		*out = SCST_TMF_QUERY_TASK;
		return true;
	case ISCSI_TMF_QUERY_TASK_SET:
		*out = SCST_TMF_QUERY_TASK_SET;
		return true;
	case ISCSI_TMF_I_T_NEXUS_RESET:
		*out = SCST_TMF_I_T_NEXUS_RESET;
		return true;
	case ISCSI_TMF_QUERY_ASYNC_EVENT:
		*out = SCST_TMF_QUERY_ASYNC_EVENT;
		return true;
	default:
		return false;
	}
}

/* TASK REASSIGN (RFC 7143 11.5.1, 7.2.2): the task of a connection kept
 * for recovery goes on here; at ErrorRecoveryLevel below 2 it is refused
 * with 4 (allegiance reassignment not supported). The response goes out
 * before anything the task sends on its new connection. */
static void task_reassign(struct iscsi_conn *conn, const uint8_t *req)
{
	struct iscsi_cmd *icmd = NULL;
	uint8_t rsp = TMF_RSP_NO_REASSIGN;
	if (conn->params.error_recovery_level >= 2)
		rsp = iscsi_cmd_reassign(conn, get_be32(req + ISCSI_OFF_TTT), &icmd);
	send_tmf_rsp(conn, pdu_itt(req), rsp, NULL, NULL);
	if (icmd && !conn->closed)
		iscsi_cmd_resume_reassigned(icmd, get_be32(req + 36) /* ExpDataSN */);
}

void iscsi_tmf_rx(struct iscsi_conn *conn, struct iscsi_req *r)
{
	const uint8_t *req = r->bhs;
	uint8_t fn = req[1] & 0x7f;
	uint32_t itt = pdu_itt(req);
	enum scst_tmf tmf;
	if (fn == ISCSI_TMF_TASK_REASSIGN) {
		task_reassign(conn, req);
		return;
	}
	if (!map_fn(fn, &tmf)) {
		send_tmf_rsp(conn, itt, TMF_RSP_NOT_SUPPORTED, NULL, NULL);
		return;
	}
	struct tmf_req *tr = calloc(1, sizeof(*tr));
	if (!tr) {
		iscsi_conn_close(conn, "out of memory");
		return;
	}
	tr->conn = conn;
	tr->itt = itt;
	struct iscsi_session *sess = conn->sess;
	uint32_t ref_cmd_sn = get_be32(req + 32), cmd_sn = get_be32(req + 24);
	tr->ref_cmd_sn_in_window = iscsi_session_cmdsn_in_window(sess, ref_cmd_sn) &&
				   sn_lt(ref_cmd_sn, cmd_sn);
	uint64_t lun = pdu_lun_decode(req + ISCSI_OFF_LUN);
	uint32_t rtt = get_be32(req + ISCSI_OFF_TTT); /* Referenced Task Tag */
	/* RFC 7143 11.5.1 b): a command that never arrived, with its CmdSN
	 * in the window, is considered received: its number is consumed,
	 * and if it comes after all, it is dropped. */
	/* QUERY TASK names its task as ABORT TASK does; only ABORT TASK
	 * consumes a number that never arrived. */
	if (tmf != SCST_TMF_ABORT_TASK && tmf != SCST_TMF_QUERY_TASK)
		tr->ref_cmd_sn_in_window = false;
	bool consume = tmf == SCST_TMF_ABORT_TASK && tr->ref_cmd_sn_in_window &&
		       !iscsi_cmd_find(sess, rtt) && !iscsi_session_cmdsn_held(sess, ref_cmd_sn);
	iscsi_conn_get(conn);
	/* The core's "tmf:" line names the function, initiator, target and
	 * LUN for the administrator; this is the wire's view. */
	log_debug("iSCSI: %s (%s): task management function %u, LUN %llu, task 0x%x", conn->peer,
		  iscsi_conn_initiator(conn), fn, (unsigned long long)lun, rtt);
	if (!scst_rx_mgmt_fn(sess->scst, tmf, lun, rtt, tr)) {
		iscsi_conn_put(conn);
		free(tr);
		iscsi_conn_close(conn, "out of memory");
		return;
	}
	/* Once the core has the function: the number the never-arrived
	 * command would have had is used up; if it is the one due, ExpCmdSN
	 * moves and whatever waited behind it runs. */
	if (consume && !conn->closed && iscsi_session_consume_cmdsn(sess, ref_cmd_sn) != 0)
		iscsi_conn_close(conn, "out of memory");
}

static uint8_t map_status(const struct tmf_req *tr, enum scst_tmf_status status)
{
	switch (status) {
	case SCST_TMF_STATUS_COMPLETE:
		return TMF_RSP_COMPLETE;
	case SCST_TMF_STATUS_SUCCEEDED:
		return TMF_RSP_SUCCEEDED;
	case SCST_TMF_STATUS_TASK_NOT_EXIST:
		/* RFC 7143 11.5.1: b) a command that never arrived, whose
		 * CmdSN lies in the window, counts as received and aborted;
		 * c) one outside the window (it completed, or never will
		 * come) does not exist. */
		return tr->ref_cmd_sn_in_window ? TMF_RSP_COMPLETE : TMF_RSP_NO_TASK;
	case SCST_TMF_STATUS_LUN_NOT_EXIST:
		return TMF_RSP_NO_LUN;
	case SCST_TMF_STATUS_NOT_SUPPORTED:
		return TMF_RSP_NOT_SUPPORTED;
	case SCST_TMF_STATUS_REJECTED:
		return TMF_RSP_REJECTED;
	}
	return TMF_RSP_REJECTED;
}

/* TARGET COLD RESET ends every session of the target (RFC 7143 11.5.1:
 * the target then closes all its TCP connections to all initiators). One
 * of these goes to each reactor; the connection that asked closes itself
 * once its response has left. */
struct cold_reset_close {
	struct reactor_msg msg;
	struct scst_tgt *tgt;         /* compared, never followed */
	struct iscsi_conn *requester; /* held, on its own reactor's message only */
};

static void cold_reset_close_here(struct reactor_msg *m)
{
	struct cold_reset_close *c = container_of(m, struct cold_reset_close, msg);
	iscsi_conns_close_on_this_reactor_except(c->tgt, c->requester, "TARGET COLD RESET");
	if (c->requester)
		iscsi_conn_put(c->requester);
	free(c);
}

static void cold_reset_close_all(struct iscsi_conn *conn)
{
	for (unsigned i = 0; i < reactor_count(); i++) {
		struct reactor *r = reactor_by_index(i);
		struct cold_reset_close *c = calloc(1, sizeof(*c));
		if (!c) {
			log_error("iSCSI: out of memory: TARGET COLD RESET leaves the connections of "
				  "reactor %u open", i);
			continue;
		}
		c->tgt = conn->tgt;
		if (r == conn->reactor) {
			c->requester = conn;
			iscsi_conn_get(conn);
		}
		reactor_send(r, &c->msg, cold_reset_close_here);
	}
}

void iscsi_task_mgmt_fn_done(struct scst_mgmt_cmd *mcmd)
{
	struct tmf_req *tr = mcmd->tgt_priv;
	struct iscsi_conn *conn = tr->conn;
	if (!conn->closed) {
		bool cold = mcmd->fn == SCST_TMF_TARGET_COLD_RESET &&
			    mcmd->status == SCST_TMF_STATUS_COMPLETE;
		send_tmf_rsp(conn, tr->itt, map_status(tr, mcmd->status),
			     mcmd->fn == SCST_TMF_QUERY_ASYNC_EVENT ? mcmd->add_resp_info : NULL,
			     cold ? "TARGET COLD RESET" : NULL);
		iscsi_conn_flush_soon(conn);
		if (cold)
			cold_reset_close_all(conn);
	}
	iscsi_conn_put(conn);
	free(tr);
	scst_mgmt_cmd_free(mcmd);
}
