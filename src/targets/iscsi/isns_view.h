/* What the iSNS client registers: a snapshot of the driver's enabled
 * targets (name, alias, portal group tag, the portals they are offered
 * on) and of its listening portals, compared with the last one to see
 * what changed. Built by the client thread (isns_client.c). */
#ifndef USCST_TARGETS_ISCSI_ISNS_VIEW_H
#define USCST_TARGETS_ISCSI_ISNS_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define ISNS_MAX_PORTALS 32
#define ISNS_NAME_MAX 224 /* iSCSI names are at most 223 bytes */

struct isns_node {
	char name[ISNS_NAME_MAX];
	char alias[256]; /* TargetAlias: at most 255 bytes (params.h) */
	uint16_t tpgt;
	uint32_t portal_mask; /* the view's portals the target is offered on */
};

struct isns_view {
	struct sockaddr_storage portals[ISNS_MAX_PORTALS];
	unsigned nportals;
	struct isns_node *nodes;
	unsigned nnodes, cap;
	bool oom;
};

/* Takes the snapshot (the registry under scst_mutex, the portals under
 * their lock). -1 when out of memory. Targets are in name order, and
 * every byte is set (padding too), so two views compare with memcmp. */
int isns_view_build(struct isns_view *v);
void isns_view_clear(struct isns_view *v);
bool isns_view_equal(const struct isns_view *a, const struct isns_view *b);
/* @dst becomes a copy of @src (what @dst held is freed); -1 when out of
 * memory, @dst then empty. */
int isns_view_copy(struct isns_view *dst, const struct isns_view *src);
const struct isns_node *isns_view_find(const struct isns_view *v, const char *name);
/* A portal's address as text, for allowed_portal patterns and logs. */
void isns_addr_string(const struct sockaddr_storage *ss, char *buf, size_t len);

#endif
