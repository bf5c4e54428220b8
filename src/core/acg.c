/* Access control groups (SCST's scst_acg): LUN masking. A target's default
 * group holds its own LUN lines; a named group holds a LUN map and the
 * initiator name patterns it takes (name_pattern.h). An initiator sees
 * the map of the one named group that takes it, or else the default
 * group's.
 *
 * Everything here runs under scst_mutex, on management's thread or during
 * a login. A change does not reach the sessions by itself: the caller ends
 * a set of changes with scst_tgt_sync_sessions() (session.c), so that a
 * reload that moves LUNs between groups changes each session's view once. */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "core/core_internal.h"
#include "core/name_pattern.h"

/* SCST's SCST_MAX_LUN: LUNs 0..16383, as REPORT LUNS encodes them with
 * the flat space addressing method. */
#define SCST_MAX_LUN 16383

struct scst_acg *scst_acg_new(struct scst_tgt *tgt, const char *name)
{
	struct scst_acg *acg = calloc(1, sizeof(*acg));

	if (!acg)
		return NULL;
	if (name && !(acg->name = strdup(name))) {
		free(acg);
		return NULL;
	}
	acg->tgt = tgt;
	list_init(&acg->luns);
	list_init(&acg->initiators);
	list_init(&acg->tgt_entry);
	return acg;
}

void scst_acg_clear_luns(struct scst_acg *acg)
{
	struct scst_lun *lun, *tmp;

	list_for_each_entry_safe(lun, tmp, &acg->luns, entry) {
		assert(lun->dev->lun_refs > 0);
		lun->dev->lun_refs--;
		list_del(&lun->entry);
		free(lun);
	}
}

void scst_acg_free(struct scst_acg *acg)
{
	struct scst_acn *acn, *tmp;

	scst_acg_clear_luns(acg);
	list_for_each_entry_safe(acn, tmp, &acg->initiators, entry) {
		list_del(&acn->entry);
		free(acn->pattern);
		free(acn);
	}
	free(acg->name);
	free(acg);
}

void scst_acg_destroy(struct scst_acg *acg)
{
	assert(acg->name); /* the default group goes with its target */
	list_del(&acg->tgt_entry);
	scst_acg_free(acg);
}

void scst_tgt_replace_acgs(struct scst_tgt *tgt, struct scst_acg *default_acg,
			   struct scst_acg **groups, unsigned n)
{
	struct scst_acg *acg, *tmp;

	list_for_each_entry_safe(acg, tmp, &tgt->acgs, tgt_entry)
		scst_acg_destroy(acg);
	scst_acg_free(tgt->default_acg);
	tgt->default_acg = default_acg;
	for (unsigned i = 0; i < n; i++) {
		assert(groups[i]->tgt == tgt && groups[i]->name);
		list_add_tail(&groups[i]->tgt_entry, &tgt->acgs);
	}
	scst_tgt_sync_sessions(tgt);
}

static const char *acg_label(const struct scst_acg *acg)
{
	return acg->name ? acg->name : "(default)";
}

int scst_acg_add_lun(struct scst_acg *acg, uint64_t lun_id, struct scst_device *dev,
		     bool read_only, char *err, size_t errlen)
{
	struct scst_lun *lun, *pos;

	if (lun_id > SCST_MAX_LUN) {
		snprintf(err, errlen, "LUN %llu is out of range 0..%u", (unsigned long long)lun_id,
			 SCST_MAX_LUN);
		return -1;
	}
	list_for_each_entry(pos, &acg->luns, entry) {
		if (pos->lun == lun_id) {
			snprintf(err, errlen, "LUN %llu of target %s group %s is already mapped to %s",
				 (unsigned long long)lun_id, acg->tgt->name, acg_label(acg),
				 pos->dev->name);
			return -1;
		}
	}
	lun = calloc(1, sizeof(*lun));
	if (!lun) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	lun->lun = lun_id;
	lun->dev = dev;
	lun->read_only = read_only || dev->read_only;
	dev->lun_refs++;
	/* Kept sorted: REPORT LUNS lists it in order, and session tables
	 * are built from it sorted. */
	list_for_each_entry(pos, &acg->luns, entry) {
		if (pos->lun > lun_id)
			break;
	}
	list_add_tail(&lun->entry, &pos->entry);
	return 0;
}

static struct scst_acn *find_acn(struct scst_acg *acg, const char *pattern)
{
	struct scst_acn *acn;

	list_for_each_entry(acn, &acg->initiators, entry) {
		if (strcmp(acn->pattern, pattern) == 0)
			return acn;
	}
	return NULL;
}

