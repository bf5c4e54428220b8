/* The registry of target drivers, device handlers, devices and targets,
 * and their creation from management (config file, RPC). */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "core/attr_desc.h"
#include "core/alua.h"
#include "core/core_internal.h"
#include "core/copy_token.h"
#include "core/pr_internal.h"
#include "core/range_lock.h"

pthread_mutex_t scst_mutex = PTHREAD_MUTEX_INITIALIZER;

#define MAX_TEMPLATES 8
#define MAX_HANDLERS 16

static struct scst_tgt_template *templates[MAX_TEMPLATES];
static struct {
	struct scst_dev_type *handler;
	struct scst_op_index *index;
} handlers[MAX_HANDLERS];
static struct list_head devices = LIST_HEAD_INIT(devices);
static struct list_head targets = LIST_HEAD_INIT(targets);
static uint32_t next_dev_id = 1;

/* A list of tables of one owner kind: each table sound, no name in two of
 * them or in the core's table @core. */
static int check_attr_tables(const char *whose, const struct scst_attr_table *const *tables,
			     enum scst_attr_owner owner, const struct scst_attr_table *core)
{
	char err[256];

	for (const struct scst_attr_table *const *t = tables; t && *t; t++) {
		if ((*t)->owner != owner) {
			log_error("%s: %s attribute table is for %s, not %s", whose, (*t)->name,
				  scst_attr_owner_name((*t)->owner), scst_attr_owner_name(owner));
			return -EINVAL;
		}
		if (scst_attr_table_check(*t, err, sizeof(err)) ||
		    scst_attr_tables_disjoint(*t, core, err, sizeof(err))) {
			log_error("%s: %s", whose, err);
			return -EINVAL;
		}
		for (const struct scst_attr_table *const *o = tables; o < t; o++) {
			if (scst_attr_tables_disjoint(*t, *o, err, sizeof(err))) {
				log_error("%s: %s", whose, err);
				return -EINVAL;
			}
		}
	}
	return 0;
}

/* The core's own tables, checked once (by the first registration). */
static int check_core_attr_tables(void)
{
	static const struct scst_attr_table *const core[] = {
		&scst_device_attr_table, &scst_target_attr_table, &scst_lun_attr_table,
		&scst_group_attr_table, &scst_driver_attr_table,
	};
	static bool checked;
	char err[256];

	if (checked)
		return 0;
	for (unsigned i = 0; i < sizeof(core) / sizeof(core[0]); i++) {
		if (scst_attr_table_check(core[i], err, sizeof(err))) {
			log_error("core: %s", err);
			return -EINVAL;
		}
	}
	checked = true;
	return 0;
}

int scst_register_target_template(struct scst_tgt_template *tgtt)
{
	/* The REQUIRED callbacks of scst.h: without them a command or a task
	 * management function could never end. */
	if (!tgtt->rdy_to_xfer || !tgtt->xmit_response || !tgtt->on_abort_cmd ||
	    !tgtt->task_mgmt_fn_done || !tgtt->get_transport_id || !tgtt->close_sessions) {
		log_error("target driver %s lacks a required callback", tgtt->name);
		return -EINVAL;
	}
	/* A driver with section attributes of its own must be there to
	 * take them. */
	if (tgtt->tgtt_attrs && tgtt->tgtt_attrs[0] && !tgtt->driver_attrs_prepare) {
		log_error("target driver %s declares driver attributes but no driver_attrs_prepare",
			  tgtt->name);
		return -EINVAL;
	}
	if (!tgtt->driver_attrs_prepare != !tgtt->driver_attrs_finish ||
	    !tgtt->target_attrs_prepare != !tgtt->target_attrs_finish) {
		log_error("target driver %s has a _prepare callback without its _finish or back",
			  tgtt->name);
		return -EINVAL;
	}
	if (tgtt->tgt_attrs && tgtt->tgt_attrs[0] && !tgtt->target_attach) {
		log_error("target driver %s declares target attributes but no target_attach",
			  tgtt->name);
		return -EINVAL;
	}
	if (check_core_attr_tables() ||
	    check_attr_tables(tgtt->name, tgtt->tgtt_attrs, SCST_ATTR_OWNER_DRIVER,
			      &scst_driver_attr_table) ||
	    check_attr_tables(tgtt->name, tgtt->tgt_attrs, SCST_ATTR_OWNER_TARGET,
			      &scst_target_attr_table))
		return -EINVAL;
	for (unsigned i = 0; i < MAX_TEMPLATES; i++) {
		if (!templates[i]) {
			templates[i] = tgtt;
			return 0;
		}
	}
	return -ENOSPC;
}

