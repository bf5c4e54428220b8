/* ALUA's objects and commands (alua.h): device groups, target port groups,
 * their states, REPORT and SET TARGET PORT GROUPS, implicit transitions
 * that end after the configured time, and the on_stpg hook.
 *
 * The configuration in force (`current`) is scst_mutex's. Whenever a
 * state changes, refresh() recomputes td->alua of every I_T_L nexus of
 * every device (dev->lock, the order scst_mutex -> dev->lock) and queues
 * ASYMMETRIC ACCESS STATE CHANGED where the state changed.
 *
 What may not block a reactor runs on threads of its own: one timer
 * thread, started with the first device group, ends transitions when
 * their time is up; an STPG with an on_stpg program (alua_hook.c) stays in
 * EXEC while a detached thread of its own runs it (one at a time per
 * device group), which hands the result back to the command's reactor in
 * the job's embedded message. */
#include "core/alua.h"

#include <assert.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/bytes.h"
#include "base/log.h"
#include "core/alua_hook.h"
#include "core/alua_rules.h"
#include "core/core_internal.h"

/* Bounds that keep RTPG's descriptors in their fields: a group's port
 * count is one byte. */
#define ALUA_MAX_PORTS_PER_GROUP 255
#define ALUA_MAX_GROUPS 64

struct alua_port {
	char *tgt_name;
	uint16_t rel_tgt_id; /* the TARGET's rel_tgt_id attribute (or its own) */
};

struct scst_alua_tg {
	char *name;
	/* Attributes (scst_alua_tg_attr_table). */
	uint16_t group_id;
	unsigned config_state; /* index into state_choices: the file's state */
	bool preferred;
	/* The state in force, and RTPG's STATUS CODE of its last change. */
	unsigned state;
	uint8_t status;
	/* An implicit transition under way: state is TRANSITIONING until
	 * @deadline (CLOCK_MONOTONIC), then @target. */
	bool transition;
	struct timespec deadline;
	unsigned target;
	struct alua_port *ports;
	unsigned nports;
};

struct scst_alua_dg {
	char *name;
	/* Attributes (scst_alua_dg_attr_table). */
	unsigned tpgs_choice;   /* index into tpgs_choices */
	uint8_t transition_time; /* seconds */
	char *on_stpg;
	/* Its devices, by name: a device leaves the registry only through a
	 * reload, which must then have left it out of every device group. */
	char **devs;
	unsigned ndevs;
	struct scst_alua_tg **tgs;
	unsigned ntgs;
	/* An STPG's hook is running for this group (at most one at a time). */
	bool stpg_busy;
};

struct scst_alua_config {
	struct scst_alua_dg **dgs;
	unsigned ndgs;
};

static struct scst_alua_config *current; /* scst_mutex */

/* ---- attributes ---- */

static const char *const tpgs_choices[] = { "implicit", "explicit", "both", NULL };
static const char *const state_choices[] = { "active",  "nonoptimized", "standby",
					     "unavailable", "offline", "transitioning", NULL };
static const unsigned state_codes[] = { SCST_ALUA_ACTIVE,      SCST_ALUA_NONOPTIMIZED,
					SCST_ALUA_STANDBY,     SCST_ALUA_UNAVAILABLE,
					SCST_ALUA_OFFLINE,     SCST_ALUA_TRANSITIONING };

static const struct scst_attr_desc dg_attrs[] = {
	{ .name = "tpgs", .type = SCST_ATTR_ENUM, SCST_ATTR_FIELD(struct scst_alua_dg, tpgs_choice),
	  .choices = tpgs_choices, .def = "implicit",
	  .help = "(uscst) How the group's states change, as standard INQUIRY's TPGS says: "
		  "implicit (the configuration only), explicit (SET TARGET PORT GROUPS only) "
		  "or both. Like every ALUA attribute, a reload changes it live." },
	{ .name = "implicit_transition_time", .type = SCST_ATTR_UINT,
	  SCST_ATTR_FIELD(struct scst_alua_dg, transition_time), .min = 0, .max = 255, .def = "0",
	  .help = "(uscst) Seconds a state changed by a reload spends in transitioning before "
		  "it is in force; RTPG's IMPLICIT TRANSITION TIME." },
	{ .name = "on_stpg", .type = SCST_ATTR_STRING, SCST_ATTR_FIELD(struct scst_alua_dg, on_stpg),
	  .help = "(uscst) Program run when an initiator's SET TARGET PORT GROUPS asks for new "
		  "states, with the device group and TARGET_GROUP=STATE arguments; exit status 0 "
		  "lets the change happen, anything else fails the command." },
};

const struct scst_attr_table scst_alua_dg_attr_table = {
	.name = "DEVICE_GROUP",
	.owner = SCST_ATTR_OWNER_DEVICE_GROUP,
	.descs = dg_attrs,
	.ndescs = SCST_ATTR_TABLE_LEN(dg_attrs),
	.object_size = sizeof(struct scst_alua_dg),
};

