/* device.*: opening, closing, changing and resizing devices on the running
 * daemon (scstadmin -open_dev, -close_dev, -set_dev_attr, -resync_dev). */
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "core/alua.h"
#include "core/attr_desc.h"
#include "mgmt/mgmt.h"

struct scst_device *mgmt_find_device(struct rpc_call *call, const char *param)
{
	const char *name = rpc_str(call, param);
	struct scst_device *dev = scst_find_device(name);

	if (!dev)
		rpc_fail_param(call, param, RPC_NOT_FOUND, "no device '%s'", name);
	return dev;
}

int mgmt_device_open(struct rpc_call *call)
{
	const char *name = rpc_str(call, "device"), *handler = rpc_str(call, "handler");
	struct rpc_attrs attrs;
	struct scst_device *dev;
	char err[512];

	if (!scst_find_dev_handler(handler))
		return rpc_fail_param(call, "handler", RPC_NOT_FOUND, "no handler '%s'", handler);
	if (scst_find_device(name))
		return rpc_fail_param(call, "device", RPC_REFUSED, "device '%s' already exists",
				      name);
	if (rpc_param_attrs(call, "attributes", &attrs) < 0)
		return -1;
	dev = scst_device_create(handler, name, attrs.v, attrs.n, err, sizeof(err));
	rpc_attrs_free(&attrs);
	if (!dev)
		return rpc_fail(call, RPC_REFUSED, "device '%s': %s", name, err);
	log_info("mgmt: device.open %s handler %s", name, handler);
	return 0;
}

/* Where @dev is mapped, for the refusal of its removal. */
struct mapped_ctx {
	const struct scst_device *dev;
	char where[256];
};

static bool acg_maps(struct scst_acg *acg, struct mapped_ctx *c)
{
	struct scst_lun *lun;

	list_for_each_entry(lun, &acg->luns, entry) {
		if (lun->dev == c->dev) {
			snprintf(c->where, sizeof(c->where), "LUN %llu of target %s%s%s",
				 (unsigned long long)lun->lun, acg->tgt->name,
				 acg->name ? " group " : "", acg->name ? acg->name : "");
			return true;
		}
	}
	return false;
}

static void find_mapping(struct scst_tgt *tgt, void *arg)
{
	struct mapped_ctx *c = arg;
	struct scst_acg *acg;

	if (c->where[0] || acg_maps(tgt->default_acg, c))
		return;
	list_for_each_entry(acg, &tgt->acgs, tgt_entry)
		if (acg_maps(acg, c))
			return;
}

int mgmt_device_close(struct rpc_call *call)
{
	struct scst_device *dev = mgmt_find_device(call, "device");
	struct mapped_ctx mapped = { .where = "" };
	const char *dg;
	char err[256];

	if (!dev)
		return -1;
	if (dev->lun_refs) {
		mapped.dev = dev;
		scst_for_each_target(NULL, find_mapping, &mapped);
		return rpc_fail_param(call, "device", RPC_REFUSED,
				      "device '%s' is still mapped (%s): remove its LUNs first",
				      dev->name, mapped.where);
	}
	dg = scst_alua_device_group_of(dev->name);
	if (dg)
		return rpc_fail_param(call, "device", RPC_REFUSED,
				      "device '%s' is in device group '%s'", dev->name, dg);
	log_info("mgmt: device.close %s", dev->name);
	if (scst_device_destroy(dev, err, sizeof(err)))
		return rpc_fail(call, RPC_REFUSED, "%s", err);
	return 0;
}

/* The table of @dev that describes attribute @name. */
static const struct scst_attr_table *device_table_of(struct scst_device *dev, const char *name)
{
	if (scst_attr_find(&scst_device_attr_table, name))
		return &scst_device_attr_table;
	if (dev->handler->dev_attrs && scst_attr_find(dev->handler->dev_attrs, name))
		return dev->handler->dev_attrs;
	return NULL;
}

