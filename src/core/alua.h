/* ALUA, asymmetric logical unit access (SPC-4 5.16): device groups and
 * target port groups (alua.c), as SCST's scst_tg.c has them and scst.conf
 * writes them:
 *
 *   DEVICE_GROUP dg1 {
 *           tpgs both                      (uscst: implicit|explicit|both)
 *           implicit_transition_time 2     (uscst: seconds)
 *           on_stpg /usr/local/bin/alua-hook   (uscst)
 *           DEVICE disk1
 *           TARGET_GROUP local {
 *                   group_id 1
 *                   state active
 *                   TARGET iqn.2026-11.org.example:a
 *           }
 *           TARGET_GROUP remote {
 *                   group_id 2
 *                   state standby
 *                   TARGET iqn.2026-11.org.example:b { rel_tgt_id 2 }
 *           }
 *   }
 *
 * A device is in at most one device group; a target port is in at most one
 * target group of a device group, and its state is that of its group for
 * every device of the group. The state of each I_T_L nexus's target port
 * is cached in td->alua, which PRE_EXEC reads with one load (cmd.c's
 * check_alua_state, the rules in alua_rules.c).
 *
 * Locking: the configuration is scst_mutex's. Management (a load or a
 * reload), SET TARGET PORT GROUPS, REPORT TARGET PORT GROUPS and the end
 * of a transition take it; commands never do. */
#ifndef USCST_CORE_ALUA_H
#define USCST_CORE_ALUA_H

#include <stdbool.h>
#include <stddef.h>

#include "core/attr_desc.h"
#include "core/scst.h"

struct scst_alua_config;
struct scst_alua_dg;
struct scst_alua_tg;

/* The attributes of the three sections (--list-attributes shows them). */
extern const struct scst_attr_table scst_alua_dg_attr_table;
extern const struct scst_attr_table scst_alua_tg_attr_table;
extern const struct scst_attr_table scst_alua_tg_target_attr_table;

/* ---- building a configuration aside (config_apply.c); scst_mutex held.
 * Each call returns NULL / -1 with a reason in @err naming what is wrong
 * (an attribute by its name, so that the caller can find its line). */
struct scst_alua_config *scst_alua_config_new(void);
void scst_alua_config_free(struct scst_alua_config *cfg);
/* A device group with its attributes (tpgs, implicit_transition_time,
 * on_stpg); a name given twice is refused. */
struct scst_alua_dg *scst_alua_dg_add(struct scst_alua_config *cfg, const char *name,
				      struct scst_attr *attrs, unsigned nattrs, char *err,
				      size_t errlen);
/* DEVICE: a registered device, in no other device group. */
int scst_alua_dg_add_device(struct scst_alua_config *cfg, struct scst_alua_dg *dg,
			    const char *dev_name, char *err, size_t errlen);
/* TARGET_GROUP: group_id (required, unique in the device group), state,
 * preferred. */
struct scst_alua_tg *scst_alua_tg_add(struct scst_alua_dg *dg, const char *name,
				      struct scst_attr *attrs, unsigned nattrs, char *err,
				      size_t errlen);
/* TARGET of a target group: a local target (its rel_tgt_id, which an
 * explicit rel_tgt_id must match) or, with rel_tgt_id, a port of another
 * node that RTPG lists (SCST's remote target). A port in two groups of
 * one device group, or a rel_tgt_id twice, is refused. */
int scst_alua_tg_add_target(struct scst_alua_dg *dg, struct scst_alua_tg *tg,
			    const char *tgt_name, struct scst_attr *attrs, unsigned nattrs,
			    char *err, size_t errlen);

/* Puts @cfg in force (it cannot fail; @cfg is the core's afterwards). A
 * target group keeps the state SET TARGET PORT GROUPS or a transition gave
 * it unless the file changes its state line; a changed state goes through
 * transitioning for the device group's implicit_transition_time first.
 * Every I_T_L nexus whose target port's state changed gets ASYMMETRIC
 * ACCESS STATE CHANGED (not on entering transitioning: on leaving it, as
 * SCST). */
void scst_alua_config_install(struct scst_alua_config *cfg);

/* ---- management's view (the RPC tree, the running configuration);
 * scst_mutex held. The configuration in force, in file order: each
 * device group, its devices, each target group with its state in force
 * and its targets (@local: a target of this node). The objects are those
 * of the attribute tables above, for scst_attr_show(). */
struct scst_alua_visitor {
	void (*device_group)(void *ctx, const char *name, const void *attrs_obj);
	void (*device)(void *ctx, const char *dev_name);
	void (*target_group)(void *ctx, const char *name, const void *attrs_obj,
			     const char *state_in_force);
	void (*target)(void *ctx, const char *tgt_name, const void *attrs_obj, bool local);
	void (*target_group_end)(void *ctx);
	void (*device_group_end)(void *ctx);
};
void scst_alua_visit(const struct scst_alua_visitor *v, void *ctx);
/* The device group device @dev_name is in, the target group target
 * @tgt_name is in (the first, by name), or NULL: management refuses to
 * remove what a group still names. */
const char *scst_alua_device_group_of(const char *dev_name);
const char *scst_alua_target_group_of(const char *tgt_name);

/* ---- the rest of the core ---- */

/* The value of td->alua for an I_T_L nexus of @dev through @tgt; a new
 * nexus starts with it (session.c). scst_mutex held. */
unsigned scst_alua_nexus_word(const struct scst_device *dev, const struct scst_tgt *tgt);

/* Fields of td->alua. */
static inline unsigned scst_alua_word_state(unsigned w)
{
	return w & 0xff;
}
static inline unsigned scst_alua_word_tpgs(unsigned w)
{
	return (w >> 8) & 0x3;
}
static inline unsigned scst_alua_word_group(unsigned w)
{
	return w >> 16;
}

/* The state dump (dump.c): one line per target port group with its
 * state. scst_mutex held. */
void scst_alua_dump_locked(void);

/* REPORT TARGET PORT GROUPS and SET TARGET PORT GROUPS (core_ops.c). */
int scst_rtpg_parse(struct scst_cmd *cmd);
void scst_rtpg_exec(struct scst_cmd *cmd);
/* The row's available(): STPG with TPGS explicit or both only. */
bool scst_stpg_available(const struct scst_tgt_dev *td);
int scst_stpg_parse(struct scst_cmd *cmd);
void scst_stpg_exec(struct scst_cmd *cmd);

#endif
