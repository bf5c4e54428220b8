/* The steps from the running configuration to a file's (config_diff.c). */
#ifndef USCST_MGMT_CONFIG_DIFF_H
#define USCST_MGMT_CONFIG_DIFF_H

#include <stdbool.h>
#include <stddef.h>

#include "mgmt/config.h"

struct config_diff_input {
	const struct config_tree *want;     /* the file */
	const struct config_tree *have_all; /* the running state, every attribute */
	const struct config_tree *have_key; /* the running state, key attributes */
	/* Attribute @name holds a secret: steps do not show its values. */
	bool (*is_secret)(const char *name);
	/* Whether two spellings of attribute @name are one value (yes, 1). */
	bool (*same_value)(const char *name, const char *a, const char *b);
	/* An attribute of a @keyword section that a file leaving it out keeps
	 * as it runs (a target's rel_tgt_id), rather than its default. */
	bool (*kept_when_absent)(const char *keyword, const char *name);
	/* What a step changing attribute @name of a @keyword section will
	 * not do, e.g. "not applied: fixed while the device exists"; NULL
	 * when it applies. */
	const char *(*note)(const char *keyword, const char *name);
};

/* Calls @fn with each step, in the file's order: "add PATH", "remove
 * PATH", "replace PATH: OLD -> NEW", "change PATH NAME: OLD -> NEW", where
 * PATH is "TARGET_DRIVER iscsi / TARGET iqn... / LUN 1". Returns the
 * number of steps. */
unsigned config_diff(const struct config_diff_input *in, void (*fn)(void *ctx, const char *line),
		     void *ctx);

/* The steps from the running state to @want, as config_diff() gives
 * them, the running state written out (config_write.c) for the
 * comparison. Returns their number, or -1 with the reason in @err.
 * scst_mutex held. */
int config_steps(const struct config_tree *want, void (*fn)(void *ctx, const char *line),
		 void *ctx, char *err, size_t errlen);

#endif
