/* uscstd as a systemd service (Type=notify): the daemon tells the service
 * manager when it serves, when it reloads and when it stops, through
 * sd_notify(3). Without $NOTIFY_SOCKET (started by hand, by the tests,
 * by another supervisor) every call does nothing, so the daemon calls
 * them unconditionally. All from the main thread. */
#ifndef USCST_DAEMON_SERVICE_H
#define USCST_DAEMON_SERVICE_H

/* The configuration is in force and every portal listens: READY=1 with
 * STATUS= @fmt. systemd starts the units ordered after uscstd.service (an
 * iscsid that logs in to it, a mount on its LUNs) only from here. Once. */
void service_ready(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* SIGHUP received, the configuration file is being applied again:
 * RELOADING=1 (with MONOTONIC_USEC=, which systemd 253's
 * Type=notify-reload asks for) and STATUS=; the unit is "reloading" until
 * service_reloaded(). */
void service_reloading(const char *path);

/* The reload has ended, applied or refused: either way the daemon serves
 * again (a refused file changes nothing), so READY=1; STATUS= says which,
 * with @fmt. */
void service_reloaded(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* SIGINT or SIGTERM received: STOPPING=1, so that systemd knows the
 * sessions are being closed and does not take the wait for a hang. */
void service_stopping(void);

#endif
