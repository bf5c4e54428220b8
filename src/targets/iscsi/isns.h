/* The iSNS client (RFC 4171) of the iSCSI driver: registers this daemon's
 * Network Entity, its portals, every enabled target as a Storage Node and
 * their Portal Groups with the server named by the TARGET_DRIVER iscsi
 * section's iSNSServer attribute (SCST's name), keeps the registration up
 * to date, and, with isns_access_control 1, lets an initiator see and log
 * in to only the targets that share a Discovery Domain with it.
 *
 * It all runs on one thread of its own (isns_client.c), which talks to the server
 * with a bounded wait for every answer: a slow, absent or garbage-speaking
 * server delays nothing but that thread. docs/isns.md has the whole
 * behaviour. */
#ifndef USCST_TARGETS_ISCSI_ISNS_H
#define USCST_TARGETS_ISCSI_ISNS_H

#include <stdbool.h>
#include <stddef.h>

#include <stdint.h>

#include "core/attr_desc.h"
#include "targets/iscsi/portal_access.h"

/* Longest iSNSServer value: a host name or address and ":PORT". */
#define ISCSI_ISNS_SERVER_MAX 272

/* The driver section's iSNS attributes (one of the driver's tgtt_attrs),
 * parsed into a struct iscsi_isns_settings. */
struct iscsi_isns_settings {
	char server[ISCSI_ISNS_SERVER_MAX]; /* iSNSServer: "" = no iSNS */
	bool access_control;                /* isns_access_control */
};
extern const struct scst_attr_table iscsi_isns_attr_table;
/* The settings in force (the table's object_of). */
void *iscsi_isns_settings_of(void *unused);

/* Puts @s in force (driver_attrs_finish, scst_mutex held): starts the
 * client thread the first time a server is named, tells it otherwise.
 * Never blocks on the network. */
void iscsi_isns_settings_apply(const struct iscsi_isns_settings *s);

/* A target was added, removed, enabled, disabled or changed: the client
 * compares what it registered with the registry now and re-registers.
 * Cheap and safe from any thread (it only wakes the client). */
void iscsi_isns_kick(void);

/* Shutdown has begun: deregister (DevDereg) and stop. Returns at once;
 * the client finishes within a few seconds, and the daemon's exit waits
 * for it (an atexit handler, bounded). Safe to call more than once. */
void iscsi_isns_shutdown(void);

/* Whether @initiator may see and log in to @tgt_name under iSNS access
 * control: always with isns_access_control 0 or no iSNSServer; else only
 * if the server's last answer for the target listed the initiator as
 * sharing a Discovery Domain with it (none yet: no). Writes why not into
 * @why. Any thread; takes only the client's own lock. */
bool iscsi_isns_initiator_allowed(const char *tgt_name, const char *initiator, char *why,
				  size_t whylen);

/* What the client registers of an enabled target. */
struct iscsi_isns_target {
	const char *name;
	const char *alias; /* TargetAlias, "" when none */
	uint16_t tpgt;     /* iscsi_tpgt() */
	const struct iscsi_allowed_portals *portals;
};
/* Calls @fn for each enabled iSCSI target (driver.c, which knows the
 * driver's targets), under scst_mutex, which it takes. */
void iscsi_isns_each_target(void (*fn)(const struct iscsi_isns_target *t, void *ctx),
			    void *ctx);

#endif
