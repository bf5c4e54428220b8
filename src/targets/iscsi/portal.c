/* Listening portals: sockets bound to the addresses given with --listen,
 * watched on reactor 0; each accepted connection passes admission (the
 * daemon-wide caps, admission.c) and is handed to the reactor with the
 * fewest connections (reactor_place(); docs/scale.md), where it lives
 * until it closes or moves to its session's. When accept() runs out of
 * descriptors the portal stops being watched for a while (a level-
 * triggered watch would otherwise fire again at once, for ever). */
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
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/log.h"
#include "targets/iscsi/admission.h"
#include "targets/iscsi/dispatch.h"
#include "targets/iscsi/iscsi.h"

/* Pauses of a portal whose accept() found no free descriptor: the first
 * one short, since a burst of closes may free some at once, then doubling
 * up to a second, so that a lasting shortage costs one attempt a second. */
#define BACKOFF_FIRST_MS 100
#define BACKOFF_MAX_MS 1000

struct portal {
	int fd;
	char name[96];            /* as given to --listen */
	/* Where it is bound, written as conn.c writes a connection's local
	 * address ("127.0.0.1:3260", "[::1]:3260"), and the address
	 * initiators reach it at through a NAT or port forward ("" when
	 * they reach it where it is bound): --listen LOCAL=ADVERTISED. */
	char local[96];
	char advertised[96];
	bool wildcard;            /* bound to 0.0.0.0 or ::: any local address */
	struct reactor_fd watch;
	/* Sent to reactor 0 once, to start watching (portal_watch()). */
	struct reactor_msg watch_msg;
	struct list_head entry;
	/* Out of descriptors: not watched until backoff_op completes (an
	 * io_uring timeout on reactor 0's ring); backoff_ms is the pause
	 * now, 0 when accept() last worked. */
	bool backing_off;
	bool closing;             /* closed while backing off: freed by the timeout */
	unsigned backoff_ms;
	unsigned long backoff_refusals; /* accept() failures in this episode */
	struct __kernel_timespec backoff_ts;
	struct reactor_op backoff_op;
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

/* An accepted socket on its way to the reactor it will live on:
 * iscsi_accept() must run there. */
struct new_conn {
	struct reactor_msg msg;
	int fd;
};

static void start_conn(struct reactor_msg *m)
{
	struct new_conn *nc = container_of(m, struct new_conn, msg);
	iscsi_accept(nc->fd, reactor_self());
	free(nc);
}

static void portal_on_ready(struct reactor_fd *w, uint32_t events);

static void portal_free(struct portal *p)
{
	close(p->fd);
	free(p);
}

static void portal_backoff_done(struct reactor_op *op, int res)
{
	struct portal *p = container_of(op, struct portal, backoff_op);
	p->backing_off = false;
	if (p->closing) {
		portal_free(p);
		return;
	}
	if (reactor_fd_add(reactor_self(), &p->watch, p->fd, EPOLLIN) != 0)
		log_error("iSCSI: cannot watch portal %s again; it accepts no more connections",
			  p->name);
}

/* accept() found no descriptor (EMFILE: ours are all open; ENFILE: the
 * system's). The pending connections wait in the listen backlog; the
 * portal is looked at again after a pause. Logged once per episode. */
static void portal_back_off(struct portal *p, int err)
{
	struct reactor *r = reactor_self();
	p->backoff_refusals++;
	if (!p->backoff_ms) {
		struct rlimit rl = { 0, 0 };
		getrlimit(RLIMIT_NOFILE, &rl);
		log_warn("iSCSI: accept on %s: %s (open-file limit %llu); not accepting for a "
			 "while, retrying every %u..%u ms until descriptors are free",
			 p->name, strerror(err), (unsigned long long)rl.rlim_cur, BACKOFF_FIRST_MS,
			 BACKOFF_MAX_MS);
		p->backoff_ms = BACKOFF_FIRST_MS;
	} else if (p->backoff_ms < BACKOFF_MAX_MS) {
		p->backoff_ms = p->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS
								    : p->backoff_ms * 2;
	}
	reactor_fd_remove(&p->watch);
	p->backing_off = true;
	p->backoff_ts.tv_sec = p->backoff_ms / 1000;
	p->backoff_ts.tv_nsec = (long long)(p->backoff_ms % 1000) * 1000000;
	p->backoff_op.done = portal_backoff_done;
	struct io_uring_sqe *sqe = reactor_get_sqe(r);
	io_uring_prep_timeout(sqe, &p->backoff_ts, 0, 0);
	io_uring_sqe_set_data(sqe, &p->backoff_op);
}

/* accept() works again after a shortage. */
static void portal_backoff_over(struct portal *p)
{
	log_info("iSCSI: accepting on %s again (%lu accept attempts found no descriptor)",
		 p->name, p->backoff_refusals);
	p->backoff_ms = 0;
	p->backoff_refusals = 0;
}

static void log_refused(const struct sockaddr_storage *ss, socklen_t sl, const char *why)
{
	char host[64] = "?", port[8] = "?";
	getnameinfo((const struct sockaddr *)ss, sl, host, sizeof(host), port, sizeof(port),
		    NI_NUMERICHOST | NI_NUMERICSERV);
	log_warn_rl("iSCSI: connection from %s port %s refused: %s", host, port, why);
}

static void portal_on_ready(struct reactor_fd *w, uint32_t events)
{
	struct portal *p = container_of(w, struct portal, watch);
	for (;;) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		int fd = accept4(p->fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			int err = errno;
			if (err == EINTR || err == ECONNABORTED)
				continue;
			if (err == EMFILE || err == ENFILE) {
				portal_back_off(p, err);
				return;
			}
			if (err != EAGAIN && err != EWOULDBLOCK)
				log_warn_rl("iSCSI: accept on %s: %s", p->name, strerror(err));
			return;
		}
		if (p->backoff_ms)
			portal_backoff_over(p);
		char why[160];
		if (!iscsi_admit(fd, &ss, why, sizeof(why))) {
			log_refused(&ss, sl, why);
			close(fd);
			continue;
		}
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		struct new_conn *nc = malloc(sizeof(*nc));
		if (!nc) {
			log_refused(&ss, sl, "out of memory");
			iscsi_admission_release(fd);
			close(fd);
			continue;
		}
		nc->fd = fd;
		reactor_send(reactor_place(), &nc->msg, start_conn);
	}
}

