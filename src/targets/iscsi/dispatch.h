/* Where a PDU goes (dispatch.c): the table of initiator opcodes, each
 * with the phases it is taken in and its handlers, and the connection
 * upcalls (struct iscsi_conn_ops) that route each PDU through the
 * session's ordering to its handler. */
#ifndef USCST_TARGETS_ISCSI_DISPATCH_H
#define USCST_TARGETS_ISCSI_DISPATCH_H

#include "targets/iscsi/conn.h"

/* The upcalls every iSCSI connection is started with. */
extern const struct iscsi_conn_ops iscsi_pdu_ops;

/* Serves a just-accepted socket on the calling reactor. */
void iscsi_accept(int fd, struct reactor *r);

#endif
