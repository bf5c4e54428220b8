/* Admission of TCP connections to the portals: the daemon-wide cap on
 * connections, and the cap on connections still logging in from one peer
 * address. A connection is counted from accept() until it closes, and in
 * its address's login count until it reaches the full feature phase. It is
 * known by its socket descriptor, which is unique while it is open.
 * Thread-safe (accept runs on reactor 0, logins and closes on every
 * reactor). The session caps (MaxSessions, MaxSessionsPerInitiator) are
 * per target and checked when the session is created, in session.c. */
#ifndef USCST_TARGETS_ISCSI_ADMISSION_H
#define USCST_TARGETS_ISCSI_ADMISSION_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "targets/iscsi/iscsi.h"

/* May connection @fd, just accepted from @peer, stay? Counts it if so;
 * else writes which cap it hit into @why. */
bool iscsi_admit(int fd, const struct sockaddr_storage *peer, char *why, size_t whylen);
/* Connection @fd has finished its login: it no longer counts against its
 * address's login cap. */
void iscsi_admission_login_done(int fd);
/* Connection @fd is closing (called before close(fd)). */
void iscsi_admission_release(int fd);

#endif