static const struct scst_attr_desc tg_attrs[] = {
	{ .name = "group_id", .type = SCST_ATTR_UINT, .flags = SCST_ATTR_REQUIRED,
	  SCST_ATTR_FIELD(struct scst_alua_tg, group_id), .min = 1, .max = 65535,
	  .help = "Target port group identifier (RTPG, STPG, VPD page 0x83); unique in its "
		  "device group." },
	{ .name = "state", .type = SCST_ATTR_ENUM,
	  SCST_ATTR_FIELD(struct scst_alua_tg, config_state), .choices = state_choices,
	  .def = "active",
	  .help = "Asymmetric access state of the group's target ports; a reload that changes "
		  "it changes it live and tells their I_T_L nexuses (ASYMMETRIC ACCESS STATE "
		  "CHANGED)." },
	{ .name = "preferred", .type = SCST_ATTR_BOOL,
	  SCST_ATTR_FIELD(struct scst_alua_tg, preferred), .def = "0",
	  .help = "RTPG's PREF bit: the preferred group to reach the device through." },
};

const struct scst_attr_table scst_alua_tg_attr_table = {
	.name = "TARGET_GROUP",
	.owner = SCST_ATTR_OWNER_TARGET_GROUP,
	.descs = tg_attrs,
	.ndescs = SCST_ATTR_TABLE_LEN(tg_attrs),
	.object_size = sizeof(struct scst_alua_tg),
};

static const struct scst_attr_desc tg_target_attrs[] = {
	{ .name = "rel_tgt_id", .type = SCST_ATTR_UINT,
	  SCST_ATTR_FIELD(struct alua_port, rel_tgt_id), .min = 1, .max = 65535,
	  .help = "Relative target port identifier RTPG lists for the port: required for a "
		  "target of another node, and equal to the target's own for a local one." },
};

const struct scst_attr_table scst_alua_tg_target_attr_table = {
	.name = "TARGET of a TARGET_GROUP",
	.owner = SCST_ATTR_OWNER_TG_TARGET,
	.descs = tg_target_attrs,
	.ndescs = SCST_ATTR_TABLE_LEN(tg_target_attrs),
	.object_size = sizeof(struct alua_port),
};

/* ---- building ---- */

struct scst_alua_config *scst_alua_config_new(void)
{
	return calloc(1, sizeof(struct scst_alua_config));
}

static void tg_free(struct scst_alua_tg *tg)
{
	for (unsigned i = 0; i < tg->nports; i++)
		free(tg->ports[i].tgt_name);
	free(tg->ports);
	free(tg->name);
	free(tg);
}

static void dg_free(struct scst_alua_dg *dg)
{
	for (unsigned i = 0; i < dg->ntgs; i++)
		tg_free(dg->tgs[i]);
	for (unsigned i = 0; i < dg->ndevs; i++)
		free(dg->devs[i]);
	free(dg->tgs);
	free(dg->devs);
	free(dg->on_stpg);
	free(dg->name);
	free(dg);
}

void scst_alua_config_free(struct scst_alua_config *cfg)
{
	if (!cfg)
		return;
	for (unsigned i = 0; i < cfg->ndgs; i++)
		dg_free(cfg->dgs[i]);
	free(cfg->dgs);
	free(cfg);
}

/* Room for one more pointer in an array of @n (the caller stores the
 * result back); NULL on allocation failure, the array unchanged. */
static void *grown(void *array, size_t elem_size, unsigned n)
{
	return realloc(array, (n + 1) * elem_size);
}

void scst_alua_dump_locked(void)
{
	for (unsigned i = 0; current && i < current->ndgs; i++) {
		const struct scst_alua_dg *dg = current->dgs[i];

		for (unsigned j = 0; j < dg->ntgs; j++) {
			const struct scst_alua_tg *tg = dg->tgs[j];

			log_info("dump: alua %s/%s: group %u, %s%s, %u port(s)", dg->name, tg->name,
				 tg->group_id, scst_alua_state_name(tg->state),
				 tg->transition ? " (in transition)" : "", tg->nports);
		}
	}
}

static struct scst_alua_dg *find_dg(const struct scst_alua_config *cfg, const char *name)
{
	for (unsigned i = 0; cfg && i < cfg->ndgs; i++)
		if (strcmp(cfg->dgs[i]->name, name) == 0)
			return cfg->dgs[i];
	return NULL;
}

static struct scst_alua_tg *find_tg(const struct scst_alua_dg *dg, const char *name)
{
	for (unsigned i = 0; dg && i < dg->ntgs; i++)
		if (strcmp(dg->tgs[i]->name, name) == 0)
			return dg->tgs[i];
	return NULL;
}

