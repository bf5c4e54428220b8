/* Unit state commands: TEST UNIT READY, START STOP UNIT, PREVENT ALLOW
 * MEDIUM REMOVAL, and the removable medium they act on.
 *
 * A fixed disk (removable 0, INQUIRY RMB=0) always has its medium: an
 * eject is refused, PREVENT ALLOW has nothing to lock.
 *
 * A removable one (removable 1) can be ejected and loaded with START STOP
 * UNIT's LOEJ (SBC-4 5.25). While it is out, the core's PRE_EXEC asks
 * not_ready and every command that needs the medium (a row without
 * SCST_OP_NO_MEDIUM_OK) ends with NOT READY, MEDIUM NOT PRESENT - TRAY
 * OPEN; loading it tells the other I_T nexuses NOT READY TO READY CHANGE,
 * MEDIUM MAY HAVE CHANGED. PREVENT ALLOW MEDIUM REMOVAL (SBC-4 5.14) is
 * per I_T nexus: removal is prevented while any nexus prevents it, and a
 * nexus's prevention ends with the nexus (loss, logout, I_T NEXUS RESET)
 * and with a LOGICAL UNIT or target reset (clear_nexus_state).
 *
 * A stop (START=0, LOEJ=0) writes the cache out and leaves the unit
 * ready. SBC-4 lets a stopped unit refuse media access with LOGICAL UNIT
 * NOT READY, INITIALIZING COMMAND REQUIRED; a virtual disk has nothing to
 * spin down, and libiscsi's StartStopUnit.NoLoej expects TEST UNIT READY
 * to succeed after a stop, as Linux and SCST have it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "handlers/vdisk/vdisk_internal.h"

/* START STOP UNIT power conditions (SBC-4 table 88). */
#define PC_START_VALID 0x0
/* PREVENT ALLOW MEDIUM REMOVAL's PREVENT field (SBC-4 5.14): 00b allow,
 * 01b prevent; 10b and 11b are obsolete. */
#define PREVENT_FIELD 0x03
#define PREVENT_ALLOW 0x00
#define PREVENT_PREVENT 0x01

/* ---- the medium's state ---- */

int vdisk_medium_init(struct vdisk_dev *vd, char *err, size_t errlen)
{
	int rc = pthread_mutex_init(&vd->medium.lock, NULL);

	if (rc) {
		snprintf(err, errlen, "medium lock: %s", strerror(rc));
		return -1;
	}
	atomic_init(&vd->medium.ejected, false);
	vd->medium.preventers = NULL;
	vd->medium.npreventers = vd->medium.cap = 0;
	return 0;
}

void vdisk_medium_destroy(struct vdisk_dev *vd)
{
	free(vd->medium.preventers);
	vd->medium.preventers = NULL;
	pthread_mutex_destroy(&vd->medium.lock);
}

static bool medium_prevented_locked(const struct vdisk_medium *m)
{
	return m->npreventers > 0;
}

static int preventer_index_locked(const struct vdisk_medium *m, const struct scst_session *sess)
{
	for (unsigned i = 0; i < m->npreventers; i++) {
		if (m->preventers[i] == sess)
			return (int)i;
	}
	return -1;
}

/* @sess prevents removal; false when memory is short. */
static bool preventer_add_locked(struct vdisk_medium *m, const struct scst_session *sess)
{
	if (preventer_index_locked(m, sess) >= 0)
		return true;
	if (m->npreventers == m->cap) {
		unsigned cap = m->cap ? 2 * m->cap : 4;
		const struct scst_session **p = realloc(m->preventers, cap * sizeof(*p));

		if (!p)
			return false;
		m->preventers = p;
		m->cap = cap;
	}
	m->preventers[m->npreventers++] = sess;
	return true;
}

static void preventer_remove_locked(struct vdisk_medium *m, const struct scst_session *sess)
{
	int i = preventer_index_locked(m, sess);

	if (i < 0)
		return;
	m->preventers[i] = m->preventers[--m->npreventers];
}

