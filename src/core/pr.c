/* Persistent reservations (SPC-4 5.13): PERSISTENT RESERVE OUT, one
 * function per service action named after the standard, and what the
 * rest of the core asks about a device's reservations. PERSISTENT RESERVE
 * IN's reports are pr_in.c's; the pure rules (who may do what under which
 * type) pr_rules.c's; SPC-2 RESERVE and RELEASE reserve.c's.
 *
 * Locking: the state (struct scst_pr in the device) is under dev->lock; a
 * service action runs whole under it, so every other command sees the
 * state before or after it. After each change every nexus of the device
 * gets its new td->pr_access, which its commands read without the lock
 * (PRE_EXEC's reservation check, cmd.c).
 *
 * A registration names an I_T nexus: the initiator port's TransportID
 * and the relative target port identifier (or every target port, ALL_TG_PT).
 * It may exist with no session behind it (SPEC_I_PT, APTPL after a
 * restart); a nexus finds its registration when it joins the device and
 * whenever the registrations change (td->pr_reg).
 *
 * PREEMPT AND ABORT aborts the preempted nexuses' tasks through the task
 * management machinery (tmf.c) and completes once they have ended. */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "base/log.h"
#include "core/core_internal.h"
#include "core/emulated.h"
#include "core/pr_internal.h"
#include "core/pr_rules.h"
#include "core/transport_id.h"

/* PERSISTENT RESERVE OUT service actions (SPC-4 table 169). */
enum pr_out_sa {
	PR_OUT_REGISTER = 0x00,
	PR_OUT_RESERVE = 0x01,
	PR_OUT_RELEASE = 0x02,
	PR_OUT_CLEAR = 0x03,
	PR_OUT_PREEMPT = 0x04,
	PR_OUT_PREEMPT_AND_ABORT = 0x05,
	PR_OUT_REGISTER_AND_IGNORE_EXISTING_KEY = 0x06,
	PR_OUT_REGISTER_AND_MOVE = 0x07,
	PR_OUT_REPLACE_LOST_RESERVATION = 0x08,
};

/* The basic parameter list (SPC-4 6.17.3) and REGISTER AND MOVE's
 * (6.17.4) both start with the two keys and are 24 bytes before any
 * TransportID. */
#define PARAM_BASIC_LEN 24
#define PARAM_SPEC_I_PT_MIN 28
/* Byte 20 of the basic list. */
#define SPEC_I_PT 0x08
#define ALL_TG_PT 0x04
#define APTPL 0x01
/* Byte 17 of REGISTER AND MOVE's. */
#define MOVE_UNREG 0x02
#define MOVE_APTPL 0x01
/* The most TransportIDs one SPEC_I_PT list may name: a bound on the
 * work one command does under dev->lock. */
#define SPEC_I_PT_MAX 64
/* A parameter list longer than this cannot be a valid one. */
#define PARAM_LIST_MAX (PARAM_SPEC_I_PT_MIN + SPEC_I_PT_MAX * SCST_TID_MAX)

struct pr_tid {
	uint8_t id[SCST_TID_MAX];
	unsigned len;
};

/* A PERSISTENT RESERVE OUT, decoded. */
struct pr_out {
	uint8_t sa, scope, type;
	uint64_t key, sa_key;
	bool spec_i_pt, all_tg_pt, aptpl;
	bool unreg;          /* REGISTER AND MOVE */
	uint16_t rel_tgt_id; /* REGISTER AND MOVE */
	unsigned ntids;
	struct pr_tid *tids; /* SPEC_I_PT, REGISTER AND MOVE */
};

/* What a PERSISTENT RESERVE OUT waits for before it completes: the
 * tasks PREEMPT AND ABORT aborted, and the APTPL state file. All on the
 * command's reactor. */
struct pr_out_wait {
	struct scst_cmd *cmd;
	unsigned pending;
	struct scst_pr_save save;
};

/* ---- the state ---- */

static struct scst_pr_registrant *registrant_new(uint64_t key, const uint8_t *tid,
						 unsigned tid_len, uint16_t rel_tgt_id,
						 bool all_tg_pt)
{
	struct scst_pr_registrant *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	assert(tid_len <= sizeof(r->transport_id));
	r->key = key;
	memcpy(r->transport_id, tid, tid_len);
	r->transport_id_len = tid_len;
	r->rel_tgt_id = rel_tgt_id;
	r->all_tg_pt = all_tg_pt;
	return r;
}

