/* Listening portals: sockets bound to the addresses given with --listen,
 * watched on reactor 0; each accepted connection is handed to a reactor
 * chosen round-robin, where it lives until it closes. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/log.h"
#include "targets/iscsi/conn.h"
#include "targets/iscsi/iscsi.h"

struct portal {
	int fd;
	char name[96];
	struct reactor_fd watch;
	struct list_head entry;
};

/* Portals are added by the daemon's thread and used on reactor 0. */
static pthread_mutex_t portals_lock = PTHREAD_MUTEX_INITIALIZER;
static struct list_head portals = LIST_HEAD_INIT(portals);

/* Splits "host:port", "[v6]:port", "host", "[v6]" or a bare IPv6 address. */
static int split_addr(const char *addr_port, char *host, size_t hostlen, char *port,
		      size_t portlen)
{
	const char *colon;
	snprintf(port, portlen, "%d", ISCSI_DEFAULT_PORT);
	if (addr_port[0] == '[') {
		const char *close = strchr(addr_port, ']');
		if (!close || (size_t)(close - addr_port - 1) >= hostlen)
			return -1;
		memcpy(host, addr_port + 1, (size_t)(close - addr_port - 1));
		host[close - addr_port - 1] = '\0';
		if (close[1] == ':')
			snprintf(port, portlen, "%s", close + 2);
		else if (close[1] != '\0')
			return -1;
		return 0;
	}
	colon = strchr(addr_port, ':');
	if (colon && !strchr(colon + 1, ':')) {
		if ((size_t)(colon - addr_port) >= hostlen)
			return -1;
		memcpy(host, addr_port, (size_t)(colon - addr_port));
		host[colon - addr_port] = '\0';
		snprintf(port, portlen, "%s", colon + 1);
		return 0;
	}
	if (strlen(addr_port) >= hostlen)
		return -1;
	snprintf(host, hostlen, "%s", addr_port);
	return 0;
}

/* A TCP port written as a decimal number in 1..65535 (getaddrinfo would
 * take service names and wrap large numbers). */
static bool valid_port(const char *port)
{
	unsigned long v = 0;
	if (!*port || strlen(port) > 5)
		return false;
	for (const char *p = port; *p; p++) {
		if (*p < '0' || *p > '9')
			return false;
		v = v * 10 + (unsigned long)(*p - '0');
	}
	return v >= 1 && v <= 65535;
}

struct new_conn {
	int fd;
	struct reactor *r;
};

static void start_conn(void *arg)
{
	struct new_conn *nc = arg;
	iscsi_conn_start(nc->fd, nc->r);
	free(nc);
}

static void portal_on_ready(struct reactor_fd *w, uint32_t events)
{
	struct portal *p = container_of(w, struct portal, watch);
	for (;;) {
		int fd = accept4(p->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				log_warn("iSCSI: accept on %s: %s", p->name, strerror(errno));
			return;
		}
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		struct new_conn *nc = malloc(sizeof(*nc));
		if (!nc) {
			close(fd);
			continue;
		}
		nc->fd = fd;
		nc->r = reactor_pick();
		if (reactor_post(nc->r, start_conn, nc) != 0) {
			close(fd);
			free(nc);
		}
	}
}

static void portal_watch(void *arg)
{
	struct portal *p = arg;
	p->watch.on_ready = portal_on_ready;
	if (reactor_fd_add(reactor_self(), &p->watch, p->fd, EPOLLIN) != 0)
		log_error("iSCSI: cannot watch portal %s", p->name);
}

static int open_socket(const struct addrinfo *ai, char *err, size_t errlen, const char *what)
{
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
			ai->ai_protocol);
	if (fd < 0) {
		snprintf(err, errlen, "%s: socket: %s", what, strerror(errno));
		return -1;
	}
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ai->ai_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 128) != 0) {
		snprintf(err, errlen, "%s: %s", what, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

int iscsi_listen(const char *addr_port, char *err, size_t errlen)
{
	char host[80], port[16];
	if (split_addr(addr_port, host, sizeof(host), port, sizeof(port)) < 0 || !valid_port(port)) {
		snprintf(err, errlen, "bad listen address '%s': expected ADDR, ADDR:PORT or [IPV6]:PORT "
			 "with PORT in 1..65535", addr_port);
		return -1;
	}
	struct addrinfo hints = {
		.ai_family = AF_UNSPEC,
		.ai_socktype = SOCK_STREAM,
		.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV,
	}, *res;
	int rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0) {
		snprintf(err, errlen, "bad listen address '%s': %s", addr_port, gai_strerror(rc));
		return -1;
	}
	int fd = open_socket(res, err, errlen, addr_port);
	freeaddrinfo(res);
	if (fd < 0)
		return -1;
	struct portal *p = calloc(1, sizeof(*p));
	if (!p) {
		close(fd);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	p->fd = fd;
	snprintf(p->name, sizeof(p->name), "%s", addr_port);
	pthread_mutex_lock(&portals_lock);
	list_add_tail(&p->entry, &portals);
	pthread_mutex_unlock(&portals_lock);
	if (reactor_post(reactor_by_index(0), portal_watch, p) != 0) {
		snprintf(err, errlen, "cannot post to reactor 0");
		return -1;
	}
	log_info("iSCSI: listening on %s", addr_port);
	return 0;
}

static void close_portals(void *arg)
{
	if (reactor_self() != reactor_by_index(0))
		return;
	pthread_mutex_lock(&portals_lock);
	while (!list_empty(&portals)) {
		struct portal *p = list_first_entry(&portals, struct portal, entry);
		list_del(&p->entry);
		reactor_fd_remove(&p->watch);
		close(p->fd);
		free(p);
	}
	pthread_mutex_unlock(&portals_lock);
}

void iscsi_stop_listening(void)
{
	reactor_run_on_all(close_portals, NULL);
}
