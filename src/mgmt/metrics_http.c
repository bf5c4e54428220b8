/* The Prometheus endpoint: a minimal HTTP/1.1 server for one request,
 * GET /metrics, on a thread of its own.
 *
 * Why not libmicrohttpd: it is not among the project's dependencies
 * (Debian packages: liburing, libiscsi, ISA-L, libcrypto, json-c,
 * cmocka), and a scrape needs very little of HTTP: one request line, the
 * headers skipped, one response with Content-Length, the connection
 * closed. What such a server must get right is what a hostile or broken
 * peer does, and that is all here in one poll() loop:
 *
 *   - only GET (or HEAD) of /metrics (a query string is ignored) is
 *     answered 200; another path 404, another method 405, a request
 *     line that is not HTTP 400; the request's head may be at most
 *     8 KiB (431 past it), and a body is never read;
 *   - every connection has a deadline: 5 s to send its request, 10 s to
 *     take the response; a peer that sends nothing, or never reads, is
 *     closed then, and meanwhile the others are served (every socket is
 *     non-blocking, with a 16 KiB send buffer: nothing waits for one
 *     peer, and one holds little); after the response our
 *     side is shut and what the peer still sends is dropped (2 s, 64 KiB
 *     at most) so that it reads the response before the close;
 *   - at most 16 connections at once; the next one is closed at once;
 *   - the collection itself (metrics_prom_render()) copies the counters
 *     under scst_mutex and formats them outside it, so a scrape holds up
 *     logins and management only for the copy, and never for a peer;
 *   - bound to 127.0.0.1 unless told otherwise: the metrics name every
 *     initiator, and nothing here authenticates.
 *
 * Everything below runs on the endpoint's thread except start and stop,
 * which run on uscstd's main thread. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "mgmt/metrics_http.h"
#include "mgmt/metrics_collect.h"

#define MAX_CLIENTS 16
#define MAX_REQUEST 8192
#define REQUEST_TIMEOUT_MS 5000
#define RESPONSE_TIMEOUT_MS 10000
#define DRAIN_TIMEOUT_MS 2000
#define DRAIN_MAX (64 * 1024)
/* The kernel's send buffer per peer: without a bound it grows to megabytes
 * on loopback, holding a whole scrape for a peer that never reads; with
 * it, such a peer holds a little memory until its deadline closes it. */
#define SEND_BUFFER (16 * 1024)

struct client {
	int fd;             /* -1: the slot is free */
	char peer[64];
	int64_t deadline;   /* CLOCK_MONOTONIC, ms */
	char req[MAX_REQUEST];
	size_t req_len;
	char *resp;         /* once the request is in: the whole response */
	size_t resp_len, resp_off;
	/* The response is out and our side shut: what the peer still sends
	 * is read and dropped until it closes, so that closing does not
	 * reset the connection under a response it has not read yet (a
	 * request that was refused before its end was read). */
	bool draining;
	size_t drained;
};

static struct {
	bool started;
	int listen_fd;
	int wake[2];        /* stop: the main thread writes, the loop wakes */
	pthread_t thread;
	struct client clients[MAX_CLIENTS];
} srv = { .listen_fd = -1, .wake = { -1, -1 } };

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void client_close(struct client *c)
{
	close(c->fd);
	free(c->resp);
	c->fd = -1;
	c->resp = NULL;
	c->draining = false;
}

/* ---- responses ---- */

/* Sets the whole response: @status, @body of @body_len bytes (not sent
 * for HEAD, @head_only), @extra header lines. */
static void respond(struct client *c, const char *status, const char *content_type,
		    const char *body, size_t body_len, bool head_only, const char *extra)
{
	char head[512];
	int n = snprintf(head, sizeof(head),
			 "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s"
			 "Connection: close\r\n\r\n",
			 status, content_type, body_len, extra ? extra : "");
	size_t total = (size_t)n + (head_only ? 0 : body_len);

	c->resp = malloc(total);
	if (!c->resp) {
		client_close(c);
		return;
	}
	memcpy(c->resp, head, (size_t)n);
	if (!head_only)
		memcpy(c->resp + n, body, body_len);
	c->resp_len = total;
	c->resp_off = 0;
	c->deadline = now_ms() + RESPONSE_TIMEOUT_MS;
}

static void respond_error(struct client *c, const char *status, const char *why)
{
	char body[128];
	int n = snprintf(body, sizeof(body), "%s\n", status);

	log_warn_rl("metrics: %s: %s: answered %s", c->peer, why, status);
	respond(c, status, "text/plain; charset=utf-8", body, (size_t)n, false,
		!strncmp(status, "405", 3) ? "Allow: GET, HEAD\r\n" : NULL);
}