struct scst_alua_dg *scst_alua_dg_add(struct scst_alua_config *cfg, const char *name,
				      struct scst_attr *attrs, unsigned nattrs, char *err,
				      size_t errlen)
{
	struct scst_alua_dg *dg, **dgs;

	if (find_dg(cfg, name)) {
		snprintf(err, errlen, "device group '%s' is defined twice", name);
		return NULL;
	}
	dgs = grown(cfg->dgs, sizeof(*dgs), cfg->ndgs);

	if (dgs)
		cfg->dgs = dgs;
	dg = calloc(1, sizeof(*dg));
	if (!dgs || !dg || !(dg->name = strdup(name))) {
		free(dg);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	cfg->dgs[cfg->ndgs++] = dg;
	if (scst_attr_defaults(&scst_alua_dg_attr_table, dg, err, errlen) ||
	    scst_attrs_take(&scst_alua_dg_attr_table, dg, attrs, nattrs, err, errlen))
		return NULL;
	if (dg->on_stpg && dg->on_stpg[0] != '/') {
		snprintf(err, errlen, "on_stpg '%s' is not an absolute path", dg->on_stpg);
		return NULL;
	}
	return dg;
}

int scst_alua_dg_add_device(struct scst_alua_config *cfg, struct scst_alua_dg *dg,
			    const char *dev_name, char *err, size_t errlen)
{
	struct scst_device *dev = scst_find_device(dev_name);
	char **devs;

	if (!dev) {
		snprintf(err, errlen, "device group '%s': no device '%s'", dg->name, dev_name);
		return -1;
	}
	for (unsigned i = 0; i < cfg->ndgs; i++) {
		for (unsigned j = 0; j < cfg->dgs[i]->ndevs; j++) {
			if (strcmp(cfg->dgs[i]->devs[j], dev->name) == 0) {
				snprintf(err, errlen, "device '%s' is already in device group '%s'",
					 dev_name, cfg->dgs[i]->name);
				return -1;
			}
		}
	}
	devs = grown(dg->devs, sizeof(*devs), dg->ndevs);
	if (devs)
		dg->devs = devs;
	if (!devs || !(dg->devs[dg->ndevs] = strdup(dev_name))) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	dg->ndevs++;
	return 0;
}

struct scst_alua_tg *scst_alua_tg_add(struct scst_alua_dg *dg, const char *name,
				      struct scst_attr *attrs, unsigned nattrs, char *err,
				      size_t errlen)
{
	struct scst_alua_tg *tg, **tgs;

	if (find_tg(dg, name)) {
		snprintf(err, errlen, "target group '%s' is defined twice in device group '%s'",
			 name, dg->name);
		return NULL;
	}
	if (dg->ntgs == ALUA_MAX_GROUPS) {
		snprintf(err, errlen, "device group '%s' has more than %d target groups", dg->name,
			 ALUA_MAX_GROUPS);
		return NULL;
	}
	tgs = grown(dg->tgs, sizeof(*tgs), dg->ntgs);
	if (tgs)
		dg->tgs = tgs;
	tg = calloc(1, sizeof(*tg));
	if (!tgs || !tg || !(tg->name = strdup(name))) {
		free(tg);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	dg->tgs[dg->ntgs++] = tg;
	if (scst_attr_defaults(&scst_alua_tg_attr_table, tg, err, errlen) ||
	    scst_attrs_take(&scst_alua_tg_attr_table, tg, attrs, nattrs, err, errlen))
		return NULL;
	tg->state = state_codes[tg->config_state];
	for (unsigned i = 0; i + 1 < dg->ntgs; i++) {
		if (dg->tgs[i]->group_id == tg->group_id) {
			snprintf(err, errlen, "group_id %u is already that of target group '%s'",
				 tg->group_id, dg->tgs[i]->name);
			return NULL;
		}
	}
	return tg;
}

struct tgt_by_name {
	const char *name;
	struct scst_tgt *tgt;
};

static void match_tgt(struct scst_tgt *tgt, void *arg)
{
	struct tgt_by_name *m = arg;

	if (strcmp(tgt->name, m->name) == 0)
		m->tgt = tgt;
}

static struct scst_tgt *find_local_target(const char *name)
{
	struct tgt_by_name m = { .name = name };

	scst_for_each_target(NULL, match_tgt, &m);
	return m.tgt;
}

int scst_alua_tg_add_target(struct scst_alua_dg *dg, struct scst_alua_tg *tg,
			    const char *tgt_name, struct scst_attr *attrs, unsigned nattrs,
			    char *err, size_t errlen)
{
	struct scst_tgt *tgt = find_local_target(tgt_name);
	struct alua_port port = { 0 }, *ports;

	if (scst_attrs_take(&scst_alua_tg_target_attr_table, &port, attrs, nattrs, err, errlen))
		return -1;
	if (tgt && port.rel_tgt_id && port.rel_tgt_id != tgt->rel_tgt_id) {
		snprintf(err, errlen, "rel_tgt_id %u is not target '%s''s own (%u)",
			 port.rel_tgt_id, tgt_name, tgt->rel_tgt_id);
		return -1;
	}
	if (tgt)
		port.rel_tgt_id = tgt->rel_tgt_id;
	if (!port.rel_tgt_id) {
		snprintf(err, errlen, "target '%s' is not a target of this node: rel_tgt_id "
			 "is needed for it", tgt_name);
		return -1;
	}
	for (unsigned i = 0; i < dg->ntgs; i++) {
		for (unsigned j = 0; j < dg->tgs[i]->nports; j++) {
			const struct alua_port *p = &dg->tgs[i]->ports[j];

			if (strcmp(p->tgt_name, tgt_name) == 0) {
				snprintf(err, errlen, "target '%s' is already in target group '%s'",
					 tgt_name, dg->tgs[i]->name);
				return -1;
			}
			if (p->rel_tgt_id == port.rel_tgt_id) {
				snprintf(err, errlen, "rel_tgt_id %u is already that of target '%s'",
					 port.rel_tgt_id, p->tgt_name);
				return -1;
			}
		}
	}
	if (tg->nports == ALUA_MAX_PORTS_PER_GROUP) {
		snprintf(err, errlen, "target group '%s' has more than %d targets", tg->name,
			 ALUA_MAX_PORTS_PER_GROUP);
		return -1;
	}
	ports = realloc(tg->ports, (tg->nports + 1) * sizeof(*ports));
	if (!ports || !(port.tgt_name = strdup(tgt_name))) {
		if (ports)
			tg->ports = ports;
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	tg->ports = ports;
	tg->ports[tg->nports++] = port;
	return 0;
}

/* ---- states of nexuses ---- */

static struct scst_alua_dg *dg_of_device(const struct scst_device *dev)
{
	for (unsigned i = 0; current && i < current->ndgs; i++)
		for (unsigned j = 0; j < current->dgs[i]->ndevs; j++)
			if (strcmp(current->dgs[i]->devs[j], dev->name) == 0)
				return current->dgs[i];
	return NULL;
}

static struct scst_alua_tg *tg_of_target(const struct scst_alua_dg *dg, const char *tgt_name)
{
	for (unsigned i = 0; i < dg->ntgs; i++)
		for (unsigned j = 0; j < dg->tgs[i]->nports; j++)
			if (strcmp(dg->tgs[i]->ports[j].tgt_name, tgt_name) == 0)
				return dg->tgs[i];
	return NULL;
}

static unsigned tpgs_of(const struct scst_alua_dg *dg)
{
	return dg->tpgs_choice + 1; /* implicit 1, explicit 2, both 3 */
}

/* A target port in no target group of its device's group serves as
 * active/optimized and reports no group (SCST: no ALUA filter). */
unsigned scst_alua_nexus_word(const struct scst_device *dev, const struct scst_tgt *tgt)
{
	const struct scst_alua_dg *dg = dg_of_device(dev);
	const struct scst_alua_tg *tg;

	if (!dg)
		return 0;
	tg = tg_of_target(dg, tgt->name);
	if (!tg)
		return tpgs_of(dg) << 8;
	return tg->state | tpgs_of(dg) << 8 | (unsigned)tg->group_id << 16;
}

struct refresh_ctx {
	const struct scst_tgt_dev *except; /* the STPG's own nexus: not told */
};

static void refresh_device(struct scst_device *dev, void *arg)
{
	struct refresh_ctx *rc = arg;
	struct scst_tgt_dev *td;
	unsigned changed = 0;

	pthread_mutex_lock(&dev->lock);
	list_for_each_entry(td, &dev->tgt_devs, dev_entry) {
		/* On dev->tgt_devs the nexus still holds its session, whose
		 * target outlives it. */
		unsigned w = scst_alua_nexus_word(dev, td->sess->tgt);
		unsigned old = atomic_load_explicit(&td->alua, memory_order_relaxed);

		if (w == old)
			continue;
		atomic_store_explicit(&td->alua, w, memory_order_relaxed);
		if (scst_alua_word_state(w) == scst_alua_word_state(old) ||
		    scst_alua_word_state(w) == SCST_ALUA_TRANSITIONING || td == rc->except)
			continue;
		scst_tgt_dev_queue_ua_locked(
			td, scsi_sense_make(SK_UNIT_ATTENTION, ASC_ASYMMETRIC_ACCESS_STATE_CHANGED));
		changed++;
	}
	pthread_mutex_unlock(&dev->lock);
	if (changed)
		log_info("device %s: ALUA state changed on %u I_T_L nexus(es)", dev->name, changed);
}

static void refresh(const struct scst_tgt_dev *except)
{
	struct refresh_ctx rc = { .except = except };

	scst_for_each_device(refresh_device, &rc);
}

/* ---- on_stpg jobs and the transition timer ---- */

struct stpg_job {
	struct scst_cmd *cmd;
	char *argv[4 + SCST_ALUA_STPG_MAX];
	char *env[6];
	char *dg_name;
	unsigned n;
	char *tg_names[SCST_ALUA_STPG_MAX];
	uint8_t states[SCST_ALUA_STPG_MAX];
	/* The result, set by the job's thread and read on the command's reactor
	 * after done_msg (which orders the two). */
	bool failed;
	struct scsi_sense sense;
	struct reactor_msg done_msg;
};

static pthread_mutex_t timer_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t timer_cond;
static bool have_deadline;                        /* timer_lock */
static struct timespec next_deadline;             /* timer_lock */
static pthread_once_t timer_once = PTHREAD_ONCE_INIT;

static bool before(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

/* Ends every transition whose time is up and tells the timer thread when the
 * next one is due; scst_mutex held. */
static void expire_transitions(void)
{
	struct timespec now, next = { 0 };
	bool any = false, ended = false;

	clock_gettime(CLOCK_MONOTONIC, &now);
	for (unsigned i = 0; current && i < current->ndgs; i++) {
		for (unsigned j = 0; j < current->dgs[i]->ntgs; j++) {
			struct scst_alua_tg *tg = current->dgs[i]->tgs[j];

			if (!tg->transition)
				continue;
			if (!before(&now, &tg->deadline)) {
				tg->transition = false;
				tg->state = tg->target;
				tg->status = SCST_ALUA_STATUS_IMPLICIT;
				ended = true;
				log_info("device group %s, target group %s: now %s",
					 current->dgs[i]->name, tg->name,
					 scst_alua_state_name(tg->state));
			} else if (!any || before(&tg->deadline, &next)) {
				next = tg->deadline;
				any = true;
			}
		}
	}
	if (ended)
		refresh(NULL);
	pthread_mutex_lock(&timer_lock);
	have_deadline = any;
	next_deadline = next;
	pthread_cond_signal(&timer_cond);
	pthread_mutex_unlock(&timer_lock);
}

static void stpg_done_msg(struct reactor_msg *m);
static void stpg_apply(struct scst_alua_dg *dg, const struct scst_alua_stpg_change *ch,
		       unsigned n, const struct scst_tgt_dev *except);

static void job_free(struct stpg_job *job)
{
	for (size_t i = 0; i < sizeof(job->argv) / sizeof(job->argv[0]); i++)
		free(job->argv[i]);
	for (size_t i = 0; i < sizeof(job->env) / sizeof(job->env[0]); i++)
		free(job->env[i]);
	for (unsigned i = 0; i < job->n; i++)
		free(job->tg_names[i]);
	free(job->dg_name);
	free(job);
}

/* The hook said yes: the changes happen, as far as the groups still exist
 * (a reload may have come meanwhile); scst_mutex held. */
static void job_commit(struct stpg_job *job)
{
	struct scst_alua_dg *dg = find_dg(current, job->dg_name);
	struct scst_alua_stpg_change ch[SCST_ALUA_STPG_MAX];
	unsigned n = 0;

	if (!dg) {
		job->failed = true;
		job->sense = scsi_sense_make(SK_HARDWARE_ERROR, SCST_ASC_STPG_FAILED);
		return;
	}
	for (unsigned i = 0; i < job->n; i++) {
		for (unsigned g = 0; g < dg->ntgs; g++) {
			if (strcmp(dg->tgs[g]->name, job->tg_names[i]) == 0) {
				ch[n++] = (struct scst_alua_stpg_change){ .group = g,
									  .state = job->states[i] };
				break;
			}
		}
	}
	stpg_apply(dg, ch, n, job->cmd->tgt_dev);
}

/* An STPG's own thread (detached): runs the hook, applies or refuses. */
static void *job_run(void *arg)
{
	struct stpg_job *job = arg;
	int rc = scst_alua_hook_run(job->argv, job->env);
	struct scst_alua_dg *dg;

	pthread_mutex_lock(&scst_mutex);
	if (rc == 0) {
		job_commit(job);
	} else {
		if (rc > 0)
			log_warn("on_stpg %s for device group %s: exit status %d: the STPG fails",
				 job->argv[0], job->dg_name, rc);
		job->failed = true;
		job->sense = scsi_sense_make(SK_HARDWARE_ERROR, SCST_ASC_STPG_FAILED);
	}
	dg = find_dg(current, job->dg_name);
	if (dg)
		dg->stpg_busy = false;
	pthread_mutex_unlock(&scst_mutex);
	reactor_send(job->cmd->reactor, &job->done_msg, stpg_done_msg);
	return NULL;
}

/* Runs @job on a detached thread of its own, so that a slow hook delays
 * neither a reactor nor the transitions of other groups. */
static bool start_job(struct stpg_job *job)
{
	pthread_attr_t ta;
	pthread_t t;
	int rc;

	pthread_attr_init(&ta);
	pthread_attr_setdetachstate(&ta, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&t, &ta, job_run, job);
	pthread_attr_destroy(&ta);
	return rc == 0;
}

static void *timer_main(void *arg)
{
	(void)arg;
	for (;;) {
		struct timespec now;

		pthread_mutex_lock(&timer_lock);
		for (;;) {
			clock_gettime(CLOCK_MONOTONIC, &now);
			if (have_deadline && !before(&now, &next_deadline))
				break;
			if (have_deadline)
				pthread_cond_timedwait(&timer_cond, &timer_lock, &next_deadline);
			else
				pthread_cond_wait(&timer_cond, &timer_lock);
		}
		have_deadline = false; /* expire_transitions() sets it again */
		pthread_mutex_unlock(&timer_lock);
		pthread_mutex_lock(&scst_mutex);
		expire_transitions();
		pthread_mutex_unlock(&scst_mutex);
	}
	return NULL;
}

static void timer_start(void)
{
	pthread_condattr_t ca;
	pthread_attr_t ta;
	pthread_t t;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&timer_cond, &ca);
	pthread_condattr_destroy(&ca);
	pthread_attr_init(&ta);
	pthread_attr_setdetachstate(&ta, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &ta, timer_main, NULL))
		log_error("ALUA: cannot start the transition timer thread: transitions will not "
			  "end");
	pthread_attr_destroy(&ta);
}

/* ---- installing a configuration ---- */

/* A target that exports a device of a device group but is in none of its
 * target groups reports TPGS without a target port group (VPD page 0x83
 * has none for it): scsi_dh_alua gives up on such a path. Allowed, as in
 * SCST, but said. */
static bool acg_maps(const struct scst_acg *acg, const char *dev_name)
{
	const struct scst_lun *l;

	list_for_each_entry(l, &acg->luns, entry)
		if (strcmp(l->dev->name, dev_name) == 0)
			return true;
	return false;
}

static void warn_ungrouped(struct scst_tgt *tgt, void *arg)
{
	const struct scst_alua_config *cfg = arg;

	for (unsigned i = 0; i < cfg->ndgs; i++) {
		const struct scst_alua_dg *dg = cfg->dgs[i];

		if (tg_of_target(dg, tgt->name))
			continue;
		for (unsigned j = 0; j < dg->ndevs; j++) {
			const struct scst_acg *acg;
			bool maps = acg_maps(tgt->default_acg, dg->devs[j]);

			list_for_each_entry(acg, &tgt->acgs, tgt_entry)
				maps = maps || acg_maps(acg, dg->devs[j]);
			if (maps)
				log_warn("target %s exports device %s of device group %s but is in "
					 "none of its target groups: it reports no target port group",
					 tgt->name, dg->devs[j], dg->name);
		}
	}
}

void scst_alua_config_install(struct scst_alua_config *cfg)
{
	struct scst_alua_config *old = current;
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	for (unsigned i = 0; i < cfg->ndgs; i++) {
		struct scst_alua_dg *dg = cfg->dgs[i];
		const struct scst_alua_dg *odg = find_dg(old, dg->name);

		for (unsigned j = 0; j < dg->ntgs; j++) {
			struct scst_alua_tg *tg = dg->tgs[j];
			const struct scst_alua_tg *otg = find_tg(odg, tg->name);
			unsigned want = state_codes[tg->config_state];

			if (!otg)
				continue; /* new: its state from the file, at once */
			tg->status = otg->status;
			if (tg->config_state == otg->config_state) {
				/* The file left it alone: what STPG or a
				 * transition made of it stays. */
				tg->state = otg->state;
				tg->transition = otg->transition;
				tg->deadline = otg->deadline;
				tg->target = otg->target;
				continue;
			}
			tg->status = SCST_ALUA_STATUS_IMPLICIT;
			if (dg->transition_time && want != SCST_ALUA_TRANSITIONING &&
			    otg->state != want) {
				tg->state = SCST_ALUA_TRANSITIONING;
				tg->transition = true;
				tg->target = want;
				tg->deadline = now;
				tg->deadline.tv_sec += dg->transition_time;
			}
			log_info("device group %s, target group %s: %s -> %s%s", dg->name, tg->name,
				 scst_alua_state_name(otg->state), scst_alua_state_name(want),
				 tg->transition ? " (transitioning first)" : "");
		}
	}
	current = cfg;
	scst_for_each_target(NULL, warn_ungrouped, cfg);
	refresh(NULL);
	scst_alua_config_free(old);
	if (cfg->ndgs)
		pthread_once(&timer_once, timer_start);
	if (cfg->ndgs)
		expire_transitions();
}

/* ---- REPORT TARGET PORT GROUPS ---- */

#define RTPG_FORMAT_EXTENDED 1

int scst_rtpg_parse(struct scst_cmd *cmd)
{
	unsigned format = cmd->cdb[1] >> 5;

	if (format > RTPG_FORMAT_EXTENDED) {
		scst_set_cmd_error(cmd, scsi_sense_invalid_cdb_field(1, 7));
		return -1;
	}
	cmd->data_dir = SCST_DATA_READ;
	cmd->data_len = get_be32(cmd->cdb + 6);
	return 0;
}

void scst_rtpg_exec(struct scst_cmd *cmd)
{
	struct scst_alua_rtpg_group groups[ALUA_MAX_GROUPS];
	uint16_t ids[ALUA_MAX_GROUPS][ALUA_MAX_PORTS_PER_GROUP];
	bool extended = (cmd->cdb[1] >> 5) == RTPG_FORMAT_EXTENDED;
	const struct scst_alua_dg *dg;
	uint8_t *d = NULL;
	unsigned n = 0;
	uint8_t ttime = 0;
	size_t len, cap = cmd->bufflen < 65536 ? cmd->bufflen : 65536;

	pthread_mutex_lock(&scst_mutex);
	dg = cmd->dev ? dg_of_device(cmd->dev) : NULL;
	for (unsigned i = 0; dg && i < dg->ntgs; i++) {
		const struct scst_alua_tg *tg = dg->tgs[i];

		groups[n] = (struct scst_alua_rtpg_group){
			.group_id = tg->group_id, .state = (uint8_t)tg->state,
			.preferred = tg->preferred, .status = tg->status,
			.rel_tgt_ids = ids[n], .nports = tg->nports,
		};
		for (unsigned p = 0; p < tg->nports; p++)
			ids[n][p] = tg->ports[p].rel_tgt_id;
		n++;
	}
	if (dg)
		ttime = dg->transition_time;
	pthread_mutex_unlock(&scst_mutex);
	d = calloc(1, cap ? cap : 1);
	if (!d) {
		scst_set_cmd_status(cmd, SAM_STAT_BUSY);
		scst_cmd_done(cmd);
		return;
	}
	len = scst_alua_rtpg_build(groups, n, extended, ttime, d, cap);
	scst_cmd_copy_response(cmd, d, len < cap ? len : cap);
	free(d);
	scst_cmd_done(cmd);
}

/* ---- SET TARGET PORT GROUPS ---- */

bool scst_stpg_available(const struct scst_tgt_dev *td)
{
	/* SPC-4 5.16.2.7: without explicit ALUA there is no STPG. */
	return td && (scst_alua_word_tpgs(atomic_load_explicit(&td->alua, memory_order_relaxed)) &
		      SCST_ALUA_TPGS_EXPLICIT);
}

int scst_stpg_parse(struct scst_cmd *cmd)
{
	uint32_t len = get_be32(cmd->cdb + 6);

	/* Refused before its data moves: no list this long can be valid. */
	if (len > 4 + 4 * SCST_ALUA_STPG_MAX) {
		scst_set_cmd_error_asc(cmd, SK_ILLEGAL_REQUEST, ASC_PARAMETER_LIST_LENGTH_ERROR);
		return -1;
	}
	cmd->data_dir = SCST_DATA_WRITE;
	cmd->data_len = len;
	return 0;
}

/* The changes of an STPG happen: scst_mutex held. */
static void stpg_apply(struct scst_alua_dg *dg, const struct scst_alua_stpg_change *ch,
		       unsigned n, const struct scst_tgt_dev *except)
{
	for (unsigned i = 0; i < n; i++) {
		struct scst_alua_tg *tg = dg->tgs[ch[i].group];

		log_info("device group %s, target group %s: %s -> %s by SET TARGET PORT GROUPS",
			 dg->name, tg->name, scst_alua_state_name(tg->state),
			 scst_alua_state_name(ch[i].state));
		tg->state = ch[i].state;
		tg->transition = false;
		tg->status = SCST_ALUA_STATUS_BY_STPG;
	}
	refresh(except);
}

static void stpg_done_msg(struct reactor_msg *m)
{
	struct stpg_job *job = container_of(m, struct stpg_job, done_msg);
	struct scst_cmd *cmd = job->cmd;

	if (job->failed)
		scst_set_cmd_error(cmd, job->sense);
	job_free(job);
	scst_cmd_done(cmd);
}

/* "NAME=value", malloc'ed; NULL on allocation failure. */
static char *env_var(const char *name, const char *value)
{
	char *s;

	if (asprintf(&s, "%s=%s", name, value) < 0)
		return NULL;
	return s;
}

/* The job that runs @dg's hook for @ch; NULL on allocation failure. */
static struct stpg_job *job_new(struct scst_cmd *cmd, const struct scst_alua_dg *dg,
				const struct scst_alua_stpg_change *ch, unsigned n)
{
	struct stpg_job *job = calloc(1, sizeof(*job));
	const struct scst_tgt *tgt = cmd->sess->tgt;
	char prev[16 * SCST_ALUA_STPG_MAX] = "", id[8];
	bool ok;

	if (!job)
		return NULL;
	job->cmd = cmd;
	job->n = n;
	ok = (job->dg_name = strdup(dg->name)) && (job->argv[0] = strdup(dg->on_stpg)) &&
	     (job->argv[1] = strdup(dg->name));
	for (unsigned i = 0; ok && i < n; i++) {
		const struct scst_alua_tg *tg = dg->tgs[ch[i].group];
		size_t at = strlen(prev);

		job->states[i] = ch[i].state;
		ok = (job->tg_names[i] = strdup(tg->name)) &&
		     asprintf(&job->argv[2 + i], "%s=%s", tg->name,
			      scst_alua_state_name(ch[i].state)) >= 0;
		if (!ok)
			job->argv[2 + i] = NULL;
		snprintf(prev + at, sizeof(prev) - at, "%s%s=%s", at ? " " : "", tg->name,
			 scst_alua_state_name(tg->state));
	}
	snprintf(id, sizeof(id), "%u", tgt->rel_tgt_id);
	ok = ok && (job->env[0] = env_var("USCST_STPG_INITIATOR", cmd->sess->initiator_name)) &&
	     (job->env[1] = env_var("USCST_STPG_TARGET", tgt->name)) &&
	     (job->env[2] = env_var("USCST_STPG_REL_TGT_ID", id)) &&
	     (job->env[3] = env_var("USCST_STPG_DEVICE", cmd->dev->name)) &&
	     (job->env[4] = env_var("USCST_STPG_PREVIOUS", prev));
	if (!ok) {
		job_free(job);
		return NULL;
	}
	return job;
}

void scst_stpg_exec(struct scst_cmd *cmd)
{
	struct scst_alua_group_view views[ALUA_MAX_GROUPS];
	struct scst_alua_stpg_change ch[SCST_ALUA_STPG_MAX];
	struct scst_alua_dg *dg;
	struct scsi_sense sense;
	struct stpg_job *job;
	int n;

	pthread_mutex_lock(&scst_mutex);
	dg = cmd->dev ? dg_of_device(cmd->dev) : NULL;
	if (!dg || !(tpgs_of(dg) & SCST_ALUA_TPGS_EXPLICIT)) {
		/* SPC-4 5.16.2.7: without explicit ALUA there is no STPG. */
		pthread_mutex_unlock(&scst_mutex);
		scst_set_cmd_error(cmd, scsi_sense_make(SK_ILLEGAL_REQUEST,
							ASC_INVALID_COMMAND_OPERATION_CODE));
		scst_cmd_done(cmd);
		return;
	}
	for (unsigned i = 0; i < dg->ntgs; i++)
		views[i] = (struct scst_alua_group_view){ .group_id = dg->tgs[i]->group_id,
							  .state = (uint8_t)dg->tgs[i]->state };
	/* A list cut short by the initiator (less data than the CDB said)
	 * is judged on what came: bufflen. */
	n = scst_alua_stpg_parse(cmd->buf, cmd->bufflen, views, dg->ntgs, ch, &sense);
	if (n < 0) {
		pthread_mutex_unlock(&scst_mutex);
		log_warn_rl("session %s: SET TARGET PORT GROUPS for device group %s refused "
			    "(sense %02x/%04x, byte %u): nothing changed",
			    cmd->sess->initiator_name, dg->name, sense.key, sense.asc, sense.byte);
		scst_set_cmd_error(cmd, sense);
		scst_cmd_done(cmd);
		return;
	}
	if (n == 0 || !dg->on_stpg) {
		stpg_apply(dg, ch, (unsigned)n, cmd->tgt_dev);
		pthread_mutex_unlock(&scst_mutex);
		scst_cmd_done(cmd);
		return;
	}
	if (dg->stpg_busy || !(job = job_new(cmd, dg, ch, (unsigned)n))) {
		pthread_mutex_unlock(&scst_mutex);
		scst_set_cmd_status(cmd, SAM_STAT_BUSY);
		scst_cmd_done(cmd);
		return;
	}
	dg->stpg_busy = true;
	pthread_mutex_unlock(&scst_mutex);
	if (!start_job(job)) {
		log_error("on_stpg %s: no thread to run it: the STPG gets BUSY", job->argv[0]);
		pthread_mutex_lock(&scst_mutex);
		dg = find_dg(current, job->dg_name); /* a reload may have come */
		if (dg)
			dg->stpg_busy = false;
		pthread_mutex_unlock(&scst_mutex);
		job_free(job);
		scst_set_cmd_status(cmd, SAM_STAT_BUSY);
		scst_cmd_done(cmd);
	}
}

/* ---- management's view ---- */

void scst_alua_visit(const struct scst_alua_visitor *v, void *ctx)
{
	if (!current)
		return;
	for (unsigned i = 0; i < current->ndgs; i++) {
		const struct scst_alua_dg *dg = current->dgs[i];

		v->device_group(ctx, dg->name, dg);
		for (unsigned j = 0; j < dg->ndevs; j++)
			v->device(ctx, dg->devs[j]);
		for (unsigned j = 0; j < dg->ntgs; j++) {
			const struct scst_alua_tg *tg = dg->tgs[j];

			v->target_group(ctx, tg->name, tg, scst_alua_state_name(tg->state));
			for (unsigned k = 0; k < tg->nports; k++)
				v->target(ctx, tg->ports[k].tgt_name, &tg->ports[k],
					  scst_find_target(NULL, tg->ports[k].tgt_name) != NULL);
			v->target_group_end(ctx);
		}
		v->device_group_end(ctx);
	}
}

const char *scst_alua_device_group_of(const char *dev_name)
{
	for (unsigned i = 0; current && i < current->ndgs; i++)
		for (unsigned j = 0; j < current->dgs[i]->ndevs; j++)
			if (strcmp(current->dgs[i]->devs[j], dev_name) == 0)
				return current->dgs[i]->name;
	return NULL;
}

const char *scst_alua_target_group_of(const char *tgt_name)
{
	for (unsigned i = 0; current && i < current->ndgs; i++)
		for (unsigned j = 0; j < current->dgs[i]->ntgs; j++)
			for (unsigned k = 0; k < current->dgs[i]->tgs[j]->nports; k++)
				if (strcmp(current->dgs[i]->tgs[j]->ports[k].tgt_name,
					   tgt_name) == 0)
					return current->dgs[i]->tgs[j]->name;
	return NULL;
}
