#include "daemon/service.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include "base/log.h"

/* Sends @msg ("KEY=value" lines); says so in the log when the service
 * manager cannot be told, since it will then time the unit out. */
static void notify(const char *what, const char *msg)
{
	/* unset_environment 0: a reload and the stop notify again. */
	int rc = sd_notify(0, msg);

	if (rc < 0)
		log_warn("service: cannot notify the service manager (%s): %s", what,
			 strerror(-rc));
}

/* "STATUS=..." from @fmt, after @head ("READY=1\n", ...). The status is
 * one line on `systemctl status`: a newline in it would start a new
 * KEY=value assignment, so it is cut there. */
static void notify_with_status(const char *what, const char *head, const char *fmt,
			       va_list ap) __attribute__((format(printf, 3, 0)));
static void notify_with_status(const char *what, const char *head, const char *fmt,
			       va_list ap)
{
	char msg[512];
	int n = snprintf(msg, sizeof(msg), "%sSTATUS=", head);
	char *nl;

	vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
	nl = strchr(msg + n, '\n');
	if (nl)
		*nl = '\0';
	notify(what, msg);
}

void service_ready(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	notify_with_status("ready", "READY=1\n", fmt, ap);
	va_end(ap);
}

static void notify_status(const char *what, const char *head, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void notify_status(const char *what, const char *head, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	notify_with_status(what, head, fmt, ap);
	va_end(ap);
}

void service_reloading(const char *path)
{
	struct timespec ts;
	char head[64];

	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(head, sizeof(head), "RELOADING=1\nMONOTONIC_USEC=%llu\n",
		 (unsigned long long)ts.tv_sec * 1000000ull +
			 (unsigned long long)ts.tv_nsec / 1000ull);
	notify_status("reloading", head, "reloading %s", path ? path : "(no configuration file)");
}

void service_reloaded(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	notify_with_status("reloaded", "READY=1\n", fmt, ap);
	va_end(ap);
}

void service_stopping(void)
{
	notify("stopping", "STOPPING=1\nSTATUS=closing the sessions");
}