int scst_acg_add_initiator(struct scst_acg *acg, const char *pattern, char *err,
			   size_t errlen)
{
	struct scst_acn *acn;

	assert(acg->name);
	if (!name_pattern_valid(pattern)) {
		snprintf(err, errlen, "'%s' is not an initiator name pattern (1..%d printable "
			 "characters without blanks, '!' only in front)", pattern,
			 NAME_PATTERN_MAX);
		return -1;
	}
	if (find_acn(acg, pattern)) {
		snprintf(err, errlen, "initiator '%s' is already in group %s", pattern, acg->name);
		return -1;
	}
	acn = calloc(1, sizeof(*acn));
	if (!acn || !(acn->pattern = strdup(pattern))) {
		free(acn);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	list_add_tail(&acn->entry, &acg->initiators);
	return 0;
}

bool scst_acg_takes(const struct scst_acg *acg, const char *initiator_name)
{
	const struct scst_acn *acn;
	struct name_pattern_verdict v = { 0 };

	list_for_each_entry(acn, &acg->initiators, entry)
		name_pattern_verdict_add(&v, acn->pattern, initiator_name);
	/* A group without any pattern takes nobody. */
	return name_pattern_verdict_takes(&v);
}

struct scst_acg *scst_acg_for_initiator(struct scst_tgt *tgt, const char *initiator_name,
					char *err, size_t errlen)
{
	struct scst_acg *acg, *found = NULL;

	list_for_each_entry(acg, &tgt->acgs, tgt_entry) {
		if (!scst_acg_takes(acg, initiator_name))
			continue;
		if (found) {
			snprintf(err, errlen, "initiator %s matches both group %s and group %s of "
				 "target %s", initiator_name, found->name, acg->name, tgt->name);
			return NULL;
		}
		found = acg;
	}
	return found ? found : tgt->default_acg;
}

bool scst_tgt_initiator_allowed(struct scst_tgt *tgt, const char *initiator_name, char *err,
				size_t errlen)
{
	struct scst_acg *acg = scst_acg_for_initiator(tgt, initiator_name, err, errlen);

	if (!acg)
		return false;
	if (list_empty(&acg->luns)) {
		snprintf(err, errlen, "target %s has no LUN for initiator %s (group %s)", tgt->name,
			 initiator_name, acg_label(acg));
		return false;
	}
	if (tgt->tgtt->initiator_allowed &&
	    !tgt->tgtt->initiator_allowed(tgt, initiator_name, err, errlen))
		return false;
	return true;
}

struct scst_acg *scst_acg_find(struct scst_tgt *tgt, const char *name)
{
	struct scst_acg *acg;

	if (!name)
		return tgt->default_acg;
	list_for_each_entry(acg, &tgt->acgs, tgt_entry)
		if (strcmp(acg->name, name) == 0)
			return acg;
	return NULL;
}

struct scst_lun *scst_acg_find_lun(struct scst_acg *acg, uint64_t lun_id)
{
	struct scst_lun *lun;

	list_for_each_entry(lun, &acg->luns, entry)
		if (lun->lun == lun_id)
			return lun;
	return NULL;
}

int scst_acg_del_lun(struct scst_acg *acg, uint64_t lun_id, char *err, size_t errlen)
{
	struct scst_lun *lun = scst_acg_find_lun(acg, lun_id);

	if (!lun) {
		snprintf(err, errlen, "target %s group %s has no LUN %llu", acg->tgt->name,
			 acg_label(acg), (unsigned long long)lun_id);
		return -1;
	}
	assert(lun->dev->lun_refs > 0);
	lun->dev->lun_refs--;
	list_del(&lun->entry);
	free(lun);
	return 0;
}

int scst_acg_del_initiator(struct scst_acg *acg, const char *pattern, char *err, size_t errlen)
{
	struct scst_acn *acn = find_acn(acg, pattern);

	if (!acn) {
		snprintf(err, errlen, "initiator '%s' is not in group %s", pattern, acg->name);
		return -1;
	}
	list_del(&acn->entry);
	free(acn->pattern);
	free(acn);
	return 0;
}

bool scst_acg_has_initiator(struct scst_acg *acg, const char *pattern)
{
	return find_acn(acg, pattern) != NULL;
}

static bool has_exclusion(const struct scst_acg *acg)
{
	const struct scst_acn *acn;

	list_for_each_entry(acn, &acg->initiators, entry)
		if (name_pattern_excludes(acn->pattern))
			return true;
	return false;
}

bool scst_acg_clash(const struct scst_acg *a, const struct scst_acg *b, const char **pa,
		    const char **pb)
{
	const struct scst_acn *x, *y;

	if (has_exclusion(a) || has_exclusion(b))
		return false;
	list_for_each_entry(x, &a->initiators, entry) {
		list_for_each_entry(y, &b->initiators, entry) {
			if (name_patterns_overlap(x->pattern, y->pattern)) {
				*pa = x->pattern;
				*pb = y->pattern;
				return true;
			}
		}
	}
	return false;
}

void scst_tgt_add_acg(struct scst_tgt *tgt, struct scst_acg *acg)
{
	assert(acg->tgt == tgt && acg->name && !scst_acg_find(tgt, acg->name));
	list_add_tail(&acg->tgt_entry, &tgt->acgs);
}
