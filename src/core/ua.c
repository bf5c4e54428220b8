/* Unit attentions (SAM-5 5.14): conditions queued per I_T_L nexus, who
 * gets each one (the fan-out), and the commands that report and clear
 * them. The rules themselves (precedence, duplicates, superseding, the
 * bound, UA_INTLCK_CTRL) are pure functions in ua_rules.c; this file
 * keeps each nexus's queue under its device's lock and applies them.
 *
 * Who is told what:
 *   POWER ON, RESET, OR BUS DEVICE RESET OCCURRED  each nexus of a new
 *       session (session.c), unless its I_T nexus was lost before (below)
 *   BUS DEVICE RESET FUNCTION OCCURRED  every nexus of a logical unit
 *       reset, its requester's too (SAM-5 6.3.3; tmf.c)
 *   I_T NEXUS LOSS OCCURRED  the nexuses of an initiator port that logs in
 *       again after its I_T nexus was lost (scst_ua_nexus_lost(),
 *       scst_ua_initial_sense()), and those of an I_T NEXUS RESET (tmf.c)
 *   COMMANDS CLEARED BY ANOTHER INITIATOR  with TAS 0, each nexus whose
 *       commands another nexus's task management aborted (tmf.c, through
 *       scst_ua_commands_cleared())
 *   REPORTED LUNS DATA HAS CHANGED  every nexus of a session whose LUN
 *       map changed (session.c); REPORT LUNS clears it
 *   CAPACITY DATA HAS CHANGED  every nexus of a device whose size
 *       changed (scst_device_resync_size())
 *   MODE PARAMETERS CHANGED  every nexus but the one whose MODE SELECT
 *       changed them (vdisk_mode.c)
 *   INQUIRY DATA HAS CHANGED  no trigger yet: nothing changes a
 *       device's identity at run time; issue 8's -set_dev_attr will
 *       queue it on every nexus with scst_dev_queue_ua()
 *
 * The driver may announce each condition as it is queued (the OPTIONAL
 * ua_queued op, iSCSI's AsyncEvent 0): told on the session's reactor,
 * for everything but the ASC 29h family (a new nexus's POWER ON or I_T
 * NEXUS LOSS, resets), which the initiator learns of otherwise.
 *
 * Storage: td->uas (a list head the session initialises) holds at most
 * one node, the nexus's whole queue, allocated with the nexus's first
 * condition: a fixed array, so that establishing a condition never
 * allocates again and cannot fail half-way through a fan-out. */
#include <assert.h>
#include <stdlib.h>

#include "base/log.h"
#include "core/copy_token.h"
#include "core/core_internal.h"
#include "core/ua_rules.h"

struct ua_node {
	struct list_head entry; /* td->uas, its only member */
	struct scst_ua_queue q;
};

/* The nexus's queue, NULL if it never had a condition; dev->lock. */
static struct scst_ua_queue *queue_of(struct scst_tgt_dev *td)
{
	if (list_empty(&td->uas))
		return NULL;
	return &list_first_entry(&td->uas, struct ua_node, entry)->q;
}

/* Publishes whether a condition is pending, for the lock-free check
 * every command makes; dev->lock. */
static void publish(struct scst_tgt_dev *td, const struct scst_ua_queue *q)
{
	atomic_store_explicit(&td->ua_pending, q && q->n > 0, memory_order_release);
}

/* A condition on its way to the driver's ua_queued. */
struct ua_notice {
	struct reactor_msg msg;
	struct scst_tgt_dev *td; /* referenced */
	unsigned len;
	uint8_t sense[SCSI_SENSE_BUFFERSIZE];
};

static void ua_notice_run(struct reactor_msg *m)
{
	struct ua_notice *n = container_of(m, struct ua_notice, msg);

	assert(reactor_self() == n->td->reactor);
	n->td->sess->tgt->tgtt->ua_queued(n->td, n->sense, n->len);
	scst_tgt_dev_put(n->td);
	free(n);
}

/* A reference on @td unless its last one is already being dropped (a
 * nexus stays in dev->tgt_devs until its final put takes dev->lock). */
static bool tgt_dev_get_live(struct scst_tgt_dev *td)
{
	unsigned refs = atomic_load(&td->refs);

	do {
		if (refs == 0)
			return false;
	} while (!atomic_compare_exchange_weak(&td->refs, &refs, refs + 1));
	return true;
}

/* Tells the driver of @td about @sense, just queued; dev->lock. An
 * allocation failure loses the announcement only: the condition is
 * queued and reported as ever. */
