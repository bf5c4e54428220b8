/* The built-in demo target served when uscstd runs without -c. */
#ifndef USCST_DAEMON_DEMO_H
#define USCST_DAEMON_DEMO_H

#include <stddef.h>

#define DEMO_TARGET_NAME "iqn.2026-11.org.uscst:demo"
#define DEMO_LUN_SIZE (1ull << 30)

/* Creates (if missing) a sparse 1 GiB file in @state_dir and serves it as
 * LUN 0 of DEMO_TARGET_NAME through vdisk_fileio. */
int demo_target_create(const char *state_dir, char *err, size_t errlen);

#endif
