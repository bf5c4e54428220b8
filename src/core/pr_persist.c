/* APTPL: the persistent reservations of a device kept in the state
 * directory (pr_store.c encodes the file and writes it on its writer
 * thread), loaded when the device is created and saved after every change
 * while APTPL is on, or removed when it goes off. */
#include "core/pr_internal.h"

bool scst_pr_store_available(void)
{
	return pr_store_available();
}

int scst_pr_load(struct scst_device *dev, char *err, size_t errlen)
{
	/* pr_store_load() logs what it found. */
	return pr_store_load(dev->name, &dev->pr, err, errlen);
}

/* On the reactor the save was submitted for. */
static void saved(struct pr_store_req *req, int err)
{
	struct scst_pr_save *save = container_of(req, struct scst_pr_save, req);

	save->error = -err;
	save->done(save);
}

void scst_pr_save_submit_locked(struct scst_device *dev, struct scst_pr_save *save,
				struct reactor *reactor, void (*done)(struct scst_pr_save *save))
{
	save->done = done;
	save->error = 0;
	pr_store_save(&save->req, dev->name, &dev->pr, reactor, saved);
}