static void announce(struct scst_tgt_dev *td, struct scsi_sense sense)
{
	struct ua_notice *n;

	if (!td->sess->tgt->tgtt->ua_queued || sense.asc >> 8 == 0x29)
		return;
	n = calloc(1, sizeof(*n));
	if (!n) {
		log_warn_rl("out of memory: unit attention %02x/%04x of LUN %llu not announced to "
			    "session %s", sense.key, sense.asc, (unsigned long long)td->lun,
			    td->sess->initiator_name);
		return;
	}
	if (!tgt_dev_get_live(td)) {
		free(n);
		return;
	}
	n->td = td;
	n->len = (unsigned)scsi_sense_encode(&sense, false, n->sense, sizeof(n->sense));
	reactor_send(td->reactor, &n->msg, ua_notice_run);
}

void scst_tgt_dev_queue_ua_locked(struct scst_tgt_dev *td, struct scsi_sense sense)
{
	struct scst_ua_queue *q = queue_of(td);

	if (!q) {
		struct ua_node *node = calloc(1, sizeof(*node));

		if (!node) {
			log_error("out of memory: LUN %llu of session %s misses unit attention %02x/%04x",
				  (unsigned long long)td->lun, td->sess->initiator_name, sense.key,
				  sense.asc);
			return;
		}
		list_add_tail(&node->entry, &td->uas);
		q = &node->q;
	}
	enum scst_ua_add_result added = scst_ua_queue_add(q, sense);
	if (added == SCST_UA_OVERFLOW)
		log_warn_rl("session %s, LUN %llu: %u unit attentions not collected; they become "
			    "one POWER ON, RESET, OR BUS DEVICE RESET OCCURRED",
			    td->sess->initiator_name, (unsigned long long)td->lun,
			    SCST_UA_QUEUE_MAX);
	publish(td, q);
	if (added == SCST_UA_ADDED)
		announce(td, sense);
}

void scst_tgt_dev_queue_ua(struct scst_tgt_dev *td, struct scsi_sense sense)
{
	pthread_mutex_lock(&td->dev->lock);
	scst_tgt_dev_queue_ua_locked(td, sense);
	pthread_mutex_unlock(&td->dev->lock);
}

void scst_dev_queue_ua(struct scst_device *dev, struct scst_tgt_dev *except,
		       struct scsi_sense sense)
{
	struct scst_tgt_dev *td;

	pthread_mutex_lock(&dev->lock);
	list_for_each_entry(td, &dev->tgt_devs, dev_entry) {
		if (td != except)
			scst_tgt_dev_queue_ua_locked(td, sense);
	}
	pthread_mutex_unlock(&dev->lock);
}

bool scst_tgt_dev_ua_check_condition(struct scst_tgt_dev *td, struct scsi_sense *sense)
{
	struct scst_ua_queue *q;
	bool reported;

	/* The common case, no lock: nothing pending. */
	if (!atomic_load_explicit(&td->ua_pending, memory_order_acquire))
		return false;
	pthread_mutex_lock(&td->dev->lock);
	q = queue_of(td);
	reported = q && scst_ua_queue_check_condition(q, atomic_load(&td->dev->ua_intlck_ctrl),
						      sense);
	publish(td, q);
	pthread_mutex_unlock(&td->dev->lock);
	return reported;
}

bool scst_tgt_dev_ua_request_sense(struct scst_tgt_dev *td, struct scsi_sense *sense)
{
	struct scst_ua_queue *q;
	bool taken;

	if (!atomic_load_explicit(&td->ua_pending, memory_order_acquire))
		return false;
	pthread_mutex_lock(&td->dev->lock);
	q = queue_of(td);
	taken = q && scst_ua_queue_request_sense(q, sense);
	publish(td, q);
	pthread_mutex_unlock(&td->dev->lock);
	return taken;
}

bool scst_tgt_dev_ua_peek(struct scst_tgt_dev *td, struct scsi_sense *sense, unsigned *n)
{
	struct scst_ua_queue *q;
	bool pending;

	*n = 0;
	if (!atomic_load_explicit(&td->ua_pending, memory_order_acquire))
		return false;
	pthread_mutex_lock(&td->dev->lock);
	q = queue_of(td);
	pending = q && scst_ua_queue_peek(q, sense, n);
	pthread_mutex_unlock(&td->dev->lock);
	return pending;
}

