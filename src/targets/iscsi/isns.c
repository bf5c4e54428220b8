/* The iSNS client's settings (the driver attributes iSNSServer and
 * isns_access_control), the life of its thread, and the calls the rest
 * of the driver makes (isns.h). The thread itself is isns_client.c, what
 * it registers isns_view.c, the wire format isns_proto.c, the access
 * answers isns_access.c. */
#include "targets/iscsi/isns.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "targets/iscsi/isns_access.h"
#include "targets/iscsi/isns_client.h"

#define ISNS_DEFAULT_PORT "3205"
/* ------------------------------------------------------------------ */
/* Settings: shown by management, handed to the thread. */

/* In force, as listings show them; scst_mutex's (management's). */
static struct iscsi_isns_settings shown;
/* The thread's copy, and a generation that says it changed. */
static pthread_mutex_t settings_lock = PTHREAD_MUTEX_INITIALIZER;
static struct iscsi_isns_settings handed;
static unsigned handed_gen;

/* An eventfd, made once and never closed; kicks read it from any thread. */
static _Atomic int wake_fd = -1;
static atomic_bool stopping;
static bool started;
static pthread_t client_thread;

void *iscsi_isns_settings_of(void *unused)
{
	(void)unused;
	return &shown;
}

/* "ADDR", "ADDR:PORT", "[V6]", "[V6]:PORT" or a bare IPv6 address. */
int isns_split_server(const char *s, char *host, size_t hostlen, char *port, size_t portlen)
{
	const char *colon = strrchr(s, ':');
	size_t hl;

	snprintf(port, portlen, "%s", ISNS_DEFAULT_PORT);
	if (*s == '[') {
		const char *close = strchr(s, ']');
		if (!close || (close[1] && close[1] != ':'))
			return -1;
		hl = (size_t)(close - s - 1);
		if (close[1] == ':')
			snprintf(port, portlen, "%s", close + 2);
		s++;
	} else if (colon && strchr(s, ':') == colon) {
		hl = (size_t)(colon - s);
		snprintf(port, portlen, "%s", colon + 1);
	} else {
		hl = strlen(s); /* a bare IPv6 address has several colons */
	}
	if (hl == 0 || hl >= hostlen)
		return -1;
	memcpy(host, s, hl);
	host[hl] = '\0';
	/* An address with colons is IPv6 and must be one; anything else is
	 * an IPv4 address or a host name (letters, digits, '-', '.'). */
	struct in6_addr a6;
	if (strchr(host, ':')) {
		if (inet_pton(AF_INET6, host, &a6) != 1)
			return -1;
	} else if (host[strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				  "0123456789-.")] != '\0') {
		return -1;
	}
	char *end;
	unsigned long p = strtoul(port, &end, 10);
	if (!*port || *end || p == 0 || p > 65535)
		return -1;
	return 0;
}

static int parse_server(void *obj, const struct scst_attr_desc *d, const char *value, char *err,
			size_t errlen)
{
	struct iscsi_isns_settings *s = obj;
	char host[ISCSI_ISNS_SERVER_MAX], port[16];

	if (*value && (strlen(value) >= sizeof(s->server) ||
		       isns_split_server(value, host, sizeof(host), port, sizeof(port)) < 0)) {
		snprintf(err, errlen, "%s: '%s' is not ADDR, ADDR:PORT or [IPV6]:PORT with PORT in "
			 "1..65535", d->name, value);
		return -1;
	}
	snprintf(s->server, sizeof(s->server), "%s", value);
	return 0;
}

static const struct scst_attr_desc isns_descs[] = {
	{ .name = "iSNSServer", .type = SCST_ATTR_CHARS,
	  SCST_ATTR_FIELD(struct iscsi_isns_settings, server), .def = "",
	  .parse = parse_server,
	  .help = "iSNS server to register the targets with, ADDR[:PORT] (port 3205 by "
		  "default); empty: no iSNS" },
	{ .name = "isns_access_control", .type = SCST_ATTR_BOOL,
	  SCST_ATTR_FIELD(struct iscsi_isns_settings, access_control), .def = "0",
	  .help = "with an iSNSServer: an initiator sees and logs in to only the targets "
		  "that share an iSNS discovery domain with it" },
};

const struct scst_attr_table iscsi_isns_attr_table = {
	.name = "iscsi",
	.owner = SCST_ATTR_OWNER_DRIVER,
	.descs = isns_descs,
	.ndescs = SCST_ATTR_TABLE_LEN(isns_descs),
	.object_size = sizeof(struct iscsi_isns_settings),
	.object_of = iscsi_isns_settings_of,
	.reparsed_live = true,
};

void iscsi_isns_kick(void)
{
	uint64_t one = 1;

	if (wake_fd >= 0 && write(wake_fd, &one, sizeof(one)) < 0) {
		/* The counter is full: the thread has a wake-up pending anyway. */
	}
}

/* At exit the client has a few seconds to deregister. */
static void join_at_exit(void)
{
	struct timespec until;

	atomic_store(&stopping, true);
	iscsi_isns_kick();
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 2 * ISNS_REPLY_TIMEOUT_MS / 1000 + 1;
	if (pthread_timedjoin_np(client_thread, NULL, &until) != 0)
		log_warn("iSNS: the client did not finish within %ld s; exiting without it",
			 (long)(2 * ISNS_REPLY_TIMEOUT_MS / 1000 + 1));
}

void iscsi_isns_settings_apply(const struct iscsi_isns_settings *s)
{
	shown = *s;
	pthread_mutex_lock(&settings_lock);
	bool changed = strcmp(handed.server, s->server) != 0 ||
		       handed.access_control != s->access_control;
	handed = *s;
	if (changed)
		handed_gen++;
	pthread_mutex_unlock(&settings_lock);
	if (!started && s->server[0] && !atomic_load(&stopping)) {
		wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (wake_fd < 0) {
			log_error("iSNS: eventfd: %s; no iSNS client", strerror(errno));
			return;
		}
		int rc = pthread_create(&client_thread, NULL, isns_client_main, NULL);
		if (rc) {
			log_error("iSNS: cannot start the client thread: %s", strerror(rc));
			return;
		}
		started = true;
		atexit(join_at_exit);
	}
	iscsi_isns_kick();
}

void iscsi_isns_shutdown(void)
{
	atomic_store(&stopping, true);
	iscsi_isns_kick();
}

bool iscsi_isns_initiator_allowed(const char *tgt_name, const char *initiator, char *why,
				  size_t whylen)
{
	return isns_access_allowed(tgt_name, initiator, why, whylen);
}

void isns_settings_take(struct iscsi_isns_settings *s, unsigned *gen)
{
	pthread_mutex_lock(&settings_lock);
	*s = handed;
	*gen = handed_gen;
	pthread_mutex_unlock(&settings_lock);
}

int isns_wake_fd(void)
{
	return wake_fd;
}

bool isns_stopping(void)
{
	return atomic_load(&stopping);
}