/* Whether registration @r is of the I_T nexus (@tid, @rel_tgt_id). */
static bool registrant_is_nexus(const struct scst_pr_registrant *r, const uint8_t *tid,
				unsigned tid_len, uint16_t rel_tgt_id)
{
	return (r->all_tg_pt || r->rel_tgt_id == rel_tgt_id) &&
	       scst_tid_matches(r->transport_id, r->transport_id_len, tid, tid_len);
}

static struct scst_pr_registrant *find_registrant(struct scst_pr *pr, const uint8_t *tid,
						  unsigned tid_len, uint16_t rel_tgt_id)
{
	struct scst_pr_registrant *r;

	list_for_each_entry(r, &pr->registrants, entry) {
		if (registrant_is_nexus(r, tid, tid_len, rel_tgt_id))
			return r;
	}
	return NULL;
}

static struct scst_pr_registrant *nexus_registrant(struct scst_device *dev,
						   const struct scst_tgt_dev *td)
{
	return find_registrant(&dev->pr, td->sess->transport_id, td->sess->transport_id_len,
			       td->sess->tgt->rel_tgt_id);
}

void scst_pr_nexus_joined_locked(struct scst_tgt_dev *td)
{
	struct scst_device *dev = td->dev;
	struct scst_pr *pr = &dev->pr;
	struct scst_pr_registrant *r = nexus_registrant(dev, td);
	bool spc2_other = dev->spc2_holder && dev->spc2_holder != td->sess;

	td->pr_reg = r;
	atomic_store(&td->pr_access, scst_pr_access_of(spc2_other, pr->reserved, pr->type,
							 scst_pr_is_holder(pr, r), r != NULL));
}

void scst_pr_refresh_locked(struct scst_device *dev)
{
	struct scst_tgt_dev *td;

	list_for_each_entry(td, &dev->tgt_devs, dev_entry)
		scst_pr_nexus_joined_locked(td);
}

void scst_pr_init(struct scst_device *dev)
{
	list_init(&dev->pr.registrants);
}

static void registrant_remove(struct scst_pr *pr, struct scst_pr_registrant *r)
{
	if (pr->holder == r)
		pr->holder = NULL;
	list_del(&r->entry);
	pr->nregistrants--;
	free(r);
}

void scst_pr_clear_state(struct scst_pr *pr)
{
	while (!list_empty(&pr->registrants))
		registrant_remove(pr, list_first_entry(&pr->registrants,
						       struct scst_pr_registrant, entry));
	pr->reserved = false;
	pr->holder = NULL;
	pr->type = 0;
	pr->scope = 0;
}

/* Queues @asc on every nexus of the device whose registration is @r (or,
 * @r NULL, that has any registration), sparing @except. dev->lock. */
static void ua_to_registrant_locked(struct scst_device *dev, const struct scst_pr_registrant *r,
				    const struct scst_tgt_dev *except, uint16_t asc)
{
	struct scst_tgt_dev *td;

	list_for_each_entry(td, &dev->tgt_devs, dev_entry) {
		if (td == except || !td->pr_reg || (r && td->pr_reg != r))
			continue;
		scst_tgt_dev_queue_ua_locked(td, scsi_sense_make(SK_UNIT_ATTENTION, asc));
	}
}

/* The reservation goes (released, or its holder's registration went):
 * under the Registrants Only and All Registrants types every other
 * registrant is told (SPC-4 5.13.11.2.2, 5.13.10). */
static void reservation_release_locked(struct scst_device *dev, const struct scst_tgt_dev *by)
{
	struct scst_pr *pr = &dev->pr;
	bool tell = scst_pr_type_registrants_access(pr->type);

	pr->reserved = false;
	pr->holder = NULL;
	if (tell)
		ua_to_registrant_locked(dev, NULL, by, ASC_RESERVATIONS_RELEASED);
	pr->type = 0;
	pr->scope = 0;
}

/* Removes @r, as its owner's REGISTER with key 0 or a PREEMPT or CLEAR
 * does: a reservation it held alone goes with it (an All Registrants
 * one with the last registrant). */
