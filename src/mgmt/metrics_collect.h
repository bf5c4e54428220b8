/* A scrape's data: every device's, target's, session's, target LUN's
 * and nexus's counters with their labels, copied under scst_mutex so
 * that formatting (metrics_prom.h) and sending happen without it. */
#ifndef USCST_MGMT_METRICS_COLLECT_H
#define USCST_MGMT_METRICS_COLLECT_H

#include <stddef.h>

#include "mgmt/metrics_prom.h"

/* The records in a malloc'd array (*recs, *n of them; NULL when there is
 * none); -1 without memory. Takes scst_mutex: the caller must not hold
 * it. */
int metrics_prom_collect(struct metrics_record **recs, size_t *n);

/* collect + format: the whole scrape as malloc'd text of *len bytes
 * (NUL-terminated), or NULL without memory. */
char *metrics_prom_render(size_t *len);

#endif
