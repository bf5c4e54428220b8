/* The iSCSI driver's view of a target (driver.c): what it carries in
 * tgt->tgt_priv, and the template the core knows the driver by. */
#ifndef USCST_TARGETS_ISCSI_TARGET_H
#define USCST_TARGETS_ISCSI_TARGET_H

#include <stdint.h>

#include "core/scst.h"
#include "targets/iscsi/aen.h"
#include "targets/iscsi/chap.h"
#include "targets/iscsi/params.h"
#include "targets/iscsi/portal_access.h"

extern struct scst_tgt_template iscsi_template;

/* What a target carries in tgt->tgt_priv. */
struct iscsi_tgt {
	struct iscsi_target_params tp;
	struct chap_credentials chap;   /* IncomingUser / OutgoingUser */
	struct iscsi_allowed_portals portals; /* allowed_portal */
	struct iscsi_aen_settings aen;  /* aen: AsyncEvent 0 (aen.h) */
};

/* Copies the discovery sessions' CHAP credentials (the TARGET_DRIVER
 * iscsi section's IncomingUser / OutgoingUser) into @dst. Caller holds
 * scst_mutex, under which management replaces them. Returns 0 or -1. */
int iscsi_discovery_chap_copy(struct chap_credentials *dst);

/* The Target Portal Group Tag we report for @tgt (its
 * TargetPortalGroupTag attribute). Reads the target's parameters: call
 * under scst_mutex, which guards their change. login.c reports the copy
 * it took at identify() instead. */
uint16_t iscsi_tpgt(const struct scst_tgt *tgt);

#endif