static void unregister_locked(struct scst_device *dev, struct scst_pr_registrant *r,
			      const struct scst_tgt_dev *by, bool release_tells)
{
	struct scst_pr *pr = &dev->pr;

	if (pr->reserved) {
		bool all = scst_pr_type_all_registrants(pr->type);

		if ((!all && pr->holder == r) || (all && pr->nregistrants == 1)) {
			if (release_tells) {
				/* The holder is leaving: the others are told;
				 * the nexuses of @r are spared below too. */
				struct scst_tgt_dev *td;

				list_for_each_entry(td, &dev->tgt_devs, dev_entry)
					if (td->pr_reg == r)
						td->pr_reg = NULL;
				reservation_release_locked(dev, by);
			} else {
				pr->reserved = false;
				pr->holder = NULL;
				pr->type = 0;
				pr->scope = 0;
			}
		}
	}
	registrant_remove(pr, r);
}

/* ---- the parameter list ---- */

/* Decodes the parameter list of @cmd into @out (whose tids the caller
 * frees); false with the sense set on an error. */
static bool decode_params(struct scst_cmd *cmd, struct pr_out *out)
{
	const uint8_t *p = cmd->buf;
	uint32_t len = get_be32(cmd->cdb + 5);
	uint32_t have = cmd->bufflen < len ? cmd->bufflen : len;
	uint32_t tid_bytes, off, tid_field;

	memset(out, 0, sizeof(*out));
	out->sa = cmd->cdb[1] & 0x1f;
	out->scope = cmd->cdb[2] >> 4;
	out->type = cmd->cdb[2] & 0x0f;
	if (have < len || len < PARAM_BASIC_LEN) {
		scst_set_cmd_error_asc(cmd, SK_ILLEGAL_REQUEST, ASC_PARAMETER_LIST_LENGTH_ERROR);
		return false;
	}
	out->key = get_be64(p);
	out->sa_key = get_be64(p + 8);
	if (out->sa == PR_OUT_REGISTER_AND_MOVE) {
		out->unreg = p[17] & MOVE_UNREG;
		out->aptpl = p[17] & MOVE_APTPL;
		out->rel_tgt_id = get_be16(p + 18);
		tid_field = 20;
	} else {
		out->spec_i_pt = p[20] & SPEC_I_PT;
		out->all_tg_pt = p[20] & ALL_TG_PT;
		out->aptpl = p[20] & APTPL;
		if (!out->spec_i_pt) {
			/* SPC-4 6.17.3: 24 bytes exactly without SPEC_I_PT. */
			if (len != PARAM_BASIC_LEN) {
				scst_set_cmd_error_asc(cmd, SK_ILLEGAL_REQUEST,
						       ASC_PARAMETER_LIST_LENGTH_ERROR);
				return false;
			}
			return true;
		}
		if (out->sa != PR_OUT_REGISTER) {
			/* SPEC_I_PT is REGISTER's alone (6.17.3). */
			scst_set_cmd_error(cmd, scsi_sense_invalid_param_field(20, 3));
			return false;
		}
		tid_field = 24;
	}
	if (len < tid_field + 4) {
		scst_set_cmd_error_asc(cmd, SK_ILLEGAL_REQUEST, ASC_PARAMETER_LIST_LENGTH_ERROR);
		return false;
	}
	tid_bytes = get_be32(p + tid_field);
	if (tid_bytes > len - tid_field - 4) {
		scst_set_cmd_error_asc(cmd, SK_ILLEGAL_REQUEST, ASC_PARAMETER_LIST_LENGTH_ERROR);
		return false;
	}
	out->tids = calloc(SPEC_I_PT_MAX, sizeof(*out->tids));
	if (!out->tids) {
		scst_set_cmd_status(cmd, SAM_STAT_TASK_SET_FULL);
		return false;
	}
	off = tid_field + 4;
	while (off < tid_field + 4 + tid_bytes) {
		unsigned bad;
		unsigned n;

		if (out->ntids == SPEC_I_PT_MAX) {
			scst_set_cmd_error_asc(cmd, SK_ILLEGAL_REQUEST, ASC_INSUFFICIENT_RESOURCES);
			return false;
		}
		n = scst_tid_parse(p + off, tid_field + 4 + tid_bytes - off,
				   out->tids[out->ntids].id, &bad);
		if (!n) {
			scst_set_cmd_error(cmd, scsi_sense_invalid_param_field(
							(uint16_t)(off + bad), -1));
			return false;
		}
		out->tids[out->ntids++].len = n;
		off += n;
	}
	/* REGISTER AND MOVE names exactly one initiator port. */
	if (out->sa == PR_OUT_REGISTER_AND_MOVE &&
	    (out->ntids != 1 || !scst_tid_is_port(out->tids[0].id, out->tids[0].len))) {
		scst_set_cmd_error(cmd, scsi_sense_invalid_param_field((uint16_t)tid_field + 4, -1));
		return false;
	}
	return true;
}

