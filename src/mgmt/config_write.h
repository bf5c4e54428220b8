/* The running configuration as scst.conf text (config_write.c). */
#ifndef USCST_MGMT_CONFIG_WRITE_H
#define USCST_MGMT_CONFIG_WRITE_H

#include <stdbool.h>
#include <stddef.h>

/* The registry as an scst.conf that config_apply() turns back into the
 * same state: key (non-default) attributes only, or every attribute with
 * a value when @all (scstadmin -nonkey). Secrets are written: the file
 * must log in the same users. Returns the malloc'ed text, or NULL with
 * the reason in @err. scst_mutex held. */
char *config_write_running(bool all, char *err, size_t errlen);

#endif
