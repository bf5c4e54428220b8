/* Attribute value parsing shared by the core, handlers and drivers. */
#include <stdint.h>
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

/* Decimal digits only, as SCST's numeric attributes are written: "010" is
 * ten (strtoull's base 0 read it as octal eight), and a sign, blanks, an
 * empty value, anything after the digits and a value beyond 2^64-1 are
 * refused rather than read as something else. No uscst attribute takes
 * hex; one that does gets its own parser. */
bool scst_attr_u64(const char *value, uint64_t *out)
{
	uint64_t v = 0;

	if (!*value)
		return false;
	for (const char *c = value; *c; c++) {
		unsigned digit = (unsigned)(*c - '0');

		if (digit > 9)
			return false;
		if (v > (UINT64_MAX - digit) / 10)
			return false;
		v = v * 10 + digit;
	}
	*out = v;
	return true;
}