/* ---- the service actions; dev->lock held. Each returns true when the
 * state changed (the caller refreshes the nexuses and saves it), with
 * the command's status set when it failed. ---- */

struct pr_request {
	struct scst_cmd *cmd;
	struct scst_device *dev;
	struct scst_tgt_dev *td;             /* the acting nexus */
	struct scst_pr_registrant *reg;      /* its registration, or NULL */
	const struct pr_out *out;
	bool abort_preempted;                /* PREEMPT AND ABORT marked tasks */
};

static bool conflict(struct pr_request *rq)
{
	scst_set_cmd_status(rq->cmd, SAM_STAT_RESERVATION_CONFLICT);
	return false;
}

static uint16_t nexus_rel_tgt_id(const struct scst_tgt_dev *td)
{
	return td->sess->tgt->rel_tgt_id;
}

/* SPEC_I_PT: each TransportID, with the acting nexus's key and port,
 * after checking that none is registered already (6.17.3: INVALID FIELD
 * IN PARAMETER LIST), so that the list is taken whole or not at all. */
static bool register_spec_i_pt(struct pr_request *rq, struct scst_pr_registrant **added)
{
	struct scst_pr *pr = &rq->dev->pr;
	uint16_t port = nexus_rel_tgt_id(rq->td);
	const struct pr_out *o = rq->out;

	for (unsigned i = 0; i < o->ntids; i++) {
		struct scst_pr_registrant *r;
		bool dup = false;

		list_for_each_entry(r, &pr->registrants, entry) {
			if ((r->all_tg_pt || o->all_tg_pt || r->rel_tgt_id == port) &&
			    scst_tid_equal(r->transport_id, r->transport_id_len, o->tids[i].id,
					   o->tids[i].len))
				dup = true;
		}
		for (unsigned j = 0; j < i; j++)
			dup |= scst_tid_equal(o->tids[j].id, o->tids[j].len, o->tids[i].id,
					      o->tids[i].len);
		if (dup) {
			scst_set_cmd_error(rq->cmd, scsi_sense_invalid_param_field(28, -1));
			return false;
		}
	}
	for (unsigned i = 0; i < o->ntids; i++) {
		added[i] = registrant_new(o->sa_key, o->tids[i].id, o->tids[i].len, port,
					  o->all_tg_pt);
		if (!added[i]) {
			while (i--)
				free(added[i]);
			scst_set_cmd_error_asc(rq->cmd, SK_ILLEGAL_REQUEST,
					       ASC_INSUFFICIENT_RESOURCES);
			return false;
		}
	}
	return true;
}