struct scst_tgt_template *scst_find_target_template(const char *name)
{
	for (unsigned i = 0; i < MAX_TEMPLATES && templates[i]; i++) {
		if (!strcmp(templates[i]->name, name))
			return templates[i];
	}
	return NULL;
}

int scst_register_dev_handler(struct scst_dev_type *handler)
{
	const struct scst_attr_table *tables[] = { handler->dev_attrs, NULL };

	if (check_core_attr_tables() ||
	    check_attr_tables(handler->name, tables, SCST_ATTR_OWNER_DEVICE,
			      &scst_device_attr_table))
		return -EINVAL;
	for (unsigned i = 0; i < MAX_HANDLERS; i++) {
		if (!handlers[i].handler) {
			handlers[i].index = scst_op_index_build(handler->ops);
			if (!handlers[i].index)
				return -ENOMEM;
			handlers[i].handler = handler;
			return 0;
		}
	}
	return -ENOSPC;
}

struct scst_tgt_template *scst_target_template_at(unsigned i)
{
	return i < MAX_TEMPLATES ? templates[i] : NULL;
}

struct scst_dev_type *scst_dev_handler_at(unsigned i)
{
	return i < MAX_HANDLERS ? handlers[i].handler : NULL;
}

struct scst_dev_type *scst_find_dev_handler(const char *name)
{
	for (unsigned i = 0; i < MAX_HANDLERS && handlers[i].handler; i++) {
		if (!strcmp(handlers[i].handler->name, name))
			return handlers[i].handler;
	}
	return NULL;
}

static const struct scst_op_index *handler_index(const struct scst_dev_type *handler)
{
	for (unsigned i = 0; i < MAX_HANDLERS && handlers[i].handler; i++) {
		if (handlers[i].handler == handler)
			return handlers[i].index;
	}
	return NULL;
}

const struct scst_op_index *scst_dev_op_index(const struct scst_device *dev)
{
	return dev->op_index;
}

/* ---- devices ---- */

struct scst_device *scst_find_device(const char *name)
{
	struct scst_device *dev;

	list_for_each_entry(dev, &devices, registry_entry) {
		if (!strcmp(dev->name, name))
			return dev;
	}
	return NULL;
}

void scst_for_each_device(void (*fn)(struct scst_device *dev, void *ctx), void *ctx)
{
	struct scst_device *dev;

	list_for_each_entry(dev, &devices, registry_entry)
		fn(dev, ctx);
}

/* Identity defaults, as SCST derives them: the device name makes the
 * T10 device ID and the serial number stable across restarts. */
static void set_identity_defaults(struct scst_device *dev)
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a of the name */

	/* t10_vend_id and prod_rev_lvl have fixed defaults, applied from
	 * their descriptors before the attributes were taken; the rest
	 * are derived. */
	for (const char *p = dev->name; *p; p++)
		h = (h ^ (uint8_t)*p) * 0x100000001b3ull;
	if (!dev->prod_id[0])
		snprintf(dev->prod_id, sizeof(dev->prod_id), "%.16s", dev->handler->name);
	if (!dev->t10_dev_id[0])
		snprintf(dev->t10_dev_id, sizeof(dev->t10_dev_id), "%s", dev->name);
	if (!dev->usn[0])
		snprintf(dev->usn, sizeof(dev->usn), "%08x", (uint32_t)(h ^ (h >> 32)));
	/* NAA 5 (IEEE Registered) with a made-up
	 * company id; the rest from the name's hash. */
	dev->naa_id = (0x5ull << 60) | (0x0013f5ull << 36) | (h & 0xfffffffffull);
}

void scst_device_set_identity(struct scst_device *dev, char *field, size_t size,
			      const char *value)
{
	assert(field >= (char *)dev && field + size <= (char *)(dev + 1));
	assert(strlen(value) < size);
	pthread_mutex_lock(&dev->lock);
	if (strcmp(field, value) == 0) {
		pthread_mutex_unlock(&dev->lock);
		return;
	}
	memset(field, 0, size);
	memcpy(field, value, strlen(value));
	pthread_mutex_unlock(&dev->lock);
	scst_dev_queue_ua(dev, NULL, scsi_sense_make(SK_UNIT_ATTENTION,
						     ASC_INQUIRY_DATA_HAS_CHANGED));
	log_info("device %s: INQUIRY data changed", dev->name);
}

