/* The management verbs behind the RPC methods (docs/rpc.md; the method
 * table is rpc_methods.c). One file per kind of object:
 *
 *   mgmt_tree.c     tree.get
 *   mgmt_devices.c  device.*
 *   mgmt_targets.c  driver.*, target.*, session.close
 *   mgmt_luns.c     lun.*, group.*, initiator.*
 *   mgmt_config.c   config.write, config.apply, config.clear
 *
 * Each verb checks everything first and refuses with the reason while
 * nothing has changed; then it makes the change, lets the sessions
 * concerned follow (scst_tgt_sync_sessions(): a new LUN table per
 * session, published on its reactor, REPORTED LUNS DATA HAS CHANGED where
 * the map changed) and logs one "mgmt:" line. They run on the management
 * thread with scst_mutex held, except those marked unlocked in the table.
 */
#ifndef USCST_MGMT_MGMT_H
#define USCST_MGMT_MGMT_H

#include <json-c/json.h>

#include "mgmt/rpc.h"

/* The whole tree (mgmt_tree.c), with its stats nodes or without;
 * scst_mutex held. */
json_object *mgmt_tree_build(bool stats);

int mgmt_tree_get(struct rpc_call *call);

int mgmt_device_open(struct rpc_call *call);
int mgmt_device_close(struct rpc_call *call);
int mgmt_device_set_attr(struct rpc_call *call);
int mgmt_device_resync_size(struct rpc_call *call);
int mgmt_device_eject(struct rpc_call *call);
int mgmt_device_load(struct rpc_call *call);

int mgmt_driver_set_attr(struct rpc_call *call);
int mgmt_target_add(struct rpc_call *call);
int mgmt_target_remove(struct rpc_call *call);   /* unlocked */
int mgmt_target_enable(struct rpc_call *call);
int mgmt_target_disable(struct rpc_call *call);  /* unlocked */
int mgmt_target_set_attr(struct rpc_call *call);
int mgmt_session_close(struct rpc_call *call);   /* unlocked */
int mgmt_session_logout(struct rpc_call *call);  /* unlocked */
int mgmt_session_renegotiate(struct rpc_call *call);

int mgmt_lun_add(struct rpc_call *call);
int mgmt_lun_remove(struct rpc_call *call);
int mgmt_lun_replace(struct rpc_call *call);
int mgmt_lun_clear(struct rpc_call *call);
int mgmt_group_add(struct rpc_call *call);
int mgmt_group_remove(struct rpc_call *call);
int mgmt_group_set_attr(struct rpc_call *call);
int mgmt_initiator_add(struct rpc_call *call);
int mgmt_initiator_remove(struct rpc_call *call);
int mgmt_initiator_move(struct rpc_call *call);
int mgmt_initiator_clear(struct rpc_call *call);

int mgmt_config_write(struct rpc_call *call);
int mgmt_config_apply(struct rpc_call *call);    /* unlocked */
int mgmt_config_clear(struct rpc_call *call);    /* unlocked */

/* Shared lookups: the object a call's parameters name, or NULL after
 * rpc_fail() (-32001 naming it). */
struct scst_device *mgmt_find_device(struct rpc_call *call, const char *param);
struct scst_tgt_template *mgmt_find_driver(struct rpc_call *call);
struct scst_tgt *mgmt_find_target(struct rpc_call *call);
/* The group "group" names on the call's target (its default group when
 * the call has no "group"). */
struct scst_acg *mgmt_find_group(struct rpc_call *call, struct scst_tgt *tgt);

/* Closes every session of @tgt and waits (at most @seconds) for them to be
 * gone; without scst_mutex. Returns whether they went. */
bool mgmt_close_target_sessions(struct scst_tgt *tgt, int seconds);

#endif
