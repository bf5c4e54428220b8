/* What the iSNS client registers: see isns_view.h. */
#include "targets/iscsi/isns_view.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "targets/iscsi/iscsi.h"
#include "targets/iscsi/isns.h"
#include "targets/iscsi/portal_access.h"

void isns_view_clear(struct isns_view *v)
{
	free(v->nodes);
	memset(v, 0, sizeof(*v));
}

void isns_addr_string(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	const void *a = ss->ss_family == AF_INET6
				? (const void *)&((const struct sockaddr_in6 *)ss)->sin6_addr
				: (const void *)&((const struct sockaddr_in *)ss)->sin_addr;
	if (!inet_ntop(ss->ss_family, a, buf, (socklen_t)len))
		snprintf(buf, len, "?");
}

static void view_add_target(const struct iscsi_isns_target *tgt, void *ctx)
{
	struct isns_view *v = ctx;

	if (strlen(tgt->name) >= ISNS_NAME_MAX)
		return;
	if (v->nnodes == v->cap) {
		unsigned cap = v->cap ? 2 * v->cap : 8;
		struct isns_node *n = realloc(v->nodes, cap * sizeof(*n));
		if (!n) {
			v->oom = true;
			return;
		}
		v->nodes = n;
		v->cap = cap;
	}
	struct isns_node *n = &v->nodes[v->nnodes++];
	memset(n, 0, sizeof(*n));
	snprintf(n->name, sizeof(n->name), "%s", tgt->name);
	snprintf(n->alias, sizeof(n->alias), "%s", tgt->alias);
	n->tpgt = tgt->tpgt;
	for (unsigned i = 0; i < v->nportals; i++) {
		char ip[INET6_ADDRSTRLEN];
		isns_addr_string(&v->portals[i], ip, sizeof(ip));
		if (iscsi_portal_allowed(tgt->portals, ip))
			n->portal_mask |= 1u << i;
	}
}

static int node_cmp(const void *a, const void *b)
{
	return strcmp(((const struct isns_node *)a)->name, ((const struct isns_node *)b)->name);
}

int isns_view_build(struct isns_view *v)
{
	memset(v, 0, sizeof(*v));
	v->nportals = iscsi_portal_addrs(v->portals, ISNS_MAX_PORTALS);
	iscsi_isns_each_target(view_add_target, v);
	if (v->oom) {
		isns_view_clear(v);
		return -1;
	}
	if (v->nnodes)
		qsort(v->nodes, v->nnodes, sizeof(*v->nodes), node_cmp);
	return 0;
}

bool isns_view_equal(const struct isns_view *a, const struct isns_view *b)
{
	return a->nportals == b->nportals && a->nnodes == b->nnodes &&
	       memcmp(a->portals, b->portals, a->nportals * sizeof(a->portals[0])) == 0 &&
	       (a->nnodes == 0 || memcmp(a->nodes, b->nodes, a->nnodes * sizeof(a->nodes[0])) == 0);
}

int isns_view_copy(struct isns_view *dst, const struct isns_view *src)
{
	isns_view_clear(dst);
	*dst = *src;
	dst->nodes = NULL;
	dst->cap = src->nnodes;
	if (src->nnodes) {
		dst->nodes = malloc(src->nnodes * sizeof(*src->nodes));
		if (!dst->nodes) {
			memset(dst, 0, sizeof(*dst));
			return -1;
		}
		memcpy(dst->nodes, src->nodes, src->nnodes * sizeof(*src->nodes));
	}
	return 0;
}

const struct isns_node *isns_view_find(const struct isns_view *v, const char *name)
{
	for (unsigned i = 0; i < v->nnodes; i++)
		if (strcmp(v->nodes[i].name, name) == 0)
			return &v->nodes[i];
	return NULL;
}
