/* APTPL: the persistent reservations of a device kept in the state
 * directory (pr_store.c writes the file), loaded when the device is
 * created and saved after every change while APTPL is on. */
#include <errno.h>

#include "core/pr_internal.h"

bool scst_pr_store_available(void)
{
	return false;
}

void scst_pr_save_submit_locked(struct scst_device *dev, struct scst_pr_save *save,
				struct reactor *reactor, void (*done)(struct scst_pr_save *save))
{
	(void)dev;
	save->reactor = reactor;
	save->done = done;
	save->error = ENOSYS;
}