bool vdisk_not_ready(const struct scst_device *dev, uint32_t op_flags, struct scsi_sense *sense)
{
	const struct vdisk_dev *vd = dev->handler_priv;

	/* A SANITIZE or FORMAT UNIT running, or the failure mode one left:
	 * whatever else holds, every command but those the core lets
	 * through waits for it (SBC-4 4.11.2, 5.3). */
	if (vdisk_medium_op_not_ready(vd, sense))
		return true;
	if (!atomic_load_explicit(&vd->medium.ejected, memory_order_acquire) ||
	    (op_flags & SCST_OP_NO_MEDIUM_OK))
		return false;
	*sense = scsi_sense_make(SK_NOT_READY, ASC_MEDIUM_NOT_PRESENT_TRAY_OPEN);
	return true;
}

void vdisk_clear_nexus_state(struct scst_device *dev, const struct scst_session *sess)
{
	struct vdisk_dev *vd = dev->handler_priv;
	struct vdisk_medium *m = &vd->medium;

	pthread_mutex_lock(&m->lock);
	if (!sess) {
		if (m->npreventers)
			log_info("vdisk: %s: medium removal allowed again (reset)", dev->name);
		m->npreventers = 0;
	} else {
		preventer_remove_locked(m, sess);
	}
	pthread_mutex_unlock(&m->lock);
}

/* ---- commands ---- */

void vdisk_exec_test_unit_ready(struct scst_cmd *cmd)
{
	/* Not ready (no medium) was PRE_EXEC's, through vdisk_not_ready. */
	scst_cmd_done(cmd);
}

int vdisk_parse_start_stop(struct scst_cmd *cmd)
{
	struct scsi_start_stop_cdb ss;

	if (!scsi_cdb_decode_start_stop(cmd->cdb, cmd->cdb_len, &ss)) {
		scst_set_cmd_error(cmd, scsi_sense_invalid_cdb_field(0, -1));
		return -1;
	}
	/* An eject request (LOEJ=1, START=0) cannot be carried out on a
	 * medium that is not removable (INQUIRY RMB=0): refuse it rather
	 * than claim success. A load (START=1) finds the medium loaded. */
	if (!vdisk_of(cmd)->cfg.removable && ss.power_condition == PC_START_VALID && ss.loej &&
	    !ss.start) {
		scst_set_cmd_error(cmd, scsi_sense_invalid_cdb_field(4, 1));
		return -1;
	}
	/* A start changes nothing another initiator relies on: SBC-3
	 * table 14 allows it under every reservation (a load too: it
	 * gives, never takes away). */
	if (ss.power_condition == PC_START_VALID && ss.start)
		cmd->op_flags |= SCST_OP_PR_ALLOWED | SCST_OP_RESERVE_ALLOWED;
	return vdisk_parse_no_data(cmd);
}

int vdisk_parse_prevent_allow(struct scst_cmd *cmd)
{
	uint8_t prevent = cmd->cdb[4] & PREVENT_FIELD;

	if (prevent != PREVENT_ALLOW && prevent != PREVENT_PREVENT) {
		scst_set_cmd_error(cmd, scsi_sense_invalid_cdb_field(4, 1));
		return -1;
	}
	/* PREVENT 00b (allow removal) is allowed under every reservation
	 * (SBC-3 table 14); preventing it is not. */
	if (prevent == PREVENT_ALLOW)
		cmd->op_flags |= SCST_OP_PR_ALLOWED | SCST_OP_RESERVE_ALLOWED;
	return vdisk_parse_no_data(cmd);
}

/* Ejects (!@load) or loads the medium of @vd, unless an I_T nexus
 * prevents removal: then neither, as SBC-4 5.25 has it for the eject and
 * libiscsi's PreventAllow.Eject expects for the load too (a locked tray
 * does not open to take a medium). A load tells every nexus but @except
 * (the one that loaded it, which knows) NOT READY TO READY CHANGE, MEDIUM
 * MAY HAVE CHANGED: they may hold data of the old medium. @who names the
 * requester in the log. false: prevented, nothing changed. */
