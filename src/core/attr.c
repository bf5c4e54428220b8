/* Attribute value parsing shared by the core, handlers and drivers. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/scst.h"

bool scst_attr_bool(const char *value, bool *out)
{
	if (!strcmp(value, "1") || !strcasecmp(value, "yes") || !strcasecmp(value, "true") ||
	    !strcasecmp(value, "on")) {
		*out = true;
		return true;
	}
	if (!strcmp(value, "0") || !strcasecmp(value, "no") || !strcasecmp(value, "false") ||
	    !strcasecmp(value, "off")) {
		*out = false;
		return true;
	}
	return false;
}

bool scst_attr_u64(const char *value, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!*value || *value == '-')
		return false;
	errno = 0;
	v = strtoull(value, &end, 0);
	if (errno || *end)
		return false;
	*out = v;
	return true;
}