void scst_session_ua_report_luns(struct scst_session *sess)
{
	const struct scst_lun_table *t = scst_session_luns(sess);

	/* SPC-4 6.33: the I_T nexus has now seen its inventory, through
	 * whichever of its logical units it asked. */
	for (unsigned i = 0; t && i < t->n; i++) {
		struct scst_tgt_dev *td = t->tgt_devs[i];
		struct scst_ua_queue *q;

		if (!atomic_load_explicit(&td->ua_pending, memory_order_acquire))
			continue;
		pthread_mutex_lock(&td->dev->lock);
		q = queue_of(td);
		if (q)
			scst_ua_queue_remove(q, ASC_REPORTED_LUNS_DATA_HAS_CHANGED);
		publish(td, q);
		pthread_mutex_unlock(&td->dev->lock);
	}
}

void scst_tgt_dev_ua_status(struct scst_tgt_dev *td, uint8_t status)
{
	uint16_t asc = scst_ua_for_status(status, atomic_load(&td->dev->ua_intlck_ctrl));

	if (asc)
		scst_tgt_dev_queue_ua(td, scsi_sense_make(SK_UNIT_ATTENTION, asc));
}

void scst_tgt_dev_clear_uas(struct scst_tgt_dev *td)
{
	struct ua_node *node, *tmp;

	list_for_each_entry_safe(node, tmp, &td->uas, entry) {
		list_del(&node->entry);
		free(node);
	}
	atomic_store(&td->ua_pending, false);
}

void scst_ua_commands_cleared_locked(struct scst_tgt_dev *td)
{
	scst_tgt_dev_queue_ua_locked(td, scsi_sense_make(SK_UNIT_ATTENTION,
							 ASC_COMMANDS_CLEARED_BY_ANOTHER_INITIATOR));
}

void scst_ua_commands_cleared(struct scst_tgt_dev *td)
{
	pthread_mutex_lock(&td->dev->lock);
	scst_ua_commands_cleared_locked(td);
	pthread_mutex_unlock(&td->dev->lock);
}

/* ---- what changed in a device ---- */

int scst_device_resync_size(struct scst_device *dev)
{
	uint64_t before = scst_dev_nblocks(dev);
	char err[256] = "";
	int rc;

	if (!dev->handler->resync_size)
		return 0;
	rc = dev->handler->resync_size(dev, err, sizeof(err));
	if (rc < 0) {
		log_error("device %s: size not resynchronised, it stays %llu blocks: %s", dev->name,
			  (unsigned long long)before, err);
		return -1;
	}
	if (rc == 0 || scst_dev_nblocks(dev) == before)
		return 0;
	log_info("device %s: capacity changed from %llu to %llu blocks of %u bytes", dev->name,
		 (unsigned long long)before, (unsigned long long)scst_dev_nblocks(dev),
		 dev->block_size);
	/* A ROD token of blocks past the new end stands for data that is
	 * gone (copy_token.h). */
	copy_token_device_resized(dev, scst_dev_nblocks(dev));
	/* Every nexus, none excepted: no initiator asked for it. */
	scst_dev_queue_ua(dev, NULL,
			  scsi_sense_make(SK_UNIT_ATTENTION, ASC_CAPACITY_DATA_HAS_CHANGED));
	return 1;
}

/* ---- lost I_T nexuses ---- */

static pthread_mutex_t lost_lock = PTHREAD_MUTEX_INITIALIZER;
static struct scst_lost_nexuses lost;

void scst_ua_nexus_lost(const struct scst_session *sess)
{
	uint8_t key[SCST_LOST_NEXUS_KEY_MAX];
	size_t len = scst_lost_nexus_key(sess->tgt->name, sess->transport_id,
					 sess->transport_id_len, key);

	pthread_mutex_lock(&lost_lock);
	scst_lost_nexus_add(&lost, key, len);
	pthread_mutex_unlock(&lost_lock);
}

struct scsi_sense scst_ua_initial_sense(const struct scst_session *sess)
{
	uint8_t key[SCST_LOST_NEXUS_KEY_MAX];
	size_t len = scst_lost_nexus_key(sess->tgt->name, sess->transport_id,
					 sess->transport_id_len, key);
	bool was_lost;

	pthread_mutex_lock(&lost_lock);
	was_lost = scst_lost_nexus_take(&lost, key, len);
	pthread_mutex_unlock(&lost_lock);
	return scsi_sense_make(SK_UNIT_ATTENTION,
			       was_lost ? ASC_I_T_NEXUS_LOSS_OCCURRED : ASC_POWER_ON_RESET);
}