bool scst_device_derived_default(const struct scst_device *dev, const char *attr, char *buf,
				 size_t len)
{
	struct scst_device probe;

	/* The derivation itself, on a copy with the strings cleared, so that
	 * there is one rule (set_identity_defaults()). */
	if (strcmp(attr, "prod_id") && strcmp(attr, "t10_dev_id") && strcmp(attr, "usn"))
		return false;
	memset(&probe, 0, sizeof(probe));
	probe.name = dev->name;
	probe.handler = dev->handler;
	set_identity_defaults(&probe);
	snprintf(buf, len, "%s", strcmp(attr, "prod_id") == 0	   ? probe.prod_id
				 : strcmp(attr, "t10_dev_id") == 0 ? probe.t10_dev_id
								   : probe.usn);
	return true;
}

static void device_free(struct scst_device *dev)
{
	scst_pr_clear_state(&dev->pr);
	pthread_mutex_destroy(&dev->lock);
	free(dev->name);
	free(dev);
}

/* Devices destroyed whose last nexus has not gone yet. */
static pthread_mutex_t release_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t release_cond = PTHREAD_COND_INITIALIZER;
static unsigned ndevices_releasing;

void scst_device_get(struct scst_device *dev)
{
	atomic_fetch_add(&dev->refs, 1);
}

void scst_device_put(struct scst_device *dev)
{
	if (atomic_fetch_sub(&dev->refs, 1) != 1)
		return;
	/* Out of the registry, unmapped, no nexus left: nothing can reach
	 * it any more. */
	assert(list_empty(&dev->tgt_devs) && list_empty(&dev->cmds) && list_empty(&dev->copy_links));
	log_info("device %s: released", dev->name);
	dev->handler->detach(dev);
	device_free(dev);
	pthread_mutex_lock(&release_lock);
	if (--ndevices_releasing == 0)
		pthread_cond_broadcast(&release_cond);
	pthread_mutex_unlock(&release_lock);
}

bool scst_wait_devices_released(int seconds)
{
	struct timespec deadline;
	bool done;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += seconds;
	pthread_mutex_lock(&release_lock);
	while (ndevices_releasing) {
		if (pthread_cond_timedwait(&release_cond, &release_lock, &deadline))
			break;
	}
	done = ndevices_releasing == 0;
	pthread_mutex_unlock(&release_lock);
	return done;
}