int mgmt_device_set_attr(struct rpc_call *call)
{
	struct scst_device *dev = mgmt_find_device(call, "device");
	struct rpc_attrs attrs;
	char err[512];

	if (!dev || rpc_param_attrs(call, "attributes", &attrs) < 0)
		return -1;
	/* Every one checked before any changes, so that a refusal changes
	 * nothing. */
	for (unsigned i = 0; i < attrs.n; i++) {
		const struct scst_attr_table *t = device_table_of(dev, attrs.v[i].name);
		const struct scst_attr_desc *d = t ? scst_attr_find(t, attrs.v[i].name) : NULL;
		union scst_attr_value v;

		if (!d) {
			rpc_fail_param(call, "attributes", RPC_REFUSED,
				       "device '%s' (handler %s) has no attribute '%s'", dev->name,
				       dev->handler->name, attrs.v[i].name);
			goto out;
		}
		if (!d->set) {
			rpc_fail_param(call, "attributes", RPC_REFUSED,
				       "%s is fixed once the device exists (close and open it "
				       "again to change it)", d->name);
			goto out;
		}
		if (d->type != SCST_ATTR_CUSTOM &&
		    scst_attr_parse_value(t, d, attrs.v[i].value, &v, err, sizeof(err)) < 0) {
			rpc_fail_param(call, "attributes", RPC_REFUSED, "device '%s': %s",
				       dev->name, err);
			goto out;
		}
	}
	for (unsigned i = 0; i < attrs.n; i++) {
		const struct scst_attr_table *t = device_table_of(dev, attrs.v[i].name);

		if (scst_attr_set_live(t, dev, attrs.v[i].name, attrs.v[i].value, err,
				       sizeof(err)) < 0) {
			rpc_fail(call, RPC_FAILED, "device '%s': %s", dev->name, err);
			goto out;
		}
		log_info("mgmt: device.set_attr %s %s=%s", dev->name, attrs.v[i].name,
			 attrs.v[i].value);
	}
out:
	rpc_attrs_free(&attrs);
	return call->code ? -1 : 0;
}

/* device.eject and device.load: the removable medium, as an operator's
 * button would move it (refused while an initiator prevents removal). */
static int device_set_medium(struct rpc_call *call, bool load)
{
	struct scst_device *dev = mgmt_find_device(call, "device");
	char err[256];

	if (!dev)
		return -1;
	if (!dev->handler->set_medium)
		return rpc_fail_param(call, "device", RPC_REFUSED,
				      "handler %s has no removable medium", dev->handler->name);
	if (dev->handler->set_medium(dev, load, err, sizeof(err)))
		return rpc_fail(call, RPC_REFUSED, "device '%s': %s", dev->name, err);
	log_info("mgmt: device.%s %s", load ? "load" : "eject", dev->name);
	return 0;
}

int mgmt_device_eject(struct rpc_call *call)
{
	return device_set_medium(call, false);
}

int mgmt_device_load(struct rpc_call *call)
{
	return device_set_medium(call, true);
}

int mgmt_device_resync_size(struct rpc_call *call)
{
	struct scst_device *dev = mgmt_find_device(call, "device");
	int rc;

	if (!dev)
		return -1;
	if (!dev->handler->resync_size)
		return rpc_fail_param(call, "device", RPC_REFUSED,
				      "handler %s cannot tell a device's new size",
				      dev->handler->name);
	rc = scst_device_resync_size(dev);
	if (rc < 0)
		return rpc_fail(call, RPC_FAILED, "device '%s': the new size could not be read "
				"(see uscstd's log)", dev->name);
	log_info("mgmt: device.resync_size %s: %llu blocks%s", dev->name,
		 (unsigned long long)scst_dev_nblocks(dev), rc ? " (changed)" : "");
	call->result = json_object_new_object();
	json_object_object_add(call->result, "changed", json_object_new_boolean(rc == 1));
	json_object_object_add(call->result, "nblocks",
			       json_object_new_uint64(scst_dev_nblocks(dev)));
	return 0;
}
