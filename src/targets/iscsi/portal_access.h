/* allowed_portal (SCST's iSCSI target attribute): the portals a target is
 * reachable and offered on. Each line is a pattern of the local IP address
 * a connection arrived at (name_pattern.h: '*', '?', '!' to exclude), e.g.
 * "allowed_portal 192.168.1.*" or "allowed_portal !10.0.0.1"; IPv6
 * addresses without brackets. A target without the attribute is on every
 * portal. A login through another portal is refused as to an unknown
 * target (0x0203), and SendTargets over it does not list the target. */
#ifndef USCST_TARGETS_ISCSI_PORTAL_ACCESS_H
#define USCST_TARGETS_ISCSI_PORTAL_ACCESS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/attr_desc.h"
#include "core/scst.h"

struct iscsi_allowed_portals {
	char **patterns;
	unsigned n;
};

/* allowed_portal as a descriptor (one of the driver's tgt_attrs), and
 * where a live target keeps it (driver.c). */
extern const struct scst_attr_table iscsi_portal_attr_table;
void *iscsi_target_portals_of(void *tgt);

void iscsi_allowed_portals_clear(struct iscsi_allowed_portals *ap);
bool iscsi_portal_allowed(const struct iscsi_allowed_portals *ap, const char *local_ip);

#endif