/* REGISTER and REGISTER AND IGNORE EXISTING KEY (SPC-4 5.13.7). */
static bool pr_register(struct pr_request *rq, bool ignore_existing_key)
{
	struct scst_pr *pr = &rq->dev->pr;
	const struct pr_out *o = rq->out;
	struct scst_session *sess = rq->td->sess;

	if (ignore_existing_key && o->spec_i_pt) {
		scst_set_cmd_error(rq->cmd, scsi_sense_invalid_param_field(20, 3));
		return false;
	}
	if (!rq->reg) {
		struct scst_pr_registrant *added[SPEC_I_PT_MAX];
		struct scst_pr_registrant *self;

		if (!ignore_existing_key && o->key != 0)
			return conflict(rq);
		if (o->sa_key == 0)
			return false; /* nothing to do: GOOD */
		if (o->spec_i_pt && !register_spec_i_pt(rq, added))
			return false;
		self = registrant_new(o->sa_key, sess->transport_id, sess->transport_id_len,
				      nexus_rel_tgt_id(rq->td), o->all_tg_pt);
		if (!self) {
			for (unsigned i = 0; o->spec_i_pt && i < o->ntids; i++)
				free(added[i]);
			scst_set_cmd_error_asc(rq->cmd, SK_ILLEGAL_REQUEST,
					       ASC_INSUFFICIENT_RESOURCES);
			return false;
		}
		list_add_tail(&self->entry, &pr->registrants);
		pr->nregistrants++;
		for (unsigned i = 0; o->spec_i_pt && i < o->ntids; i++) {
			list_add_tail(&added[i]->entry, &pr->registrants);
			pr->nregistrants++;
		}
	} else {
		if (o->spec_i_pt) {
			scst_set_cmd_error(rq->cmd, scsi_sense_invalid_param_field(20, 3));
			return false;
		}
		if (!ignore_existing_key && o->key != rq->reg->key)
			return conflict(rq);
		if (o->sa_key == 0)
			unregister_locked(rq->dev, rq->reg, rq->td, true);
		else
			rq->reg->key = o->sa_key;
	}
	pr->aptpl = o->aptpl;
	pr->generation++;
	return true;
}

/* The checks every action but the registering ones starts with: the
 * nexus is registered, with the key it gives (SPC-4 5.13.1). */
static bool registered_with_key(struct pr_request *rq)
{
	if (!rq->reg || rq->reg->key != rq->out->key) {
		conflict(rq);
		return false;
	}
	return true;
}

/* RESERVE (SPC-4 5.13.9). */
static bool pr_reserve(struct pr_request *rq)
{
	struct scst_pr *pr = &rq->dev->pr;
	const struct pr_out *o = rq->out;

	if (!registered_with_key(rq))
		return false;
	if (pr->reserved) {
		/* The holder asking again for the same is a no-op; anything
		 * else conflicts (the type is changed by PREEMPT only). */
		if (scst_pr_is_holder(pr, rq->reg) && pr->type == o->type && pr->scope == o->scope)
			return false;
		return conflict(rq);
	}
	pr->reserved = true;
	pr->type = o->type;
	pr->scope = o->scope;
	pr->holder = scst_pr_type_all_registrants(o->type) ? NULL : rq->reg;
	return true;
}

/* RELEASE (SPC-4 5.13.11.2). */
static bool pr_release(struct pr_request *rq)
{
	struct scst_pr *pr = &rq->dev->pr;
	const struct pr_out *o = rq->out;

	if (!registered_with_key(rq))
		return false;
	if (!pr->reserved || !scst_pr_is_holder(pr, rq->reg))
		return false; /* GOOD, nothing released */
	if (pr->type != o->type || pr->scope != o->scope) {
		scst_set_cmd_error_asc(rq->cmd, SK_ILLEGAL_REQUEST,
				       ASC_INVALID_RELEASE_OF_PERSISTENT_RESERVATION);
		return false;
	}
	reservation_release_locked(rq->dev, rq->td);
	return true;
}

/* CLEAR (SPC-4 5.13.11.3): every registration and the reservation go;
 * every other registered nexus gets RESERVATIONS PREEMPTED. */
static bool pr_clear(struct pr_request *rq)
{
	struct scst_pr *pr = &rq->dev->pr;

	if (!registered_with_key(rq))
		return false;
	ua_to_registrant_locked(rq->dev, NULL, rq->td, ASC_RESERVATIONS_PREEMPTED);
	scst_pr_clear_state(pr);
	pr->generation++;
	return true;
}

/* Marks the nexuses of @r for PREEMPT AND ABORT and tells them
 * REGISTRATIONS PREEMPTED; then removes @r. */
static void preempt_registrant(struct pr_request *rq, struct scst_pr_registrant *r)
{
	struct scst_tgt_dev *td;

	list_for_each_entry(td, &rq->dev->tgt_devs, dev_entry) {
		if (td->pr_reg != r || td == rq->td)
			continue;
		scst_tgt_dev_queue_ua_locked(td, scsi_sense_make(SK_UNIT_ATTENTION,
								  ASC_REGISTRATIONS_PREEMPTED));
		if (rq->out->sa == PR_OUT_PREEMPT_AND_ABORT) {
			td->pr_preempted = true;
			rq->abort_preempted = true;
		}
		td->pr_reg = NULL;
	}
	unregister_locked(rq->dev, r, rq->td, false);
}