/* The request's head is in (up to its blank line): answer it. */
static void serve(struct client *c)
{
	char *line_end = memchr(c->req, '\n', c->req_len);
	char method[16], target[256], version[16];
	bool head_only;

	*line_end = '\0';
	if (line_end > c->req && line_end[-1] == '\r')
		line_end[-1] = '\0';
	if (sscanf(c->req, "%15s %255s %15s", method, target, version) != 3 ||
	    strncmp(version, "HTTP/1.", 7)) {
		respond_error(c, "400 Bad Request", "not an HTTP/1.x request line");
		return;
	}
	char *query = strchr(target, '?');
	if (query)
		*query = '\0';
	if (strcmp(target, "/metrics")) {
		respond_error(c, "404 Not Found", "a path other than /metrics");
		return;
	}
	head_only = !strcmp(method, "HEAD");
	if (strcmp(method, "GET") && !head_only) {
		respond_error(c, "405 Method Not Allowed", "a method other than GET");
		return;
	}
	size_t len;
	char *text = metrics_prom_render(&len);
	if (!text) {
		respond_error(c, "503 Service Unavailable", "out of memory collecting the metrics");
		return;
	}
	respond(c, "200 OK", "text/plain; version=0.0.4; charset=utf-8", text, len, head_only,
		NULL);
	free(text);
}

/* ---- the loop ---- */

static void client_read(struct client *c)
{
	ssize_t n = recv(c->fd, c->req + c->req_len, sizeof(c->req) - c->req_len, 0);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		client_close(c); /* gone before asking anything complete */
		return;
	}
	c->req_len += (size_t)n;
	/* The head ends with an empty line; anything after it (a body) is
	 * never read: the connection closes after the response. */
	for (size_t i = 0; i + 1 < c->req_len; i++) {
		if (c->req[i] == '\n' &&
		    (c->req[i + 1] == '\n' ||
		     (c->req[i + 1] == '\r' && i + 2 < c->req_len && c->req[i + 2] == '\n'))) {
			serve(c);
			return;
		}
	}
	if (c->req_len == sizeof(c->req))
		respond_error(c, "431 Request Header Fields Too Large", "a request over 8 KiB");
}

static void client_write(struct client *c)
{
	ssize_t n = send(c->fd, c->resp + c->resp_off, c->resp_len - c->resp_off, MSG_NOSIGNAL);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0) {
		client_close(c);
		return;
	}
	c->resp_off += (size_t)n;
	if (c->resp_off == c->resp_len) {
		/* Connection: close, once the peer has had it all. */
		shutdown(c->fd, SHUT_WR);
		c->draining = true;
		c->drained = 0;
		c->deadline = now_ms() + DRAIN_TIMEOUT_MS;
	}
}

static void client_drain(struct client *c)
{
	char scratch[4096];
	ssize_t n = recv(c->fd, scratch, sizeof(scratch), 0);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0 || (c->drained += (size_t)n) > DRAIN_MAX)
		client_close(c);
}

static void peer_name(const struct sockaddr_storage *ss, socklen_t len, char *buf, size_t size)
{
	char host[48] = "?", port[8] = "?";

	getnameinfo((const struct sockaddr *)ss, len, host, sizeof(host), port, sizeof(port),
		    NI_NUMERICHOST | NI_NUMERICSERV);
	snprintf(buf, size, "%s:%s", host, port);
}

static void accept_clients(void)
{
	for (;;) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		int fd = accept4(srv.listen_fd, (struct sockaddr *)&ss, &len,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct client *c = NULL;

		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				log_warn_rl("metrics: accept: %s", strerror(errno));
			return;
		}
		for (unsigned i = 0; i < MAX_CLIENTS && !c; i++) {
			if (srv.clients[i].fd < 0)
				c = &srv.clients[i];
		}
		if (!c) {
			char peer[64];

			peer_name(&ss, len, peer, sizeof(peer));
			log_warn_rl("metrics: %s: %d connections already open: closed", peer,
				    MAX_CLIENTS);
			close(fd);
			continue;
		}
		int sndbuf = SEND_BUFFER;

		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
		c->fd = fd;
		c->req_len = 0;
		c->resp = NULL;
		c->deadline = now_ms() + REQUEST_TIMEOUT_MS;
		peer_name(&ss, len, c->peer, sizeof(c->peer));
	}
}

