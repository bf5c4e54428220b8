/* libFuzzer harness: scst.conf text through the parser (src/mgmt/config.c)
 * and, when that is safe, the apply step against a registry that holds
 * nothing else.
 *
 * The input is the file's text (cut at its first NUL, as a C string).
 * Apply runs only when every HANDLER section names vdisk_nullio or a
 * handler that does not exist: fileio and blockio would open files named
 * by the input. What must hold, beyond what ASan and UBSan see:
 *  - a refused file gets a reason of the form "FILE:LINE: reason" (or
 *    "FILE: reason"), as config.h promises;
 *  - a refused apply leaves the registry as it found it (empty), as
 *    config_apply() promises; an accepted one is torn down here.
 * A violation aborts. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/scst.h"
#include "handlers/vdisk/vdisk.h"
#include "mgmt/config.h"
#include "targets/iscsi/iscsi.h"

#define FILENAME "fuzz.conf"

#define CHECK(cond)                                                               \
	do {                                                                      \
		if (!(cond)) {                                                    \
			fprintf(stderr, "fuzz_config: %s:%d: check failed: %s\n", \
				__FILE__, __LINE__, #cond);                       \
			abort();                                                  \
		}                                                                 \
	} while (0)

static void setup_once(void)
{
	static bool done;

	if (done)
		return;
	done = true;
	/* The apply step needs the handlers and the driver registered; no
	 * reactor is involved until a session exists. */
	scst_core_init();
	if (vdisk_register() || iscsi_driver_register()) {
		fprintf(stderr, "fuzz_config: cannot register vdisk and iscsi\n");
		abort();
	}
}

static void check_reason(const char *err)
{
	CHECK(err[0] != '\0');
	CHECK(strncmp(err, FILENAME ":", strlen(FILENAME ":")) == 0);
}

/* Touches every string of the tree, so that ASan sees a dangling or
 * unterminated one. */
static size_t walk(const struct config_block *b, unsigned depth)
{
	size_t n = strlen(b->keyword);

	CHECK(depth < 16);
	if (b->name)
		n += strlen(b->name);
	if (b->section == CONFIG_LUN) {
		CHECK(b->device != NULL);
		CHECK(b->lun <= CONFIG_MAX_LUN);
		n += strlen(b->device);
	}
	for (unsigned i = 0; i < b->nattrs; i++) {
		n += strlen(b->attrs[i].name) + strlen(b->attrs[i].value);
		/* The first attribute of a name is the one found. */
		CHECK(config_find_attr(b, b->attrs[i].name) != NULL);
	}
	for (unsigned i = 0; i < b->nchildren; i++)
		n += walk(&b->children[i], depth + 1);
	return n;
}

static bool apply_is_safe(const struct config_tree *tree)
{
	for (unsigned i = 0; i < tree->root.nchildren; i++) {
		const struct config_block *b = &tree->root.children[i];
		if (b->section != CONFIG_HANDLER)
			continue;
		if (strcmp(b->name, "vdisk_nullio") != 0 && scst_find_dev_handler(b->name))
			return false;
	}
	return true;
}

static void count_target(struct scst_tgt *tgt, void *ctx)
{
	struct scst_tgt **last = ctx;
	*last = tgt;
}

static void count_device(struct scst_device *dev, void *ctx)
{
	struct scst_device **last = ctx;
	*last = dev;
}

/* Removes every target and device; returns how many there were. The
 * caller holds scst_mutex. */
static unsigned clear_registry(void)
{
	unsigned n = 0;
	char err[256];

	for (;;) {
		struct scst_tgt *tgt = NULL;
		scst_for_each_target(NULL, count_target, &tgt);
		if (!tgt)
			break;
		scst_target_destroy(tgt);
		n++;
	}
	for (;;) {
		struct scst_device *dev = NULL;
		scst_for_each_device(count_device, &dev);
		if (!dev)
			break;
		/* No target is left, so no LUN can hold it. */
		CHECK(scst_device_destroy(dev, err, sizeof(err)) == 0);
		n++;
	}
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512] = "";

	setup_once();
	char *text = malloc(size + 1);
	CHECK(text);
	memcpy(text, data, size);
	text[size] = '\0';

	struct config_tree *tree = config_parse_string(text, FILENAME, err, sizeof(err));
	free(text); /* the tree must not point into the text */
	if (!tree) {
		check_reason(err);
		return 0;
	}
	CHECK(tree->root.section == CONFIG_ROOT);
	(void)walk(&tree->root, 0);
	if (apply_is_safe(tree)) {
		pthread_mutex_lock(&scst_mutex);
		err[0] = '\0';
		if (config_apply(tree, NULL, err, sizeof(err)) < 0) {
			check_reason(err);
			/* A failed apply undoes all it created. */
			CHECK(clear_registry() == 0);
		} else {
			clear_registry();
		}
		pthread_mutex_unlock(&scst_mutex);
	}
	config_free(tree);
	return 0;
}