/* Removes every registration with key @key (every one, @any_key), the
 * acting nexus's own too unless @keep_self; returns how many went. */
static unsigned preempt_key(struct pr_request *rq, uint64_t key, bool any_key, bool keep_self)
{
	struct scst_pr *pr = &rq->dev->pr;
	struct scst_pr_registrant *r, *next;
	unsigned n = 0;

	list_for_each_entry_safe(r, next, &pr->registrants, entry) {
		if ((keep_self && r == rq->reg) || (!any_key && r->key != key))
			continue;
		preempt_registrant(rq, r);
		n++;
	}
	return n;
}

/* PREEMPT and PREEMPT AND ABORT (SPC-4 5.13.11.4, 5.13.11.5). */
static bool pr_preempt(struct pr_request *rq)
{
	struct scst_pr *pr = &rq->dev->pr;
	const struct pr_out *o = rq->out;
	bool was_reserved = pr->reserved;
	uint8_t old_type = pr->type, old_scope = pr->scope;

	bool all = pr->reserved && scst_pr_type_all_registrants(pr->type);

	if (!registered_with_key(rq))
		return false;
	/* The reservation is taken over when the key named is its holder's,
	 * or, for an All Registrants one, 0. Otherwise only the
	 * registrations with the key go, the sender's own too if it has
	 * that key, and a reservation stays (SPC-4 5.13.11.4.2 to .4). */
	if (!pr->reserved || (all ? o->sa_key != 0
				  : !pr->holder || o->sa_key != pr->holder->key)) {
		if (o->sa_key == 0) {
			scst_set_cmd_error(rq->cmd, scsi_sense_invalid_param_field(8, -1));
			return false;
		}
		if (preempt_key(rq, o->sa_key, false, false) == 0)
			return conflict(rq);
		pr->generation++;
		return true;
	}
	/* The reservation is taken over: its holder's key (or, for All
	 * Registrants, key 0: everyone else) goes, and the preempting nexus
	 * holds a reservation of the type it asks for. */
	preempt_key(rq, o->sa_key, all, true);
	pr->reserved = true;
	pr->type = o->type;
	pr->scope = o->scope;
	pr->holder = scst_pr_type_all_registrants(o->type) ? NULL : rq->reg;
	/* Those left keep their registration; if the reservation changed
	 * under them, they are told (5.13.11.4.3 d). */
	if (was_reserved && (old_type != o->type || old_scope != o->scope))
		ua_to_registrant_locked(rq->dev, NULL, rq->td, ASC_RESERVATIONS_RELEASED);
	pr->generation++;
	return true;
}

/* REGISTER AND MOVE (SPC-4 5.13.8): the holder hands its reservation to
 * another I_T nexus, registering it with the key given. */
static bool pr_register_and_move(struct pr_request *rq)
{
	struct scst_pr *pr = &rq->dev->pr;
	const struct pr_out *o = rq->out;
	const struct pr_tid *dst = &o->tids[0];
	struct scst_pr_registrant *r;

	if (!registered_with_key(rq))
		return false;
	/* SPC-4 5.13.8: nothing to move is INVALID FIELD IN CDB; an All
	 * Registrants reservation cannot be moved, and only its holder may
	 * move one (RESERVATION CONFLICT). */
	if (!pr->reserved) {
		scst_set_cmd_error(rq->cmd, scsi_sense_invalid_cdb_field(1, 4));
		return false;
	}
	if (scst_pr_type_all_registrants(pr->type) || !scst_pr_is_holder(pr, rq->reg))
		return conflict(rq);
	if (o->sa_key == 0) {
		scst_set_cmd_error(rq->cmd, scsi_sense_invalid_param_field(8, -1));
		return false;
	}
	if (!scst_rel_tgt_id_exists(o->rel_tgt_id)) {
		scst_set_cmd_error(rq->cmd, scsi_sense_invalid_param_field(18, -1));
		return false;
	}
	/* The destination may not be the source nexus itself. */
	if (o->rel_tgt_id == nexus_rel_tgt_id(rq->td) &&
	    scst_tid_equal(dst->id, dst->len, rq->td->sess->transport_id,
			   rq->td->sess->transport_id_len)) {
		scst_set_cmd_error(rq->cmd, scsi_sense_invalid_param_field(24, -1));
		return false;
	}
	r = find_registrant(pr, dst->id, dst->len, o->rel_tgt_id);
	if (r) {
		r->key = o->sa_key;
	} else {
		r = registrant_new(o->sa_key, dst->id, dst->len, o->rel_tgt_id, false);
		if (!r) {
			scst_set_cmd_error_asc(rq->cmd, SK_ILLEGAL_REQUEST,
					       ASC_INSUFFICIENT_RESOURCES);
			return false;
		}
		list_add_tail(&r->entry, &pr->registrants);
		pr->nregistrants++;
	}
	pr->holder = r;
	if (o->unreg)
		registrant_remove(pr, rq->reg);
	pr->aptpl = o->aptpl;
	pr->generation++;
	return true;
}

