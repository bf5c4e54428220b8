/* Login phase (RFC 7143 6.3): stages, transitions, status codes. */
#ifndef USCST_TARGETS_ISCSI_LOGIN_H
#define USCST_TARGETS_ISCSI_LOGIN_H

#include <stdint.h>

struct iscsi_conn;
struct iscsi_login;

/* Login status, class << 8 | detail (RFC 7143 11.13.5). */
enum iscsi_login_status {
	LOGIN_OK = 0x0000,
	LOGIN_INITIATOR_ERROR = 0x0200,
	LOGIN_AUTH_FAILED = 0x0201,
	LOGIN_AUTHORIZATION_FAILED = 0x0202,
	LOGIN_NOT_FOUND = 0x0203,
	LOGIN_TARGET_REMOVED = 0x0204,
	LOGIN_UNSUPPORTED_VERSION = 0x0205,
	LOGIN_TOO_MANY_CONNECTIONS = 0x0206,
	LOGIN_MISSING_PARAMETER = 0x0207,
	LOGIN_CANT_INCLUDE_IN_SESSION = 0x0208,
	LOGIN_SESSION_TYPE_NOT_SUPPORTED = 0x0209,
	LOGIN_SESSION_DOES_NOT_EXIST = 0x020a,
	LOGIN_INVALID_DURING_LOGIN = 0x020b,
	LOGIN_TARGET_ERROR = 0x0300,
	LOGIN_SERVICE_UNAVAILABLE = 0x0301,
	LOGIN_OUT_OF_RESOURCES = 0x0302,
};

/* Login stages (CSG / NSG). */
enum iscsi_stage {
	STAGE_SECURITY = 0,
	STAGE_OPERATIONAL = 1,
	STAGE_FULL_FEATURE = 3,
};

/* Is going from @csg to @nsg allowed? */
static inline int iscsi_stage_transition_ok(unsigned csg, unsigned nsg)
{
	return (csg == STAGE_SECURITY && (nsg == STAGE_OPERATIONAL || nsg == STAGE_FULL_FEATURE)) ||
	       (csg == STAGE_OPERATIONAL && nsg == STAGE_FULL_FEATURE);
}

/* Seconds a login may take from accept to the full feature phase: the
 * RspTimeout of the target it names; before it has named one (or for a
 * discovery session) the longest RspTimeout of any target, so that no
 * login is cut shorter than its target would allow. */
unsigned iscsi_login_timeout(const struct iscsi_conn *conn);
/* A target with RspTimeout @seconds exists (driver.c, at attach). */
void iscsi_login_note_rsp_timeout(unsigned seconds);

/* Login phase: a Login Request PDU has arrived whole (header in
 * conn->rx.bhs, data in conn->rx.heap). */
void iscsi_login_rx(struct iscsi_conn *conn);
void iscsi_login_free(struct iscsi_login *login);

#endif
