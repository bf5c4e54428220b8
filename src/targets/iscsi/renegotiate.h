/* AsyncEvent 4 (RFC 7143 11.9.1): the target asks an initiator to
 * negotiate again, in the full feature phase, on one connection.
 *
 * uscst needs it when management changes a live target's
 * MaxRecvDataSegmentLength (target.set_attr, a reload): each
 * full-feature connection of the target's sessions is told, with
 * Parameter3 = logout_timeout seconds to start a Text exchange (an empty
 * one will do); the exchange's first response declares the new value,
 * which holds once the exchange is over (text.c). An initiator that
 * starts none in time has broken the RFC's "MUST honor": its connection
 * is dropped with AsyncEvent 2. MaxXmitDataSegmentLength, our own cap on
 * what we send, applies at once and needs no request.
 *
 * With logout_timeout 0 nothing is asked: the new MaxRecvDataSegmentLength
 * reaches new connections only (and any Text exchange a connection
 * starts on its own).
 *
 * Management may also ask one session (session.renegotiate). */
#ifndef USCST_TARGETS_ISCSI_RENEGOTIATE_H
#define USCST_TARGETS_ISCSI_RENEGOTIATE_H

#include <stdint.h>

struct iscsi_conn;
struct iscsi_session;
struct scst_tgt;

/* The limits of @tgt became @max_recv_dsl / @max_xmit_dsl: every reactor
 * updates its connections of @tgt and asks them (any thread; scst_mutex
 * may be held: nothing waits). */
void iscsi_renegotiate_target(struct scst_tgt *tgt, uint32_t max_recv_dsl,
			      uint32_t max_xmit_dsl);

/* Management asks @sess to renegotiate (session.renegotiate): each of
 * its full-feature connections is asked as above, even with nothing
 * changed (its next exchange declares our MaxRecvDataSegmentLength
 * again), with Parameter3 = logout_timeout, or 5 s when that is 0. On
 * the session's reactor. */
void iscsi_renegotiate_session(struct iscsi_session *sess, const char *why);

/* Once a second for a full-feature connection: one that was asked and
 * has not begun a Text exchange in time is dropped. */
void iscsi_renegotiate_tick(struct iscsi_conn *conn);

#endif
