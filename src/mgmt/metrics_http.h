/* The opt-in Prometheus endpoint (uscstd --metrics ADDR:PORT): GET
 * /metrics over HTTP/1.1, served by a thread of its own (metrics_http.c
 * says why it is a minimal handler and what it refuses). */
#ifndef USCST_MGMT_METRICS_HTTP_H
#define USCST_MGMT_METRICS_HTTP_H

#include <stddef.h>

/* Listens on @addr_port ("ADDR:PORT", "[IPv6]:PORT", or "PORT" / ":PORT"
 * for 127.0.0.1) and starts the thread. Returns 0, or -1 with the reason
 * in @err (a bad address, the port in use, no thread; the caller names
 * the option and the address). Call once, from
 * the main thread, after the configuration is loaded (a scrape before
 * that would show an empty registry, which is not wrong, only useless). */
int metrics_http_start(const char *addr_port, char *err, size_t errlen);

/* Stops the thread and closes every connection; does nothing if it was
 * not started. Before the registry is torn down. */
void metrics_http_stop(void);

#endif
