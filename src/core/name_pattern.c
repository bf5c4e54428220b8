/* Initiator name patterns (name_pattern.h). Matching is the classic
 * greedy walk with one backtrack point, linear in practice and never
 * recursive, so that a hostile name cannot blow the stack or take
 * exponential time. Overlap of two patterns is reachability in the product
 * of their automata: a bitmap of (position in a, position in b) pairs, as
 * both are at most NAME_PATTERN_MAX long. */
#include "core/name_pattern.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char *strip_exclusion(const char *p)
{
	return p[0] == '!' ? p + 1 : p;
}

bool name_pattern_match(const char *pattern, const char *name)
{
	const char *p = strip_exclusion(pattern), *n = name;
	const char *star = NULL, *star_name = NULL;

	while (*n) {
		if (*p == '*') {
			/* Remember where the run may resume if what follows
			 * the star fails to match here. */
			star = ++p;
			star_name = n;
		} else if (*p == '?' || *p == *n) {
			p++;
			n++;
		} else if (star) {
			p = star;
			n = ++star_name;
		} else {
			return false;
		}
	}
	while (*p == '*')
		p++;
	return *p == '\0';
}

void name_pattern_verdict_add(struct name_pattern_verdict *v, const char *pattern,
			      const char *name)
{
	bool match = name_pattern_match(pattern, name);

	v->has_any = true;
	if (name_pattern_excludes(pattern)) {
		v->excluded |= match;
	} else {
		v->has_positive = true;
		v->included |= match;
	}
}

bool name_pattern_verdict_takes(const struct name_pattern_verdict *v)
{
	if (v->excluded || !v->has_any)
		return false;
	return v->included || !v->has_positive;
}

bool name_pattern_valid(const char *pattern)
{
	size_t len = strlen(pattern);

	if (len == 0 || len > NAME_PATTERN_MAX || strcmp(pattern, "!") == 0)
		return false;
	for (const char *c = pattern; *c; c++)
		if (*c <= ' ' || *c > '~' || (*c == '!' && c != pattern))
			return false;
	return true;
}

#define POS_MAX (NAME_PATTERN_MAX + 1)

/* Visited (i, j) pairs of the product automaton. */
struct overlap_walk {
	const char *a, *b;
	size_t la, lb;
	uint8_t seen[(POS_MAX * POS_MAX + 7) / 8];
	uint16_t stack[POS_MAX * POS_MAX][2];
	size_t depth;
};

static void visit(struct overlap_walk *w, size_t i, size_t j)
{
	size_t bit = i * POS_MAX + j;

	if (w->seen[bit / 8] & (1u << (bit % 8)))
		return;
	w->seen[bit / 8] |= (uint8_t)(1u << (bit % 8));
	w->stack[w->depth][0] = (uint16_t)i;
	w->stack[w->depth][1] = (uint16_t)j;
	w->depth++;
}

/* Whether the pattern characters @x and @y (neither '*') accept a common
 * character. */
static bool chars_meet(char x, char y)
{
	return x == '?' || y == '?' || x == y;
}

bool name_patterns_overlap(const char *pa, const char *pb)
{
	const char *a = strip_exclusion(pa), *b = strip_exclusion(pb);
	struct overlap_walk *w;
	bool meet = false;

	if (strlen(a) > NAME_PATTERN_MAX || strlen(b) > NAME_PATTERN_MAX)
		return false;
	/* 264 KiB: management only, never on a reactor's stack. Without
	 * memory, say they overlap: the caller then refuses, never lets two
	 * groups share an initiator. */
	w = calloc(1, sizeof(*w));
	if (!w)
		return true;
	w->a = a;
	w->b = b;
	w->la = strlen(a);
	w->lb = strlen(b);
	visit(w, 0, 0);
	while (w->depth && !meet) {
		w->depth--;
		size_t i = w->stack[w->depth][0], j = w->stack[w->depth][1];
		bool sa = i < w->la && a[i] == '*', sb = j < w->lb && b[j] == '*';

		if (i == w->la && j == w->lb) {
			meet = true;
			break;
		}
		/* A star may match nothing: step over it alone. */
		if (sa)
			visit(w, i + 1, j);
		if (sb)
			visit(w, i, j + 1);
		/* Or both sides consume one common character; a star stays
		 * where it is. */
		if (i < w->la && j < w->lb && (sa || sb || chars_meet(a[i], b[j])))
			visit(w, sa ? i : i + 1, sb ? j : j + 1);
	}
	free(w);
	return meet;
}