/* ---- the command ---- */

int scst_pr_out_parse(struct scst_cmd *cmd)
{
	uint8_t sa = cmd->cdb[1] & 0x1f;
	uint32_t len = get_be32(cmd->cdb + 5);

	if (sa > PR_OUT_REGISTER_AND_MOVE) {
		/* REPLACE LOST RESERVATION is for devices that can lose
		 * one; this one cannot. */
		scst_set_cmd_error(cmd, scsi_sense_invalid_cdb_field(1, 4));
		return -1;
	}
	switch (sa) {
	case PR_OUT_RESERVE:
	case PR_OUT_RELEASE:
	case PR_OUT_PREEMPT:
	case PR_OUT_PREEMPT_AND_ABORT:
		if ((cmd->cdb[2] >> 4) != SCST_PR_SCOPE_LU) {
			scst_set_cmd_error(cmd, scsi_sense_invalid_cdb_field(2, 7));
			return -1;
		}
		if (!scst_pr_type_valid(cmd->cdb[2] & 0x0f)) {
			scst_set_cmd_error(cmd, scsi_sense_invalid_cdb_field(2, 3));
			return -1;
		}
		break;
	default:
		break;
	}
	if (len > PARAM_LIST_MAX) {
		scst_set_cmd_error_asc(cmd, SK_ILLEGAL_REQUEST, ASC_PARAMETER_LIST_LENGTH_ERROR);
		return -1;
	}
	cmd->data_dir = SCST_DATA_WRITE;
	cmd->data_len = len;
	return 0;
}

static void pr_out_wait_put(struct pr_out_wait *w)
{
	assert(reactor_self() == w->cmd->reactor && w->pending > 0);
	if (--w->pending)
		return;
	scst_cmd_done(w->cmd);
	free(w);
}

/* The tasks PREEMPT AND ABORT aborted have all ended. */
static void preempted_tasks_gone(struct scst_mgmt_cmd *mcmd)
{
	struct pr_out_wait *w = mcmd->internal_ctx;

	scst_mgmt_cmd_free(mcmd);
	pr_out_wait_put(w);
}

/* The APTPL state file is written (or could not be). */
static void state_saved(struct scst_pr_save *save)
{
	struct pr_out_wait *w = container_of(save, struct pr_out_wait, save);

	if (save->error) {
		/* The change is in force but would not survive a power loss
		 * as the initiator asked: tell it (SPC-4 leaves the sense to
		 * the device; this is the closest). */
		log_error("device %s: persistent reservation state not saved: %s",
			  w->cmd->dev->name, strerror(save->error));
		scst_set_cmd_error_asc(w->cmd, SK_HARDWARE_ERROR, ASC_INTERNAL_TARGET_FAILURE);
	}
	pr_out_wait_put(w);
}

static const char *sa_name(uint8_t sa)
{
	static const char *const names[] = {
		[PR_OUT_REGISTER] = "REGISTER",
		[PR_OUT_RESERVE] = "RESERVE",
		[PR_OUT_RELEASE] = "RELEASE",
		[PR_OUT_CLEAR] = "CLEAR",
		[PR_OUT_PREEMPT] = "PREEMPT",
		[PR_OUT_PREEMPT_AND_ABORT] = "PREEMPT AND ABORT",
		[PR_OUT_REGISTER_AND_IGNORE_EXISTING_KEY] = "REGISTER AND IGNORE EXISTING KEY",
		[PR_OUT_REGISTER_AND_MOVE] = "REGISTER AND MOVE",
	};
	return sa < sizeof(names) / sizeof(names[0]) && names[sa] ? names[sa] : "?";
}

