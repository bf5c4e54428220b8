/* Initiator name patterns of access control groups, as SCST writes them:
 * '*' matches any run of characters (also none), '?' any one character,
 * everything else itself (initiator names are compared exactly: iSCSI
 * names are already normalised to lower case by the initiator, RFC 7143
 * 4.2.7.1). A leading '!' makes the pattern an exclusion.
 *
 * A group takes an initiator when one of its patterns without '!' matches
 * it and none of its '!' patterns does; a group with exclusions only
 * takes every initiator they do not exclude.
 *
 * Pure functions, no allocation: unit-tested in tests/unit. */
#ifndef USCST_CORE_INITIATOR_PATTERN_H
#define USCST_CORE_INITIATOR_PATTERN_H

#include <stdbool.h>

/* Longest pattern accepted (an iSCSI name is at most 223 bytes; a
 * pattern may add a '!'). */
#define INITIATOR_PATTERN_MAX 255

/* Whether @pattern, without its leading '!' if any, matches @name. */
bool initiator_pattern_match(const char *pattern, const char *name);

/* Whether some name matches both @a and @b (both without '!'). */
bool initiator_patterns_overlap(const char *a, const char *b);

/* Whether @pattern is acceptable: 1..INITIATOR_PATTERN_MAX bytes, printable
 * ASCII without blanks, and not '!' alone. */
bool initiator_pattern_valid(const char *pattern);

/* Whether @pattern is an exclusion. */
static inline bool initiator_pattern_excludes(const char *pattern)
{
	return pattern[0] == '!';
}

#endif
