/* The management socket's thread (rpc_server.h): accepts clients, checks
 * each one's credentials, reads requests, writes responses. Sockets are
 * non-blocking and served with poll(): a client that sends slowly or never
 * reads holds at most one response and its unread request bytes, and is
 * closed after RPC_IDLE_SECONDS of silence. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "mgmt/rpc.h"
#include "mgmt/rpc_server.h"

#define RPC_MAX_CLIENTS 16
#define RPC_IDLE_SECONDS 60
#define RPC_READ_CHUNK 65536

struct rpc_client {
	int fd;
	char peer[64]; /* "pid P uid U", for log lines */
	struct rpc_stream stream;
	char in[RPC_READ_CHUNK];
	size_t in_start, in_end; /* bytes read, not yet fed */
	char *out;               /* the response being written */
	size_t out_len, out_sent;
	bool closing;            /* close once out is sent */
	time_t last_active;
};

static struct {
	int listen_fd;
	int wake[2]; /* a byte here stops the thread */
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	pthread_t thread;
	bool running;
	struct rpc_client *clients[RPC_MAX_CLIENTS];
} server = { .listen_fd = -1, .wake = { -1, -1 } };

static time_t now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static void client_free(struct rpc_client *c)
{
	close(c->fd);
	rpc_stream_fini(&c->stream);
	free(c->out);
	free(c);
}

/* rpc_stream_feed()'s reply: the response and its newline, sent as the
 * socket takes them. */
static void client_reply(void *ctx, const char *text, size_t len)
{
	struct rpc_client *c = ctx;
	char *out = malloc(len + 1);

	if (!out) {
		c->closing = true;
		return;
	}
	memcpy(out, text, len);
	out[len] = '\n';
	free(c->out);
	c->out = out;
	c->out_len = len + 1;
	c->out_sent = 0;
}

/* Sends what the socket takes now; returns -1 when the client is gone. */
static int client_flush(struct rpc_client *c)
{
	while (c->out && c->out_sent < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_sent, c->out_len - c->out_sent,
				 MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return 0;
			return -1;
		}
		c->out_sent += (size_t)n;
		c->last_active = now_s();
	}
	free(c->out);
	c->out = NULL;
	c->out_len = c->out_sent = 0;
	return 0;
}

/* Feeds buffered request bytes while no response is waiting to go out. */
static void client_process(struct rpc_client *c)
{
	while (!c->out && !c->closing && c->in_start < c->in_end) {
		bool fatal;
		size_t used = rpc_stream_feed(&c->stream, c->in + c->in_start,
					      c->in_end - c->in_start, c->peer, client_reply, c,
					      &fatal);

		c->in_start += used;
		if (fatal)
			c->closing = true;
	}
	if (c->in_start == c->in_end)
		c->in_start = c->in_end = 0;
}

/* Returns -1 when the client is to be freed. */
static int client_read(struct rpc_client *c)
{
	ssize_t n;

	if (c->in_end == sizeof(c->in)) {
		/* Everything read is waiting for a response to be sent. */
		return 0;
	}
	n = recv(c->fd, c->in + c->in_end, sizeof(c->in) - c->in_end, 0);
	if (n == 0)
		return -1;
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	c->in_end += (size_t)n;
	c->last_active = now_s();
	client_process(c);
	return 0;
}

/* SO_PEERCRED: root, or the user uscstd runs as (an unprivileged test
 * daemon's own user), and nobody else. */
static bool peer_allowed(int fd, char *peer, size_t len)
{
	struct ucred cred;
	socklen_t clen = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) < 0) {
		snprintf(peer, len, "unknown peer");
		return false;
	}
	snprintf(peer, len, "pid %d uid %u", (int)cred.pid, (unsigned)cred.uid);
	return cred.uid == 0 || cred.uid == geteuid();
}

static void send_now(int fd, json_object *resp)
{
	size_t len;
	const char *text = json_object_to_json_string_length(resp, JSON_C_TO_STRING_PLAIN, &len);

	/* Best effort: the socket is fresh, its buffer takes one line. */
	if (send(fd, text, len, MSG_NOSIGNAL | MSG_DONTWAIT) == (ssize_t)len)
		(void)send(fd, "\n", 1, MSG_NOSIGNAL | MSG_DONTWAIT);
	json_object_put(resp);
}

