/* The registry of target drivers, device handlers, devices and targets,
 * and their creation from management (config file, RPC). */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "core/core_internal.h"

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

int scst_register_target_template(struct scst_tgt_template *tgtt)
{
	/* The REQUIRED callbacks of scst.h: without them a command or a task
	 * management function could never end. */
	if (!tgtt->rdy_to_xfer || !tgtt->xmit_response || !tgtt->on_abort_cmd ||
	    !tgtt->task_mgmt_fn_done || !tgtt->get_transport_id || !tgtt->close_sessions) {
		log_error("target driver %s lacks a required callback", tgtt->name);
		return -EINVAL;
	}
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

/* Copies an identity attribute, refusing values that do not fit. */
static bool take_string_attr(char *dst, size_t size, const char *value, const char *name,
			     char *err, size_t errlen)
{
	if (strlen(value) >= size) {
		snprintf(err, errlen, "%s '%s' is longer than %zu characters", name, value,
			 size - 1);
		return false;
	}
	strcpy(dst, value);
	return true;
}

/* The attributes every device has, whatever its handler (SCST names). */
static int take_generic_attrs(struct scst_device *dev, struct scst_attr *attrs, unsigned n,
			      char *err, size_t errlen)
{
	static const struct {
		const char *name;
		size_t offset;
		size_t size;
	} strings[] = {
		{ "t10_vend_id", offsetof(struct scst_device, t10_vend_id), 9 },
		{ "prod_id", offsetof(struct scst_device, prod_id), 17 },
		{ "prod_rev_lvl", offsetof(struct scst_device, prod_rev_lvl), 5 },
		{ "t10_dev_id", offsetof(struct scst_device, t10_dev_id), 64 },
		{ "usn", offsetof(struct scst_device, usn), 64 },
	};

	for (unsigned i = 0; i < n; i++) {
		struct scst_attr *a = &attrs[i];

		for (unsigned s = 0; s < sizeof(strings) / sizeof(strings[0]); s++) {
			if (strcmp(a->name, strings[s].name))
				continue;
			if (!take_string_attr((char *)dev + strings[s].offset, strings[s].size,
					      a->value, a->name, err, errlen))
				return -1;
			a->consumed = true;
		}
		if (!strcmp(a->name, "read_only")) {
			if (!scst_attr_bool(a->value, &dev->read_only)) {
				snprintf(err, errlen, "read_only: '%s' is not 0 or 1", a->value);
				return -1;
			}
			a->consumed = true;
		}
	}
	return 0;
}

/* Identity defaults, as SCST derives them: the device name makes the
 * T10 device ID and the serial number stable across restarts. */
static void set_identity_defaults(struct scst_device *dev)
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a of the name */

	for (const char *p = dev->name; *p; p++)
		h = (h ^ (uint8_t)*p) * 0x100000001b3ull;
	if (!dev->t10_vend_id[0])
		strcpy(dev->t10_vend_id, "USCST");
	if (!dev->prod_id[0])
		snprintf(dev->prod_id, sizeof(dev->prod_id), "%.16s", dev->handler->name);
	if (!dev->prod_rev_lvl[0])
		strcpy(dev->prod_rev_lvl, "0100");
	if (!dev->t10_dev_id[0])
		snprintf(dev->t10_dev_id, sizeof(dev->t10_dev_id), "%s", dev->name);
	if (!dev->usn[0])
		snprintf(dev->usn, sizeof(dev->usn), "%08x", (uint32_t)(h ^ (h >> 32)));
	/* NAA 5 (IEEE Registered) with a made-up
	 * company id; the rest from the name's hash. */
	dev->naa_id = (0x5ull << 60) | (0x0013f5ull << 36) | (h & 0xfffffffffull);
}

static void device_free(struct scst_device *dev)
{
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
	assert(list_empty(&dev->tgt_devs) && list_empty(&dev->cmds));
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
	atomic_init(&dev->wce, true);
	atomic_init(&dev->d_sense, false);
	if (take_generic_attrs(dev, attrs, nattrs, err, errlen) ||
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

static bool take_target_attrs(struct scst_tgt *tgt, struct scst_attr *attrs, unsigned n,
			      char *err, size_t errlen)
{
	for (unsigned i = 0; i < n; i++) {
		uint64_t v;

		if (strcmp(attrs[i].name, "rel_tgt_id"))
			continue;
		if (!scst_attr_u64(attrs[i].value, &v) || v == 0 || v > 0xffff) {
			snprintf(err, errlen, "rel_tgt_id '%s' is not in 1..65535", attrs[i].value);
			return false;
		}
		tgt->rel_tgt_id = (uint16_t)v;
		attrs[i].consumed = true;
	}
	return true;
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
	tgt->tpg_id = 1;
	list_init(&tgt->acgs);
	list_init(&tgt->sessions);
	tgt->default_acg = scst_acg_new(tgt, NULL);
	if (!tgt->default_acg) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (!take_target_attrs(tgt, attrs, nattrs, err, errlen) ||
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
	if (tgt->tgtt->target_detach)
		tgt->tgtt->target_detach(tgt);
	list_for_each_entry_safe(acg, tmp, &tgt->acgs, tgt_entry)
		scst_acg_destroy(acg);
	scst_acg_free(tgt->default_acg);
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
