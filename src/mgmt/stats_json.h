/* The statistics (core/stats.h) as json-c objects, for the "stats" nodes
 * of the management RPC's tree (docs/rpc.md). Every function returns a
 * new object (NULL without memory, or where it says) and is called on
 * the management thread with scst_mutex held.
 *
 * The object:
 *   {"received": N, "outstanding": N,
 *    "commands": {"read": N, "write": N, "other": N},
 *    "bytes_read": N, "bytes_written": N, "aborted": N,
 *    "check_conditions": {"ILLEGAL_REQUEST": N, ...},   non-zero ones
 *    "error_statuses": {"RESERVATION_CONFLICT": N, ...}, non-zero ones
 *    "task_management": {"LOGICAL_UNIT_RESET": N, ...}, non-zero ones
 *    "latency": {"bucket_le_us": [16, 32, ..., 4194304],
 *                "read": {"count": N, "sum_ns": N,
 *                         "buckets": [20 counts, not cumulative; the
 *                                     last: longer than 4194304 us]},
 *                "write": {...}, "other": {...}}}
 * Counters are totals since the object was created, those of nexuses
 * and sessions that are gone included (Prometheus' view: they never go
 * backwards). */
#ifndef USCST_MGMT_STATS_JSON_H
#define USCST_MGMT_STATS_JSON_H

#include <stdint.h>

#include <json-c/json.h>

#include "core/scst.h"

json_object *stats_json(const struct scst_stats_snap *s);

json_object *stats_json_device(const struct scst_device *dev);
json_object *stats_json_target(const struct scst_tgt *tgt);
json_object *stats_json_session(const struct scst_session *sess);
/* The session's nexus at @lun; NULL also when it has none there. */
json_object *stats_json_session_lun(const struct scst_session *sess, uint64_t lun);
/* The target's LUNs: [{"lun": N, "device": "disk1", "stats": {...}}, ...],
 * one per (LUN, device) it ever had a nexus for. */
json_object *stats_json_target_luns(const struct scst_tgt *tgt);

#endif