static void accept_client(void)
{
	int fd = accept4(server.listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	struct rpc_client *c;
	char peer[64];
	unsigned slot;

	if (fd < 0) {
		if (errno != EAGAIN && errno != EINTR)
			log_warn_rl("rpc: accept: %s", strerror(errno));
		return;
	}
	if (!peer_allowed(fd, peer, sizeof(peer))) {
		char discard[4096];

		log_warn_rl("rpc %s: refused: not root", peer);
		send_now(fd, rpc_error_response(NULL, RPC_PERMISSION_DENIED,
						"permission denied: the management socket is root's"));
		/* What the peer sent already is dropped unread: closing with
		 * it queued would reset the connection before the peer reads
		 * the refusal. */
		shutdown(fd, SHUT_WR);
		while (recv(fd, discard, sizeof(discard), MSG_DONTWAIT) > 0)
			;
		close(fd);
		return;
	}
	for (slot = 0; slot < RPC_MAX_CLIENTS && server.clients[slot]; slot++)
		;
	c = slot < RPC_MAX_CLIENTS ? calloc(1, sizeof(*c)) : NULL;
	if (!c || rpc_stream_init(&c->stream) < 0) {
		log_warn_rl("rpc %s: refused: %s", peer,
			    c ? "out of memory" : "too many clients (16)");
		free(c);
		close(fd);
		return;
	}
	c->fd = fd;
	snprintf(c->peer, sizeof(c->peer), "%s", peer);
	c->last_active = now_s();
	server.clients[slot] = c;
	log_debug("rpc %s: connected", peer);
}

static void *server_thread(void *arg)
{
	struct pollfd pfd[RPC_MAX_CLIENTS + 2];
	unsigned map[RPC_MAX_CLIENTS + 2];

	(void)arg;
	for (;;) {
		unsigned n = 0;
		time_t now = now_s();

		pfd[n++] = (struct pollfd){ .fd = server.wake[0], .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = server.listen_fd, .events = POLLIN };
		for (unsigned i = 0; i < RPC_MAX_CLIENTS; i++) {
			struct rpc_client *c = server.clients[i];

			if (!c)
				continue;
			if (now - c->last_active > RPC_IDLE_SECONDS) {
				log_info("rpc %s: idle for %d s: closing", c->peer, RPC_IDLE_SECONDS);
				client_free(c);
				server.clients[i] = NULL;
				continue;
			}
			map[n] = i;
			pfd[n++] = (struct pollfd){
				.fd = c->fd,
				/* Nothing is read while a response waits. */
				.events = c->out ? POLLOUT : POLLIN,
			};
		}
		if (poll(pfd, n, 1000) < 0) {
			if (errno == EINTR)
				continue;
			log_error("rpc: poll: %s", strerror(errno));
			break;
		}
		if (pfd[0].revents)
			break;
		if (pfd[1].revents & POLLIN)
			accept_client();
		for (unsigned k = 2; k < n; k++) {
			struct rpc_client *c = server.clients[map[k]];
			int rc = 0;

			if (!pfd[k].revents)
				continue;
			if (pfd[k].revents & (POLLERR | POLLNVAL))
				rc = -1;
			else if (c->out)
				rc = client_flush(c);
			else
				rc = client_read(c);
			if (rc == 0 && !c->out) {
				client_process(c);
				if (c->out)
					rc = client_flush(c);
			}
			if (rc < 0 || (c->closing && !c->out)) {
				client_free(c);
				server.clients[map[k]] = NULL;
			}
		}
	}
	return NULL;
}

/* Whether a daemon answers on @path now (a second uscstd must not take
 * its socket away). */
static bool socket_alive(const struct sockaddr_un *addr)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool alive;

	if (fd < 0)
		return false;
	alive = connect(fd, (const struct sockaddr *)addr, sizeof(*addr)) == 0;
	close(fd);
	return alive;
}

/* The socket's directory, made 0755 when missing (one level: /run/uscst). */
static int make_parent(const char *path, char *err, size_t errlen)
{
	char dir[sizeof(server.path)];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "--rpc-socket %s: cannot create %s: %s", path, dir,
			 strerror(errno));
		return -1;
	}
	return 0;
}

int rpc_server_start(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(addr.sun_path)) {
		snprintf(err, errlen, "--rpc-socket %s: longer than %zu bytes", path,
			 sizeof(addr.sun_path) - 1);
		return -1;
	}
	memcpy(addr.sun_path, path, strlen(path) + 1);
	if (make_parent(path, err, errlen) < 0)
		return -1;
	if (socket_alive(&addr)) {
		snprintf(err, errlen, "--rpc-socket %s: another uscstd answers on it", path);
		return -1;
	}
	unlink(path); /* a dead daemon's */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "--rpc-socket %s: socket: %s", path, strerror(errno));
		return -1;
	}
	/* 0600 from the start: no window in which another user connects. */
	mode_t old = umask(0177);
	int rc = bind(fd, (struct sockaddr *)&addr, sizeof(addr));

	umask(old);
	if (rc < 0 || listen(fd, RPC_MAX_CLIENTS) < 0) {
		snprintf(err, errlen, "--rpc-socket %s: %s: %s", path, rc < 0 ? "bind" : "listen",
			 strerror(errno));
		close(fd);
		return -1;
	}
	if (pipe2(server.wake, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		close(fd);
		unlink(path);
		return -1;
	}
	server.listen_fd = fd;
	snprintf(server.path, sizeof(server.path), "%s", path);
	if (pthread_create(&server.thread, NULL, server_thread, NULL)) {
		snprintf(err, errlen, "cannot start the management thread");
		close(fd);
		close(server.wake[0]);
		close(server.wake[1]);
		unlink(path);
		server.listen_fd = server.wake[0] = server.wake[1] = -1;
		return -1;
	}
	server.running = true;
	log_info("management socket %s", path);
	return 0;
}

void rpc_server_stop(void)
{
	if (!server.running)
		return;
	(void)write(server.wake[1], "x", 1);
	pthread_join(server.thread, NULL);
	server.running = false;
	for (unsigned i = 0; i < RPC_MAX_CLIENTS; i++) {
		if (server.clients[i])
			client_free(server.clients[i]);
		server.clients[i] = NULL;
	}
	close(server.listen_fd);
	close(server.wake[0]);
	close(server.wake[1]);
	server.listen_fd = server.wake[0] = server.wake[1] = -1;
	unlink(server.path);
}
