/* Name patterns: initiator names of access control groups and portal
 * addresses of targets (allowed_portal), as SCST writes them:
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
#ifndef USCST_CORE_NAME_PATTERN_H
#define USCST_CORE_NAME_PATTERN_H

#include <stdbool.h>

/* Longest pattern accepted (an iSCSI name is at most 223 bytes; a
 * pattern may add a '!'). */
#define NAME_PATTERN_MAX 255

/* Whether @pattern, without its leading '!' if any, matches @name. */
bool name_pattern_match(const char *pattern, const char *name);

/* Whether some name matches both @a and @b (both without '!'). */
bool name_patterns_overlap(const char *a, const char *b);

/* Whether @pattern is acceptable: 1..NAME_PATTERN_MAX bytes, printable
 * ASCII without blanks, and not '!' alone. */
bool name_pattern_valid(const char *pattern);

/* A set of patterns (a group's INITIATOR lines, a target's allowed_portal
 * lines) judged against one name, one pattern at a time: it takes the name
 * when a pattern without '!' matches and no '!' pattern does, or when it
 * has exclusions only and none matches. An empty set takes nothing. */
struct name_pattern_verdict {
	bool included;     /* a pattern without '!' matched */
	bool excluded;     /* a '!' pattern matched */
	bool has_positive; /* the set has a pattern without '!' */
	bool has_any;
};

void name_pattern_verdict_add(struct name_pattern_verdict *v, const char *pattern,
			      const char *name);
bool name_pattern_verdict_takes(const struct name_pattern_verdict *v);

/* Whether @pattern is an exclusion. */
static inline bool name_pattern_excludes(const char *pattern)
{
	return pattern[0] == '!';
}

#endif
