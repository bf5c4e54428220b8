/* Unit attention queue rules (ua_rules.h): pure, no locks, no I/O. */
#include <assert.h>
#include <string.h>

#include "core/ua_rules.h"
#include "scsi/scsi.h"

/* ASC/ASCQ codes only the rules need (SPC-4 annex D). */
enum {
	ASC_DEVICE_INTERNAL_RESET = 0x2904,
	ASC_TRANSCEIVER_MODE_SE = 0x2905,
	ASC_TRANSCEIVER_MODE_LVD = 0x2906,
	ASC_MICROCODE_CHANGED = 0x3f01,
	ASC_CLEARED_BY_POWER_LOSS = 0x2f01,
	ASC_PREVIOUS_BUSY_STATUS = 0x2c07,
	ASC_PREVIOUS_TASK_SET_FULL_STATUS = 0x2c08,
	ASC_PREVIOUS_RESERVATION_CONFLICT_STATUS = 0x2c09,
};

#define PRECEDENCE_LOWEST 7
/* Conditions that say the logical unit was reset or powered on. */
#define PRECEDENCE_SUPERSEDES 2

unsigned scst_ua_precedence(uint16_t asc)
{
	switch (asc) {
	case ASC_POWER_ON_RESET:
		return 1;
	case ASC_POWER_ON_OCCURRED:
	case ASC_DEVICE_INTERNAL_RESET:
		return 2;
	case ASC_BUS_RESET_OCCURRED:
	case ASC_MICROCODE_CHANGED:
	case ASC_TRANSCEIVER_MODE_SE:
	case ASC_TRANSCEIVER_MODE_LVD:
		return 3;
	case ASC_BUS_DEVICE_RESET_FUNCTION_OCCURRED:
		return 4;
	case ASC_I_T_NEXUS_LOSS_OCCURRED:
		return 5;
	case ASC_CLEARED_BY_POWER_LOSS:
		return 6;
	default:
		return PRECEDENCE_LOWEST;
	}
}

static bool same_condition(const struct scsi_sense *a, const struct scsi_sense *b)
{
	return a->key == b->key && a->asc == b->asc;
}

static void remove_at(struct scst_ua_queue *q, unsigned i)
{
	assert(i < q->n);
	memmove(&q->ua[i], &q->ua[i + 1], (q->n - i - 1) * sizeof(q->ua[0]));
	q->n--;
}

static void insert_at(struct scst_ua_queue *q, unsigned i, struct scsi_sense sense)
{
	assert(i <= q->n && q->n < SCST_UA_QUEUE_MAX);
	memmove(&q->ua[i + 1], &q->ua[i], (q->n - i) * sizeof(q->ua[0]));
	q->ua[i] = sense;
	q->n++;
}

enum scst_ua_add_result scst_ua_queue_add(struct scst_ua_queue *q, struct scsi_sense sense)
{
	unsigned prec = scst_ua_precedence(sense.asc);
	unsigned i;

	assert(q->n <= SCST_UA_QUEUE_MAX);
	for (i = 0; i < q->n; i++) {
		if (same_condition(&q->ua[i], &sense))
			return SCST_UA_DUPLICATE;
	}
	if (prec <= PRECEDENCE_SUPERSEDES) {
		for (i = q->n; i-- > 0;) {
			if (scst_ua_precedence(q->ua[i].asc) > prec)
				remove_at(q, i);
		}
	}
	if (q->n == SCST_UA_QUEUE_MAX) {
		q->n = 0;
		q->ua[q->n++] = scsi_sense_make(SK_UNIT_ATTENTION, ASC_POWER_ON_RESET);
		return SCST_UA_OVERFLOW;
	}
	/* After every condition of the same or a higher precedence. */
	for (i = 0; i < q->n && scst_ua_precedence(q->ua[i].asc) <= prec; i++)
		;
	insert_at(q, i, sense);
	return SCST_UA_ADDED;
}

bool scst_ua_queue_check_condition(struct scst_ua_queue *q, unsigned ua_intlck_ctrl,
				   struct scsi_sense *out)
{
	if (q->n == 0)
		return false;
	*out = q->ua[0];
	/* 01b is reserved: MODE SELECT refuses it, and anything but 10b and
	 * 11b is taken as the default. */
	if (ua_intlck_ctrl != SCST_UA_INTLCK_KEEP &&
	    ua_intlck_ctrl != SCST_UA_INTLCK_KEEP_AND_REPORT_STATUS)
		remove_at(q, 0);
	return true;
}

bool scst_ua_queue_request_sense(struct scst_ua_queue *q, struct scsi_sense *out)
{
	if (q->n == 0)
		return false;
	*out = q->ua[0];
	remove_at(q, 0);
	return true;
}

bool scst_ua_queue_peek(const struct scst_ua_queue *q, struct scsi_sense *out, unsigned *n)
{
	*n = q->n;
	if (q->n == 0)
		return false;
	*out = q->ua[0];
	return true;
}

bool scst_ua_queue_remove(struct scst_ua_queue *q, uint16_t asc)
{
	for (unsigned i = 0; i < q->n; i++) {
		if (q->ua[i].key == SK_UNIT_ATTENTION && q->ua[i].asc == asc) {
			remove_at(q, i);
			return true;
		}
	}
	return false;
}

uint16_t scst_ua_for_status(uint8_t status, unsigned ua_intlck_ctrl)
{
	if (ua_intlck_ctrl != SCST_UA_INTLCK_KEEP_AND_REPORT_STATUS)
		return 0;
	switch (status) {
	case SAM_STAT_BUSY:
		return ASC_PREVIOUS_BUSY_STATUS;
	case SAM_STAT_TASK_SET_FULL:
		return ASC_PREVIOUS_TASK_SET_FULL_STATUS;
	case SAM_STAT_RESERVATION_CONFLICT:
		return ASC_PREVIOUS_RESERVATION_CONFLICT_STATUS;
	default:
		return 0;
	}
}

/* ---- lost I_T nexuses ---- */

size_t scst_lost_nexus_key(const char *tgt_name, const uint8_t *transport_id,
			   size_t transport_id_len, uint8_t *key)
{
	size_t name_len = strlen(tgt_name) + 1;

	if (name_len + transport_id_len > SCST_LOST_NEXUS_KEY_MAX)
		return 0;
	memcpy(key, tgt_name, name_len);
	memcpy(key + name_len, transport_id, transport_id_len);
	return name_len + transport_id_len;
}

static int find_lost(const struct scst_lost_nexuses *l, const uint8_t *key, size_t len)
{
	for (unsigned i = 0; i < SCST_LOST_NEXUS_MAX; i++) {
		if (l->e[i].len == len && memcmp(l->e[i].key, key, len) == 0)
			return (int)i;
	}
	return -1;
}

void scst_lost_nexus_add(struct scst_lost_nexuses *l, const uint8_t *key, size_t len)
{
	if (len == 0 || len > SCST_LOST_NEXUS_KEY_MAX || find_lost(l, key, len) >= 0)
		return;
	memcpy(l->e[l->next].key, key, len);
	l->e[l->next].len = (uint16_t)len;
	l->next = (l->next + 1) % SCST_LOST_NEXUS_MAX;
}

bool scst_lost_nexus_take(struct scst_lost_nexuses *l, const uint8_t *key, size_t len)
{
	int i = len ? find_lost(l, key, len) : -1;

	if (i < 0)
		return false;
	l->e[i].len = 0;
	return true;
}
