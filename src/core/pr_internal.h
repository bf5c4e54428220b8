/* Reservations inside the core: what pr.c, pr_in.c, reserve.c and
 * pr_persist.c give the rest of src/core. */
#ifndef USCST_CORE_PR_INTERNAL_H
#define USCST_CORE_PR_INTERNAL_H

#include "core/core_internal.h"
#include "core/pr_store.h"

/* The device's state at creation (pr.c): empty, or what its APTPL state
 * file says (pr_persist.c). */
void scst_pr_init(struct scst_device *dev);
/* Frees every registration and the reservation. */
void scst_pr_clear_state(struct scst_pr *pr);
/* After any change to the reservations: every nexus of @dev gets its
 * registration (td->pr_reg) and access (td->pr_access) again. dev->lock. */
void scst_pr_refresh_locked(struct scst_device *dev);
/* A new nexus joined the device (session.c, with dev->lock held). */
void scst_pr_nexus_joined_locked(struct scst_tgt_dev *td);

/* SPC-2 (reserve.c). A nexus left the device: its session's reservation
 * goes with its last nexus to the device. dev->lock. */
void scst_spc2_nexus_gone_locked(struct scst_tgt_dev *td);
/* A reset releases the SPC-2 reservation (of @only, if not NULL); @why
 * goes to the log line. */
void scst_spc2_release_locked(struct scst_device *dev, const struct scst_session *only,
			      const char *why);
void scst_spc2_release(struct scst_device *dev, const struct scst_session *only, const char *why);
/* scst_unregister_session(): the session's SPC-2 reservations go at once. */
void scst_spc2_session_ending(struct scst_session *sess);

/* PREEMPT AND ABORT (tmf.c): aborts every command of the device whose
 * nexus is marked td->pr_preempted (and clears the marks and their ACA),
 * except @pr_cmd; dev->lock held. Returns the function that waits for
 * them, whose @done runs on @pr_cmd's reactor once they have all ended
 * (and must free it with scst_mgmt_cmd_free()), or NULL when nothing was
 * aborted. Aborted tasks end with TASK ABORTED under TAS 1, without a
 * response under TAS 0 (their nexus has REGISTRATIONS PREEMPTED). */
struct scst_mgmt_cmd *scst_abort_preempted_locked(struct scst_cmd *pr_cmd,
						  void (*done)(struct scst_mgmt_cmd *mcmd),
						  void *ctx);

/* Whether a target port with this relative target port identifier
 * exists (registry.c; any thread, no lock). */
bool scst_rel_tgt_id_exists(uint16_t rel_tgt_id);

/* APTPL (pr_persist.c, on pr_store.c's writer). A save in progress,
 * embedded in whoever waits for it: done runs on the reactor given once
 * the state is on disk (error 0) or could not be written (an errno). */
struct scst_pr_save {
	int error;
	void (*done)(struct scst_pr_save *save);
	struct pr_store_req req;
};
/* Whether a state directory is configured: PTPL_C. */
bool scst_pr_store_available(void);
/* Loads the device's APTPL state file at creation, if it has one (into
 * dev->pr, which scst_pr_init() set up empty). -1 with the reason in
 * @err when the file is there but cannot be used: the device is then not
 * created, rather than served without the reservations that fence it. */
int scst_pr_load(struct scst_device *dev, char *err, size_t errlen);
/* Writes the device's state as it is now (dev->lock held, so saves are
 * written in the order of the changes) or, APTPL off, removes its file.
 * Cannot fail: an error comes through save->error. */
void scst_pr_save_submit_locked(struct scst_device *dev, struct scst_pr_save *save,
				struct reactor *reactor, void (*done)(struct scst_pr_save *save));

#endif
