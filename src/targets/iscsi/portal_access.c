/* allowed_portal (portal_access.h). */
#include "targets/iscsi/portal_access.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/name_pattern.h"

int iscsi_allowed_portals_parse(struct iscsi_allowed_portals *ap, struct scst_attr *attrs,
				unsigned nattrs, char *err, size_t errlen)
{
	unsigned n = 0;

	for (unsigned i = 0; i < nattrs; i++)
		n += strcmp(attrs[i].name, "allowed_portal") == 0;
	if (!n)
		return 0;
	ap->patterns = calloc(n, sizeof(*ap->patterns));
	if (!ap->patterns) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (unsigned i = 0; i < nattrs; i++) {
		if (strcmp(attrs[i].name, "allowed_portal") != 0)
			continue;
		if (!name_pattern_valid(attrs[i].value)) {
			snprintf(err, errlen, "allowed_portal '%s' is not an address pattern",
				 attrs[i].value);
			iscsi_allowed_portals_clear(ap);
			return -1;
		}
		ap->patterns[ap->n] = strdup(attrs[i].value);
		if (!ap->patterns[ap->n]) {
			snprintf(err, errlen, "out of memory");
			iscsi_allowed_portals_clear(ap);
			return -1;
		}
		ap->n++;
		attrs[i].consumed = true;
	}
	return 0;
}

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
