/* allowed_portal (portal_access.h). */
#include "targets/iscsi/portal_access.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/attr_desc.h"
#include "core/name_pattern.h"

/* One more allowed_portal line. */
static int parse_allowed_portal(void *obj, const struct scst_attr_desc *d, const char *value,
				char *err, size_t errlen)
{
	struct iscsi_allowed_portals *ap = obj;
	char **patterns;

	if (!name_pattern_valid(value)) {
		snprintf(err, errlen, "%s '%s' is not an address pattern", d->name, value);
		return -1;
	}
	patterns = realloc(ap->patterns, (ap->n + 1) * sizeof(*patterns));
	if (!patterns) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	ap->patterns = patterns;
	ap->patterns[ap->n] = strdup(value);
	if (!ap->patterns[ap->n]) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	ap->n++;
	return 0;
}

static void show_allowed_portals(const void *obj, const struct scst_attr_desc *d,
				 scst_attr_emit_fn *emit, void *ctx)
{
	const struct iscsi_allowed_portals *ap = obj;

	for (unsigned i = 0; i < ap->n; i++)
		emit(ctx, d->name, ap->patterns[i]);
}

static void release_allowed_portals(void *obj)
{
	iscsi_allowed_portals_clear(obj);
}

static const struct scst_attr_desc portal_descs[] = {
	{ .name = "allowed_portal", .type = SCST_ATTR_CUSTOM, .flags = SCST_ATTR_MULTI,
	  .type_name = "address pattern", .parse = parse_allowed_portal,
	  .show = show_allowed_portals,
	  .help = "A pattern ('*', '?', '!' to exclude) of the local addresses the target is "
		  "offered and reachable on; one line each; default: every portal." },
};

const struct scst_attr_table iscsi_portal_attr_table = {
	.name = "iscsi",
	.owner = SCST_ATTR_OWNER_TARGET,
	.descs = portal_descs,
	.ndescs = SCST_ATTR_TABLE_LEN(portal_descs),
	.object_size = sizeof(struct iscsi_allowed_portals),
	.object_of = iscsi_target_portals_of,
	.release = release_allowed_portals,
	.reparsed_live = true,
};

void iscsi_allowed_portals_clear(struct iscsi_allowed_portals *ap)
{
	for (unsigned i = 0; i < ap->n; i++)
		free(ap->patterns[i]);
	free(ap->patterns);
	ap->patterns = NULL;
	ap->n = 0;
}

bool iscsi_portal_allowed(const struct iscsi_allowed_portals *ap, const char *local_ip)
{
	struct name_pattern_verdict v = { 0 };

	if (!ap->n)
		return true;
	for (unsigned i = 0; i < ap->n; i++)
		name_pattern_verdict_add(&v, ap->patterns[i], local_ip);
	return name_pattern_verdict_takes(&v);
}