static bool run_service_action(struct pr_request *rq)
{
	switch (rq->out->sa) {
	case PR_OUT_REGISTER:
		return pr_register(rq, false);
	case PR_OUT_REGISTER_AND_IGNORE_EXISTING_KEY:
		return pr_register(rq, true);
	case PR_OUT_RESERVE:
		return pr_reserve(rq);
	case PR_OUT_RELEASE:
		return pr_release(rq);
	case PR_OUT_CLEAR:
		return pr_clear(rq);
	case PR_OUT_PREEMPT:
	case PR_OUT_PREEMPT_AND_ABORT:
		return pr_preempt(rq);
	case PR_OUT_REGISTER_AND_MOVE:
		return pr_register_and_move(rq);
	}
	scst_set_cmd_error(rq->cmd, scsi_sense_invalid_cdb_field(1, 4));
	return false;
}

void scst_pr_out_exec(struct scst_cmd *cmd)
{
	struct scst_device *dev = cmd->dev;
	struct pr_out out;
	struct pr_request rq = { .cmd = cmd, .dev = dev, .td = cmd->tgt_dev, .out = &out };
	struct pr_out_wait *w;
	bool changed, was_aptpl;

	if (!decode_params(cmd, &out)) {
		free(out.tids);
		scst_cmd_done(cmd);
		return;
	}
	if (out.aptpl && !scst_pr_store_available()) {
		/* PTPL_C 0 in REPORT CAPABILITIES: no state directory. */
		scst_set_cmd_error(cmd, scsi_sense_invalid_param_field(
						out.sa == PR_OUT_REGISTER_AND_MOVE ? 17 : 20, 0));
		free(out.tids);
		scst_cmd_done(cmd);
		return;
	}
	w = calloc(1, sizeof(*w));
	if (!w) {
		free(out.tids);
		scst_set_cmd_status(cmd, SAM_STAT_TASK_SET_FULL);
		scst_cmd_done(cmd);
		return;
	}
	w->cmd = cmd;
	w->pending = 1;

	pthread_mutex_lock(&dev->lock);
	/* SPC-3 5.6.1: while an SPC-2 reservation exists, PERSISTENT
	 * RESERVE IN and OUT conflict "regardless of initiator or service
	 * action", its holder's too. */
	if (dev->spc2_holder) {
		pthread_mutex_unlock(&dev->lock);
		free(out.tids);
		free(w);
		scst_set_cmd_status(cmd, SAM_STAT_RESERVATION_CONFLICT);
		scst_cmd_done(cmd);
		return;
	}
	rq.reg = cmd->tgt_dev->pr_reg;
	was_aptpl = dev->pr.aptpl;
	changed = run_service_action(&rq);
	if (changed) {
		scst_pr_refresh_locked(dev);
		if (rq.abort_preempted) {
			struct scst_mgmt_cmd *mcmd =
				scst_abort_preempted_locked(cmd, preempted_tasks_gone, w);

			if (mcmd)
				w->pending++;
		}
		if (dev->pr.aptpl || was_aptpl) {
			w->pending++;
			scst_pr_save_submit_locked(dev, &w->save, cmd->reactor, state_saved);
		}
		/* One "pr:" line per change, none for a command that changed
		 * nothing: the device's state after it. */
		log_info("pr: %s by %s -> %s, LUN %llu (%s): generation %u, %u registered, %s%s%s",
			 sa_name(out.sa), cmd->sess->initiator_name, cmd->sess->tgt->name,
			 (unsigned long long)cmd->lun, dev->name, dev->pr.generation,
			 dev->pr.nregistrants, dev->pr.reserved ? "reserved (" : "not reserved",
			 dev->pr.reserved ? scst_pr_type_name(dev->pr.type) : "",
			 dev->pr.reserved ? ")" : "");
	}
	pthread_mutex_unlock(&dev->lock);
	free(out.tids);
	pr_out_wait_put(w);
}