struct scst_device *scst_device_create(const char *handler_name, const char *name,
				       struct scst_attr *attrs, unsigned nattrs, char *err,
				       size_t errlen)
{
	struct scst_dev_type *handler = scst_find_dev_handler(handler_name);
	struct scst_device *dev;

	if (!handler) {
		snprintf(err, errlen, "unknown handler '%s'", handler_name);
		return NULL;
	}
	if (scst_find_device(name)) {
		snprintf(err, errlen, "device '%s' already exists", name);
		return NULL;
	}
	dev = calloc(1, sizeof(*dev));
	if (!dev || !(dev->name = strdup(name))) {
		free(dev);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	dev->handler = handler;
	dev->op_index = handler_index(handler);
	dev->dev_id = next_dev_id++;
	pthread_mutex_init(&dev->lock, NULL);
	atomic_init(&dev->refs, 1); /* the registry's */
	list_init(&dev->tgt_devs);
	list_init(&dev->cmds);
	list_init(&dev->copy_links);
	scst_range_lock_init(dev);
	scst_pr_init(dev);
	atomic_init(&dev->wce, true);
	atomic_init(&dev->d_sense, false);
	/* The core's attributes first, so that the handler's attach sees
	 * read_only. */
	if (scst_pr_load(dev, err, errlen) ||
	    scst_attr_defaults(&scst_device_attr_table, dev, err, errlen) ||
	    scst_attrs_take(&scst_device_attr_table, dev, attrs, nattrs, err, errlen) ||
	    handler->attach(dev, attrs, nattrs, err, errlen)) {
		device_free(dev);
		return NULL;
	}
	for (unsigned i = 0; i < nattrs; i++) {
		if (!attrs[i].consumed) {
			snprintf(err, errlen, "unknown attribute '%s' for handler %s",
				 attrs[i].name, handler->name);
			handler->detach(dev);
			device_free(dev);
			return NULL;
		}
	}
	set_identity_defaults(dev);
	list_add_tail(&dev->registry_entry, &devices);
	log_info("device %s: handler %s, %llu blocks of %u bytes%s", dev->name, handler->name,
		 (unsigned long long)dev->nblocks, dev->block_size,
		 dev->read_only ? ", read-only" : "");
	if (handler->attached)
		handler->attached(dev);
	return dev;
}

int scst_device_destroy(struct scst_device *dev, char *err, size_t errlen)
{
	if (dev->lun_refs) {
		snprintf(err, errlen, "device '%s' is still mapped by %u LUN(s)", dev->name,
			 dev->lun_refs);
		return -1;
	}
	list_del(&dev->registry_entry);
	/* Its ROD tokens hold it: they go with it. */
	copy_token_forget_device(dev);
	pthread_mutex_lock(&release_lock);
	ndevices_releasing++;
	pthread_mutex_unlock(&release_lock);
	scst_device_put(dev);
	return 0;
}

/* ---- targets ---- */

struct scst_tgt *scst_find_target(struct scst_tgt_template *tgtt, const char *name)
{
	struct scst_tgt *tgt;

	list_for_each_entry(tgt, &targets, registry_entry) {
		if ((!tgtt || tgt->tgtt == tgtt) && !strcmp(tgt->name, name))
			return tgt;
	}
	return NULL;
}

void scst_for_each_target(struct scst_tgt_template *tgtt,
			  void (*fn)(struct scst_tgt *tgt, void *ctx), void *ctx)
{
	struct scst_tgt *tgt;

	list_for_each_entry(tgt, &targets, registry_entry) {
		if (!tgtt || tgt->tgtt == tgtt)
			fn(tgt, ctx);
	}
}

/* Which relative target port identifiers are taken, one bit each, for
 * REGISTER AND MOVE's check from a reactor without scst_mutex. Written
 * by management under scst_mutex. */
static _Atomic uint64_t rel_tgt_ids_used[65536 / 64];

static void rel_tgt_id_mark(uint16_t id, bool used)
{
	uint64_t bit = 1ull << (id % 64);

	if (used)
		atomic_fetch_or(&rel_tgt_ids_used[id / 64], bit);
	else
		atomic_fetch_and(&rel_tgt_ids_used[id / 64], ~bit);
}

bool scst_rel_tgt_id_exists(uint16_t id)
{
	return id != 0 && (atomic_load(&rel_tgt_ids_used[id / 64]) & (1ull << (id % 64)));
}

static uint16_t next_rel_tgt_id(void)
{
	struct scst_tgt *tgt;
	uint16_t id = 1;

	/* Relative target port identifiers are unique per SCSI device; we
	 * make them unique per process, the lowest free one. */
again:
	list_for_each_entry(tgt, &targets, registry_entry) {
		if (tgt->rel_tgt_id == id) {
			id++;
			goto again;
		}
	}
	return id;
}

struct scst_tgt *scst_target_create(struct scst_tgt_template *tgtt, const char *name,
				    struct scst_attr *attrs, unsigned nattrs, char *err,
				    size_t errlen)
{
	struct scst_tgt *tgt;

	if (scst_find_target(tgtt, name)) {
		snprintf(err, errlen, "target '%s' already exists", name);
		return NULL;
	}
	tgt = calloc(1, sizeof(*tgt));
	if (!tgt || !(tgt->name = strdup(name))) {
		free(tgt);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	tgt->tgtt = tgtt;
	list_init(&tgt->acgs);
	list_init(&tgt->sessions);
	tgt->default_acg = scst_acg_new(tgt, NULL);
	if (!tgt->default_acg) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (scst_attr_defaults(&scst_target_attr_table, tgt, err, errlen) ||
	    scst_attrs_take(&scst_target_attr_table, tgt, attrs, nattrs, err, errlen) ||
	    (tgtt->target_attach && tgtt->target_attach(tgt, attrs, nattrs, err, errlen)))
		goto fail;
	for (unsigned i = 0; i < nattrs; i++) {
		if (!attrs[i].consumed) {
			snprintf(err, errlen, "unknown attribute '%s' for target driver %s",
				 attrs[i].name, tgtt->name);
			if (tgtt->target_detach)
				tgtt->target_detach(tgt);
			goto fail;
		}
	}
	if (!tgt->rel_tgt_id)
		tgt->rel_tgt_id = next_rel_tgt_id();
	rel_tgt_id_mark(tgt->rel_tgt_id, true);
	list_add_tail(&tgt->registry_entry, &targets);
	return tgt;
fail:
	if (tgt->default_acg)
		scst_acg_free(tgt->default_acg);
	free(tgt->name);
	free(tgt);
	return NULL;
}

void scst_target_destroy(struct scst_tgt *tgt)
{
	struct scst_acg *acg, *tmp;

	assert(list_empty(&tgt->sessions) && tgt->sessions_alive == 0);
	list_del(&tgt->registry_entry);
	rel_tgt_id_mark(tgt->rel_tgt_id, false);
	if (tgt->tgtt->target_detach)
		tgt->tgtt->target_detach(tgt);
	list_for_each_entry_safe(acg, tmp, &tgt->acgs, tgt_entry)
		scst_acg_destroy(acg);
	scst_acg_free(tgt->default_acg);
	scst_stats_target_destroyed(tgt); /* its per-LUN totals */
	free(tgt->name);
	free(tgt);
}

int scst_target_add_lun(struct scst_tgt *tgt, uint64_t lun_id, struct scst_device *dev,
			bool read_only, char *err, size_t errlen)
{
	if (scst_acg_add_lun(tgt->default_acg, lun_id, dev, read_only, err, errlen))
		return -1;
	scst_tgt_sync_sessions(tgt);
	return 0;
}

void scst_target_set_enabled(struct scst_tgt *tgt, bool enabled)
{
	tgt->enabled = enabled;
}

/* ---- attribute listings ---- */

/* One section's heading, then each table of @tables (NULL-terminated). */
static void describe_section(enum scst_attr_owner owner, const char *scope,
			     const struct scst_attr_table *const *tables, FILE *out)
{
	bool any = false;

	scst_attr_heading(owner, scope, out);
	for (const struct scst_attr_table *const *t = tables; t && *t; t++) {
		scst_attr_table_describe(*t, out);
		any |= (*t)->ndescs > 0;
	}
	if (!any)
		fprintf(out, "  (none)\n");
	fprintf(out, "\n");
}

void scst_attr_list_all(FILE *out)
{
	const struct scst_attr_table *core[][2] = {
		{ &scst_driver_attr_table, NULL }, { &scst_target_attr_table, NULL },
		{ &scst_group_attr_table, NULL },  { &scst_lun_attr_table, NULL },
		{ &scst_device_attr_table, NULL }, { &scst_alua_dg_attr_table, NULL },
		{ &scst_alua_tg_attr_table, NULL }, { &scst_alua_tg_target_attr_table, NULL },
	};
	static const char *const scopes[] = {
		"every TARGET_DRIVER", "every TARGET", "every GROUP", "every LUN", "every DEVICE",
		"every DEVICE_GROUP", "every TARGET_GROUP", "every TARGET_GROUP",
	};
	char scope[96];

	for (unsigned i = 0; i < sizeof(core) / sizeof(core[0]); i++)
		describe_section(core[i][0]->owner, scopes[i], core[i], out);
	for (unsigned i = 0; i < MAX_TEMPLATES && templates[i]; i++) {
		snprintf(scope, sizeof(scope), "TARGET_DRIVER %s", templates[i]->name);
		describe_section(SCST_ATTR_OWNER_DRIVER, scope, templates[i]->tgtt_attrs, out);
		snprintf(scope, sizeof(scope), "the TARGETs of driver %s", templates[i]->name);
		describe_section(SCST_ATTR_OWNER_TARGET, scope, templates[i]->tgt_attrs, out);
	}
	for (unsigned i = 0; i < MAX_HANDLERS && handlers[i].handler; i++) {
		const struct scst_attr_table *tables[] = { handlers[i].handler->dev_attrs, NULL };

		snprintf(scope, sizeof(scope), "the DEVICEs of HANDLER %s", handlers[i].handler->name);
		describe_section(SCST_ATTR_OWNER_DEVICE, scope, tables, out);
	}
}