static void portal_watch(struct reactor_msg *m)
{
	struct portal *p = container_of(m, struct portal, watch_msg);
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

/* Writes @ss as "HOST:PORT" ("[HOST]:PORT" for IPv6), the form of
 * conn->local and of a redirect's address; false for another family. */
static bool format_sockaddr(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN];
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)ss;
		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		snprintf(buf, len, "%s:%u", host, ntohs(in->sin_port));
		return true;
	}
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)ss;
		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		snprintf(buf, len, "[%s]:%u", host, ntohs(in6->sin6_port));
		return true;
	}
	return false;
}

/* The ADVERTISED of "LOCAL=ADVERTISED": an IPv4 or bracketed IPv6
 * literal, with a port (3260 when not given), written canonically into
 * @out. A DNS name is
 * refused: a redirect naming one is never taken for a local portal
 * (docs/redirect.md), so it could never match. */
static int parse_advertised(const char *text, char *out, size_t outlen)
{
	char host[80], port[16];
	struct sockaddr_storage ss = { 0 };
	if (split_addr(text, host, sizeof(host), port, sizeof(port)) < 0 || !valid_port(port))
		return -1;
	struct sockaddr_in *in = (void *)&ss;
	struct sockaddr_in6 *in6 = (void *)&ss;
	if (text[0] != '[' && inet_pton(AF_INET, host, &in->sin_addr) == 1) {
		ss.ss_family = AF_INET;
		in->sin_port = htons((uint16_t)atoi(port));
	} else if (text[0] == '[' && inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		ss.ss_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)atoi(port));
	} else {
		return -1;
	}
	return format_sockaddr(&ss, out, outlen) ? 0 : -1;
}

