/* Unit attentions (SAM-5 5.14): conditions queued per I_T_L nexus and
 * reported, oldest first, as CHECK CONDITION on the next command that is
 * not exempt (INQUIRY, REPORT LUNS, REQUEST SENSE). */
#include <stdlib.h>

#include "base/log.h"
#include "core/core_internal.h"

/* Enough for every distinct condition; a nexus that never collects its
 * UAs must not make the queue grow without bound. */
#define MAX_UAS_PER_NEXUS 16

struct scst_ua {
	struct list_head entry;
	struct scsi_sense sense;
};

static void queue_ua_locked(struct scst_tgt_dev *tgt_dev, struct scsi_sense sense)
{
	struct scst_ua *ua;
	unsigned n = 0;

	list_for_each_entry(ua, &tgt_dev->uas, entry) {
		/* The same condition twice tells the initiator nothing new. */
		if (ua->sense.key == sense.key && ua->sense.asc == sense.asc)
			return;
		n++;
	}
	if (n >= MAX_UAS_PER_NEXUS)
		return;
	ua = calloc(1, sizeof(*ua));
	if (!ua) {
		log_error("out of memory queueing a unit attention");
		return;
	}
	ua->sense = sense;
	list_add_tail(&ua->entry, &tgt_dev->uas);
	atomic_store(&tgt_dev->ua_pending, true);
}

void scst_tgt_dev_queue_ua(struct scst_tgt_dev *tgt_dev, struct scsi_sense sense)
{
	pthread_mutex_lock(&tgt_dev->dev->lock);
	queue_ua_locked(tgt_dev, sense);
	pthread_mutex_unlock(&tgt_dev->dev->lock);
}

void scst_dev_queue_ua(struct scst_device *dev, struct scst_tgt_dev *except,
		       struct scsi_sense sense)
{
	struct scst_tgt_dev *tgt_dev;

	pthread_mutex_lock(&dev->lock);
	list_for_each_entry(tgt_dev, &dev->tgt_devs, dev_entry) {
		if (tgt_dev != except)
			queue_ua_locked(tgt_dev, sense);
	}
	pthread_mutex_unlock(&dev->lock);
}

bool scst_tgt_dev_take_ua(struct scst_tgt_dev *tgt_dev, struct scsi_sense *sense)
{
	struct scst_ua *ua = NULL;

	if (!atomic_load(&tgt_dev->ua_pending))
		return false;
	pthread_mutex_lock(&tgt_dev->dev->lock);
	if (!list_empty(&tgt_dev->uas)) {
		ua = list_first_entry(&tgt_dev->uas, struct scst_ua, entry);
		list_del(&ua->entry);
	}
	atomic_store(&tgt_dev->ua_pending, !list_empty(&tgt_dev->uas));
	pthread_mutex_unlock(&tgt_dev->dev->lock);
	if (!ua)
		return false;
	*sense = ua->sense;
	free(ua);
	return true;
}

void scst_tgt_dev_clear_uas(struct scst_tgt_dev *tgt_dev)
{
	struct scst_ua *ua, *tmp;

	list_for_each_entry_safe(ua, tmp, &tgt_dev->uas, entry) {
		list_del(&ua->entry);
		free(ua);
	}
	atomic_store(&tgt_dev->ua_pending, false);
}
