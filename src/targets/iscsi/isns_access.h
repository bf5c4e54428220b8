/* iSNS access control's memory: for each target, the initiators the iSNS
 * server last said share a Discovery Domain with it (a DevAttrQry with
 * the target as source, isns.c). Written by the client thread, read by
 * logins and SendTargets on the reactors, under one leaf lock of its own
 * (never held while taking another). A target the server has not yet
 * answered for has no entry, and nobody may use it: access control fails
 * closed. An entry outlives a lost server (the Discovery Domains do not
 * change while it is away), until the settings change. */
#ifndef USCST_TARGETS_ISCSI_ISNS_ACCESS_H
#define USCST_TARGETS_ISCSI_ISNS_ACCESS_H

#include <stdbool.h>
#include <stddef.h>

/* The server's answer for @tgt_name: @n initiator names (copied). -1 when
 * out of memory (the old answer stays). */
int isns_access_set(const char *tgt_name, char *const *initiators, unsigned n);
/* Forgets every answer, and switches checking on or off. */
void isns_access_reset(bool enforce);
bool isns_access_allowed(const char *tgt_name, const char *initiator, char *why, size_t whylen);

#endif