int iscsi_listen(const char *spec, char *err, size_t errlen)
{
	char host[80], port[16], addr_port[96], advertised[96] = "";
	/* LOCAL=ADVERTISED: bound at LOCAL, reached at ADVERTISED. */
	const char *eq = strchr(spec, '=');
	size_t local_len = eq ? (size_t)(eq - spec) : strlen(spec);
	if (local_len >= sizeof(addr_port)) {
		snprintf(err, errlen, "bad listen address '%s': too long", spec);
		return -1;
	}
	memcpy(addr_port, spec, local_len);
	addr_port[local_len] = '\0';
	if (eq && parse_advertised(eq + 1, advertised, sizeof(advertised)) < 0) {
		snprintf(err, errlen, "bad listen address '%s': the address after '=' must be "
			 "IPV4:PORT or [IPV6]:PORT with PORT in 1..65535 (where initiators reach "
			 "the portal)", spec);
		return -1;
	}
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
	snprintf(p->advertised, sizeof(p->advertised), "%s", advertised);
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0 &&
	    format_sockaddr(&ss, p->local, sizeof(p->local))) {
		static const struct in6_addr any6 = IN6ADDR_ANY_INIT;
		p->wildcard = ss.ss_family == AF_INET
				      ? ((struct sockaddr_in *)&ss)->sin_addr.s_addr == htonl(INADDR_ANY)
				      : memcmp(&((struct sockaddr_in6 *)&ss)->sin6_addr, &any6,
					       sizeof(any6)) == 0;
	}
	pthread_mutex_lock(&portals_lock);
	list_add_tail(&p->entry, &portals);
	pthread_mutex_unlock(&portals_lock);
	reactor_send(reactor_by_index(0), &p->watch_msg, portal_watch);
	if (advertised[0])
		log_info("iSCSI: listening on %s, reached by initiators at %s", addr_port,
			 advertised);
	else
		log_info("iSCSI: listening on %s", addr_port);
	return 0;
}

/* The port of "HOST:PORT" / "[HOST]:PORT". */
static const char *port_of(const char *addr)
{
	const char *colon = strrchr(addr, ':');
	return colon ? colon + 1 : "";
}

/* Whether @p is the portal that took a connection with local address
 * @local. A wildcard portal's connections have a specific local address:
 * the port tells which portal took them. Under portals_lock. */
static bool portal_took(const struct portal *p, const char *local)
{
	return strcmp(p->local, local) == 0 ||
	       (p->wildcard && strcmp(port_of(p->local), port_of(local)) == 0);
}

bool iscsi_portal_reached_at(const char *local, const char *addr)
{
	struct portal *p;
	bool found = false;

	pthread_mutex_lock(&portals_lock);
	list_for_each_entry(p, &portals, entry) {
		if (p->advertised[0] && strcmp(p->advertised, addr) == 0 && portal_took(p, local)) {
			found = true;
			break;
		}
	}
	pthread_mutex_unlock(&portals_lock);
	return found;
}

void iscsi_portal_reach_address(const char *local, char *buf, size_t len)
{
	struct portal *p;

	snprintf(buf, len, "%s", local);
	pthread_mutex_lock(&portals_lock);
	list_for_each_entry(p, &portals, entry) {
		if (p->advertised[0] && portal_took(p, local)) {
			snprintf(buf, len, "%s", p->advertised);
			break;
		}
	}
	pthread_mutex_unlock(&portals_lock);
}

unsigned iscsi_portal_addrs(struct sockaddr_storage *out, unsigned max)
{
	struct portal *p;
	unsigned n = 0;

	pthread_mutex_lock(&portals_lock);
	list_for_each_entry(p, &portals, entry) {
		socklen_t sl = sizeof(out[n]);
		if (n < max && getsockname(p->fd, (struct sockaddr *)&out[n], &sl) == 0)
			n++;
	}
	pthread_mutex_unlock(&portals_lock);
	return n;
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
		/* A pause in progress holds the portal until its timeout
		 * completes (at most BACKOFF_MAX_MS). */
		if (p->backing_off)
			p->closing = true;
		else
			portal_free(p);
	}
	pthread_mutex_unlock(&portals_lock);
}

void iscsi_stop_listening(void)
{
	reactor_run_on_all(close_portals, NULL);
}