static void *loop(void *arg)
{
	struct pollfd pfds[MAX_CLIENTS + 2];
	struct client *polled[MAX_CLIENTS + 2];

	for (;;) {
		int64_t now = now_ms(), next = now + 60000;
		unsigned n = 0;

		pfds[n++] = (struct pollfd){ .fd = srv.wake[0], .events = POLLIN };
		pfds[n++] = (struct pollfd){ .fd = srv.listen_fd, .events = POLLIN };
		for (unsigned i = 0; i < MAX_CLIENTS; i++) {
			struct client *c = &srv.clients[i];

			if (c->fd < 0)
				continue;
			if (now >= c->deadline && c->draining) {
				client_close(c); /* done; the peer just did not close first */
				continue;
			}
			if (now >= c->deadline) {
				log_warn_rl("metrics: %s: no %s within %d s: closed", c->peer,
					    c->resp ? "reading of the response" : "complete request",
					    (c->resp ? RESPONSE_TIMEOUT_MS : REQUEST_TIMEOUT_MS) / 1000);
				client_close(c);
				continue;
			}
			if (c->deadline < next)
				next = c->deadline;
			polled[n] = c;
			pfds[n++] = (struct pollfd){ .fd = c->fd,
						     .events = c->resp && !c->draining ? POLLOUT
										       : POLLIN };
		}
		if (poll(pfds, n, (int)(next - now)) < 0 && errno != EINTR) {
			log_error("metrics: poll: %s; the endpoint stops", strerror(errno));
			return NULL;
		}
		if (pfds[0].revents)
			return NULL; /* metrics_http_stop() */
		for (unsigned i = 2; i < n; i++) {
			struct client *c = polled[i];

			if (!pfds[i].revents || c->fd != pfds[i].fd)
				continue;
			if (c->draining)
				client_drain(c);
			else if (c->resp)
				client_write(c);
			else
				client_read(c);
			/* A request answered at once is sent at once. */
			if (c->fd >= 0 && c->resp && !c->draining && c->resp_off == 0)
				client_write(c);
		}
		if (pfds[1].revents)
			accept_clients();
	}
	(void)arg;
}

/* ---- start, stop ---- */

/* "ADDR:PORT", "[V6]:PORT", "PORT" or ":PORT" into host (127.0.0.1 when
 * not given) and port. */
static int split_addr(const char *s, char *host, size_t hostlen, char *port, size_t portlen)
{
	const char *colon;

	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':' || (size_t)(close - s - 1) >= hostlen)
			return -1;
		snprintf(host, hostlen, "%.*s", (int)(close - s - 1), s + 1);
		colon = close + 1;
	} else if ((colon = strrchr(s, ':'))) {
		if ((size_t)(colon - s) >= hostlen)
			return -1;
		snprintf(host, hostlen, "%.*s", (int)(colon - s), s);
	} else {
		host[0] = '\0';
		colon = s - 1;
	}
	if (!host[0])
		snprintf(host, hostlen, "127.0.0.1");
	if (!colon[1] || strlen(colon + 1) >= portlen || strspn(colon + 1, "0123456789") !=
							       strlen(colon + 1))
		return -1;
	snprintf(port, portlen, "%s", colon + 1);
	long p = strtol(port, NULL, 10);
	return p >= 1 && p <= 65535 ? 0 : -1;
}

static int listen_on(const char *addr_port, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICSERV | AI_PASSIVE };
	struct addrinfo *ai;
	char host[256], port[8];
	int fd, rc, one = 1;

	if (split_addr(addr_port, host, sizeof(host), port, sizeof(port))) {
		snprintf(err, errlen, "not ADDR:PORT (PORT in 1..65535)");
		return -1;
	}
	rc = getaddrinfo(host, port, &hints, &ai);
	if (rc) {
		snprintf(err, errlen, "%s", gai_strerror(rc));
		return -1;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, MAX_CLIENTS)) {
		snprintf(err, errlen, "%s", strerror(errno));
		if (fd >= 0)
			close(fd);
		freeaddrinfo(ai);
		return -1;
	}
	freeaddrinfo(ai);
	log_info("metrics: Prometheus text on http://%s%s%s:%s/metrics", strchr(host, ':') ? "[" : "",
		 host, strchr(host, ':') ? "]" : "", port);
	return fd;
}

int metrics_http_start(const char *addr_port, char *err, size_t errlen)
{
	int rc;

	if (srv.started) {
		snprintf(err, errlen, "the metrics endpoint is already started");
		return -1;
	}
	srv.listen_fd = listen_on(addr_port, err, errlen);
	if (srv.listen_fd < 0)
		return -1;
	if (pipe2(srv.wake, O_CLOEXEC)) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		close(srv.listen_fd);
		srv.listen_fd = -1;
		return -1;
	}
	for (unsigned i = 0; i < MAX_CLIENTS; i++)
		srv.clients[i].fd = -1;
	rc = pthread_create(&srv.thread, NULL, loop, NULL);
	if (rc) {
		snprintf(err, errlen, "cannot start its thread: %s", strerror(rc));
		close(srv.listen_fd);
		close(srv.wake[0]);
		close(srv.wake[1]);
		srv.listen_fd = srv.wake[0] = srv.wake[1] = -1;
		return -1;
	}
	srv.started = true;
	return 0;
}

void metrics_http_stop(void)
{
	if (!srv.started)
		return;
	if (write(srv.wake[1], "x", 1) != 1)
		log_error("metrics: cannot wake the endpoint's thread: %s", strerror(errno));
	pthread_join(srv.thread, NULL);
	for (unsigned i = 0; i < MAX_CLIENTS; i++) {
		if (srv.clients[i].fd >= 0)
			client_close(&srv.clients[i]);
	}
	close(srv.listen_fd);
	close(srv.wake[0]);
	close(srv.wake[1]);
	srv.listen_fd = srv.wake[0] = srv.wake[1] = -1;
	srv.started = false;
}