static bool medium_change(struct vdisk_dev *vd, bool load, struct scst_tgt_dev *except,
			  const char *who)
{
	struct vdisk_medium *m = &vd->medium;
	bool was_ejected;

	pthread_mutex_lock(&m->lock);
	if (medium_prevented_locked(m)) {
		pthread_mutex_unlock(&m->lock);
		return false;
	}
	was_ejected = atomic_load(&m->ejected);
	atomic_store_explicit(&m->ejected, !load, memory_order_release);
	pthread_mutex_unlock(&m->lock);
	if (load && was_ejected) {
		log_info("vdisk: %s: medium loaded (%s)", vd->dev->name, who);
		scst_dev_queue_ua(vd->dev, except,
				  scsi_sense_make(SK_UNIT_ATTENTION, ASC_NOT_READY_TO_READY_CHANGE));
	} else if (!load && !was_ejected) {
		log_info("vdisk: %s: medium ejected (%s)", vd->dev->name, who);
		/* Another medium may come: a token of this one stands for
		 * nothing then. */
		scst_dev_revoke_rod_tokens(vd->dev, "its medium was ejected");
	}
	return true;
}

/* LOEJ=1 on a removable medium: eject (START=0) or load (START=1).
 * Returns true when the command is finished (refused, or a load); an
 * eject goes on to flush. */
static bool load_or_eject(struct scst_cmd *cmd, bool load)
{
	if (!medium_change(vdisk_of(cmd), load, cmd->tgt_dev, "START STOP UNIT")) {
		scst_set_cmd_error_asc(cmd, SK_ILLEGAL_REQUEST, ASC_MEDIUM_REMOVAL_PREVENTED);
		return true;
	}
	return load;
}

int vdisk_set_medium(struct scst_device *dev, bool load, char *err, size_t errlen)
{
	struct vdisk_dev *vd = dev->handler_priv;

	if (!vd->cfg.removable) {
		snprintf(err, errlen, "its medium is not removable (removable 0)");
		return -1;
	}
	if (!medium_change(vd, load, NULL, "management")) {
		snprintf(err, errlen, "an initiator prevents medium removal (PREVENT ALLOW MEDIUM "
			 "REMOVAL)");
		return -1;
	}
	return 0;
}

void vdisk_exec_start_stop(struct scst_cmd *cmd)
{
	struct scsi_start_stop_cdb ss;

	scsi_cdb_decode_start_stop(cmd->cdb, cmd->cdb_len, &ss); /* PARSE accepted it */
	/* Another power condition changes nothing here: GOOD, the medium
	 * stays (libiscsi's StartStopUnit.PowerCondition). */
	if (ss.power_condition != PC_START_VALID) {
		scst_cmd_done(cmd);
		return;
	}
	if (ss.loej && vdisk_of(cmd)->cfg.removable && load_or_eject(cmd, ss.start)) {
		scst_cmd_done(cmd);
		return;
	}
	/* A stop or an eject, unless NO_FLUSH, first writes the cache to the
	 * medium, as a disk does before it spins down (SBC-4 5.25). An
	 * eject is in force already: what was written before it is what
	 * the flush makes durable, and nothing comes after it. */
	if (!ss.start && !ss.no_flush) {
		vdisk_flush_and_finish(cmd);
		return;
	}
	scst_cmd_done(cmd);
}

void vdisk_exec_prevent_allow(struct scst_cmd *cmd)
{
	struct vdisk_dev *vd = vdisk_of(cmd);
	struct vdisk_medium *m = &vd->medium;
	bool prevent = (cmd->cdb[4] & PREVENT_FIELD) == PREVENT_PREVENT;
	bool ok = true;

	/* A fixed medium cannot be removed: nothing to prevent. */
	if (!vd->cfg.removable) {
		scst_cmd_done(cmd);
		return;
	}
	pthread_mutex_lock(&m->lock);
	if (prevent)
		ok = preventer_add_locked(m, cmd->sess);
	else
		preventer_remove_locked(m, cmd->sess);
	pthread_mutex_unlock(&m->lock);
	if (!ok)
		scst_set_cmd_status(cmd, SAM_STAT_BUSY);
	scst_cmd_done(cmd);
}
