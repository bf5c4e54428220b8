/* SPC-2 reservations: RESERVE(6)/(10) and RELEASE(6)/(10) (SPC-2 7.21,
 * 7.24, 5.5.1). One I_T nexus at a time may hold the logical unit; every
 * other nexus's commands conflict except those whose op row says
 * SCST_OP_RESERVE_ALLOWED (INQUIRY, REPORT LUNS, REQUEST SENSE, TEST UNIT
 * READY, READ CAPACITY, RELEASE, ...). The reservation ends with RELEASE
 * from its holder, the holder's session (logout or I_T nexus loss), an
 * I_T NEXUS RESET from it, and a LOGICAL UNIT RESET or target reset from
 * anyone.
 *
 * Persistent reservations win (SPC-3 5.6.3, CRH=1 in REPORT
 * CAPABILITIES): while any registration exists, RESERVE and RELEASE
 * conflict, except from the persistent reservation's holder, for whom
 * they complete with GOOD and change nothing.
 *
 * The holder is dev->spc2_holder, under dev->lock; each nexus's
 * td->pr_access says whether another one holds it. */
#include <assert.h>

#include "base/log.h"
#include "core/core_internal.h"
#include "core/emulated.h"
#include "core/pr_internal.h"
#include "core/pr_rules.h"

#define THIRD_PARTY 0x10 /* RESERVE(10)/RELEASE(10) byte 1: 3RDPTY */

int scst_reserve_parse(struct scst_cmd *cmd)
{
	/* Third-party reservations are obsolete and not supported. */
	if (cmd->cdb_len == 10 && (cmd->cdb[1] & THIRD_PARTY)) {
		scst_set_cmd_error(cmd, scsi_sense_invalid_cdb_field(1, 4));
		return -1;
	}
	cmd->data_dir = SCST_DATA_NONE;
	cmd->data_len = 0;
	return 0;
}

/* SPC-3 5.6.3: whether RESERVE or RELEASE is decided by the persistent
 * reservations: they exist. Then @status is GOOD for the persistent
 * reservation's holder and RESERVATION CONFLICT for anyone else. */
static bool decided_by_pr_locked(const struct scst_cmd *cmd, uint8_t *status)
{
	const struct scst_pr *pr = &cmd->dev->pr;
	const struct scst_pr_registrant *r = cmd->tgt_dev->pr_reg;

	if (pr->nregistrants == 0)
		return false;
	*status = scst_pr_is_holder(pr, r) ? SAM_STAT_GOOD : SAM_STAT_RESERVATION_CONFLICT;
	return true;
}

void scst_reserve_exec(struct scst_cmd *cmd)
{
	struct scst_device *dev = cmd->dev;
	uint8_t status = SAM_STAT_GOOD;

	pthread_mutex_lock(&dev->lock);
	if (!decided_by_pr_locked(cmd, &status)) {
		if (dev->spc2_holder && dev->spc2_holder != cmd->sess) {
			status = SAM_STAT_RESERVATION_CONFLICT;
		} else if (!dev->spc2_holder) {
			dev->spc2_holder = cmd->sess;
			scst_pr_refresh_locked(dev);
			log_info("reserve: RESERVE by %s -> %s, LUN %llu (%s)",
				 cmd->sess->initiator_name, cmd->sess->tgt->name,
				 (unsigned long long)cmd->lun, dev->name);
		}
	}
	pthread_mutex_unlock(&dev->lock);
	if (status != SAM_STAT_GOOD)
		scst_set_cmd_status(cmd, status);
	scst_cmd_done(cmd);
}

void scst_release_exec(struct scst_cmd *cmd)
{
	struct scst_device *dev = cmd->dev;
	uint8_t status = SAM_STAT_GOOD;

	pthread_mutex_lock(&dev->lock);
	/* From a nexus that does not hold it, RELEASE is a no-op with GOOD
	 * (SPC-2 7.24). */
	if (!decided_by_pr_locked(cmd, &status) && dev->spc2_holder == cmd->sess) {
		dev->spc2_holder = NULL;
		scst_pr_refresh_locked(dev);
		log_info("reserve: RELEASE by %s -> %s, LUN %llu (%s)", cmd->sess->initiator_name,
			 cmd->sess->tgt->name, (unsigned long long)cmd->lun, dev->name);
	}
	pthread_mutex_unlock(&dev->lock);
	if (status != SAM_STAT_GOOD)
		scst_set_cmd_status(cmd, status);
	scst_cmd_done(cmd);
}

void scst_spc2_release_locked(struct scst_device *dev, const struct scst_session *only,
			      const char *why)
{
	if (!dev->spc2_holder || (only && dev->spc2_holder != only))
		return;
	log_info("reserve: released %s, held by %s -> %s (%s)", dev->name,
		 dev->spc2_holder->initiator_name, dev->spc2_holder->tgt->name, why);
	dev->spc2_holder = NULL;
	scst_pr_refresh_locked(dev);
}

void scst_spc2_release(struct scst_device *dev, const struct scst_session *only, const char *why)
{
	pthread_mutex_lock(&dev->lock);
	scst_spc2_release_locked(dev, only, why);
	pthread_mutex_unlock(&dev->lock);
}

void scst_spc2_nexus_gone_locked(struct scst_tgt_dev *td)
{
	struct scst_device *dev = td->dev;
	const struct scst_tgt_dev *other;

	if (dev->spc2_holder != td->sess)
		return;
	/* The session may see the device at another LUN too: the
	 * reservation is the I_T nexus's, and lasts while it does. */
	list_for_each_entry(other, &dev->tgt_devs, dev_entry) {
		if (other != td && other->sess == td->sess)
			return;
	}
	scst_spc2_release_locked(dev, td->sess, "its session ended");
}

/* The I_T nexus ends (logout, or the driver unregistering it): its SPC-2
 * reservations go now, not when its last nexus to each device is freed
 * (after its commands finish), so that an initiator told of the logout
 * finds the unit free. On the session's reactor. */
static void release_session_reservations(struct scst_session *sess, const char *why)
{
	const struct scst_lun_table *luns = scst_session_luns(sess);

	assert(reactor_self() == sess->reactor);
	for (unsigned i = 0; luns && i < luns->n; i++) {
		scst_spc2_release(luns->tgt_devs[i]->dev, sess, why);
		/* And what the handler keeps for the nexus (a medium
		 * removal prevention) goes with it. */
		scst_dev_clear_nexus_state(luns->tgt_devs[i]->dev, sess);
	}
}

void scst_session_logout(struct scst_session *sess)
{
	release_session_reservations(sess, "its initiator logged out");
}

void scst_spc2_session_ending(struct scst_session *sess)
{
	release_session_reservations(sess, "its session ended");
}
