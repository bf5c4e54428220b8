/* A parsed configuration's attributes rewritten as the running
 * configuration writes them (config_canon.c): the key attributes of each
 * section, in the descriptors' spelling, so that config_diff() compares
 * values. Management thread; the registered handlers and drivers name the
 * tables. */
#ifndef USCST_MGMT_CONFIG_CANON_H
#define USCST_MGMT_CONFIG_CANON_H

#include "mgmt/config.h"

void config_canonicalize(struct config_tree *tree);

#endif
