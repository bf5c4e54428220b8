/* Connection admission: counters behind one lock, and a table indexed by
 * socket descriptor saying what each admitted connection counts in. The
 * table grows to the highest descriptor seen, which the daemon-wide cap
 * and RLIMIT_NOFILE bound. */
#include "targets/iscsi/admission.h"

#include <assert.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "targets/iscsi/iscsi.h"

struct admitted {
	bool used;
	bool logging_in;
	/* The peer's address without the port: IPv4 as a mapped IPv6 one. */
	uint8_t addr[16];
};

static pthread_mutex_t admission_lock = PTHREAD_MUTEX_INITIALIZER;
static struct admitted *table;
static size_t table_len;
static unsigned connections;
static unsigned max_connections = ISCSI_DEFAULT_MAX_CONNECTIONS;
static unsigned max_logins_per_address = ISCSI_DEFAULT_MAX_LOGINS_PER_ADDRESS;

void iscsi_set_connection_limits(unsigned max_conns, unsigned max_logins)
{
	pthread_mutex_lock(&admission_lock);
	max_connections = max_conns;
	max_logins_per_address = max_logins;
	pthread_mutex_unlock(&admission_lock);
}

static void peer_address(const struct sockaddr_storage *ss, uint8_t out[16])
{
	memset(out, 0, 16);
	if (ss->ss_family == AF_INET6) {
		memcpy(out, &((const struct sockaddr_in6 *)(const void *)ss)->sin6_addr, 16);
	} else if (ss->ss_family == AF_INET) {
		out[10] = out[11] = 0xff;
		memcpy(out + 12, &((const struct sockaddr_in *)(const void *)ss)->sin_addr, 4);
	}
}

static void release_locked(int fd)
{
	if (fd < 0 || (size_t)fd >= table_len || !table[fd].used)
		return;
	assert(connections > 0); /* every used entry was counted */
	connections--;
	table[fd].used = false;
	table[fd].logging_in = false;
}

bool iscsi_admit(int fd, const struct sockaddr_storage *peer, char *why, size_t whylen)
{
	uint8_t addr[16];
	bool ok = false;

	peer_address(peer, addr);
	pthread_mutex_lock(&admission_lock);
	if ((size_t)fd >= table_len) {
		size_t len = table_len ? table_len : 256;
		while (len <= (size_t)fd)
			len *= 2;
		struct admitted *t = realloc(table, len * sizeof(*t));
		if (!t) {
			snprintf(why, whylen, "out of memory");
			goto out;
		}
		memset(t + table_len, 0, (len - table_len) * sizeof(*t));
		table = t;
		table_len = len;
	}
	/* A descriptor still marked in use was closed without passing
	 * through iscsi_admission_release() (a connection that failed to
	 * start): the kernel handing it out again proves it is free. */
	release_locked(fd);
	if (max_connections && connections >= max_connections) {
		snprintf(why, whylen, "%u connections already (--max-connections)", connections);
		goto out;
	}
	if (max_logins_per_address) {
		unsigned logging_in = 0;
		for (size_t i = 0; i < table_len; i++)
			if (table[i].logging_in && memcmp(table[i].addr, addr, 16) == 0)
				logging_in++;
		if (logging_in >= max_logins_per_address) {
			snprintf(why, whylen,
				 "%u connections from this address are logging in already "
				 "(--max-logins-per-address)", logging_in);
			goto out;
		}
	}
	table[fd] = (struct admitted){ .used = true, .logging_in = true };
	memcpy(table[fd].addr, addr, 16);
	connections++;
	ok = true;
out:
	pthread_mutex_unlock(&admission_lock);
	return ok;
}

void iscsi_admission_login_done(int fd)
{
	pthread_mutex_lock(&admission_lock);
	if (fd >= 0 && (size_t)fd < table_len)
		table[fd].logging_in = false;
	pthread_mutex_unlock(&admission_lock);
}

void iscsi_admission_release(int fd)
{
	pthread_mutex_lock(&admission_lock);
	release_locked(fd);
	pthread_mutex_unlock(&admission_lock);
}
