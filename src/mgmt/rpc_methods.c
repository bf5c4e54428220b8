/* Every RPC method: its name, parameters and help (docs/rpc.md's table is
 * checked against rpc.methods, which answers from this table). */
#include "mgmt/mgmt.h"
#include "mgmt/rpc.h"

#define P_STRING(n, h) { .name = n, .type = RPC_PARAM_STRING, .required = true, .help = h }
#define P_STRING_OPT(n, h) { .name = n, .type = RPC_PARAM_STRING, .help = h }
#define P_UINT(n, h) { .name = n, .type = RPC_PARAM_UINT, .required = true, .help = h }
#define P_BOOL_OPT(n, h) { .name = n, .type = RPC_PARAM_BOOL, .help = h }
#define P_ATTRS(n, h) { .name = n, .type = RPC_PARAM_ATTRS, .required = true, .help = h }
#define P_ATTRS_OPT(n, h) { .name = n, .type = RPC_PARAM_ATTRS, .help = h }
#define P_END { .name = NULL }

/* A method of the table: name, help, parameters, run(), then options
 * (.unlocked = true). */
#define METHOD(n, h, p, r, ...) { .name = n, .help = h, .params = p, .run = r, __VA_ARGS__ }

#define DRIVER P_STRING("driver", "target driver, e.g. iscsi")
#define TARGET P_STRING("target", "target name")
#define GROUP_OPT P_STRING_OPT("group", "initiator group; the target's own LUNs without it")
#define GROUP P_STRING("group", "initiator group")
#define DEVICE P_STRING("device", "device name")
#define LUN P_UINT("lun", "LUN number, 0..16383")

static int rpc_methods_list(struct rpc_call *call);

static const struct rpc_param no_params[] = { P_END };
static const struct rpc_param tree_params[] = {
	P_STRING_OPT("path", "node to return, e.g. targets/iscsi; the root without it"),
	P_BOOL_OPT("stats", "with the stats nodes (default true); false leaves them out"), P_END
};
static const struct rpc_param device_open_params[] = {
	DEVICE, P_STRING("handler", "device handler, e.g. vdisk_fileio"),
	P_ATTRS_OPT("attributes", "the device's attributes, as in scst.conf"), P_END
};
static const struct rpc_param device_params[] = { DEVICE, P_END };
static const struct rpc_param device_attr_params[] = {
	DEVICE, P_ATTRS("attributes", "attributes to change"), P_END
};
static const struct rpc_param driver_attr_params[] = {
	DRIVER, P_ATTRS("attributes", "attributes to change"), P_END
};
static const struct rpc_param target_add_params[] = {
	DRIVER, TARGET, P_ATTRS_OPT("attributes", "the target's attributes, as in scst.conf"),
	P_END
};
static const struct rpc_param target_params[] = { DRIVER, TARGET, P_END };
static const struct rpc_param target_attr_params[] = {
	DRIVER, TARGET, P_ATTRS("attributes", "attributes to change"), P_END
};
static const struct rpc_param lun_add_params[] = {
	DRIVER, TARGET, GROUP_OPT, LUN, DEVICE,
	P_ATTRS_OPT("attributes", "the LUN's attributes (read_only)"), P_END
};
static const struct rpc_param lun_params[] = { DRIVER, TARGET, GROUP_OPT, LUN, P_END };
static const struct rpc_param luns_params[] = { DRIVER, TARGET, GROUP_OPT, P_END };
static const struct rpc_param group_params[] = { DRIVER, TARGET, GROUP, P_END };
static const struct rpc_param group_attr_params[] = {
	DRIVER, TARGET, GROUP, P_ATTRS("attributes", "attributes to change"), P_END
};
static const struct rpc_param initiator_params[] = {
	DRIVER, TARGET, GROUP, P_STRING("initiator", "initiator name pattern"), P_END
};
static const struct rpc_param initiator_move_params[] = {
	DRIVER, TARGET, GROUP, P_STRING("to", "the group it moves to"),
	P_STRING("initiator", "initiator name pattern"), P_END
};
static const struct rpc_param session_params[] = {
	DRIVER, TARGET, P_STRING("session", "session name, as tree.get shows it"), P_END
};
static const struct rpc_param config_write_params[] = {
	P_BOOL_OPT("nonkey", "every attribute, not only those that differ from the default"),
	P_END
};
static const struct rpc_param config_apply_params[] = {
	P_STRING("text", "the configuration, in scst.conf syntax"),
	P_STRING_OPT("filename", "the file's name, for error messages"),
	P_BOOL_OPT("check", "only check it and list the steps; change nothing"), P_END
};

const struct rpc_method rpc_methods[] = {
	METHOD("rpc.methods", "Every method, its parameters and what it does.", no_params,
	  rpc_methods_list),
	METHOD("tree.get", "The live object tree, or the node at path.", tree_params, mgmt_tree_get),
	METHOD("device.open", "Creates a device.", device_open_params, mgmt_device_open),
	METHOD("device.close", "Destroys a device that no LUN maps.", device_params,
	  mgmt_device_close),
	METHOD("device.set_attr", "Changes a device's attributes that change live.",
	  device_attr_params, mgmt_device_set_attr),
	METHOD("device.resync_size",
	  "Re-reads the backing store's size; CAPACITY DATA HAS CHANGED if it changed.",
	  device_params, mgmt_device_resync_size),
	METHOD("device.eject", "Ejects a removable medium (refused while an initiator prevents it).",
	  device_params, mgmt_device_eject),
	METHOD("device.load",
	  "Loads a removable medium; NOT READY TO READY CHANGE to every initiator.",
	  device_params, mgmt_device_load),
	METHOD("driver.set_attr", "Changes a target driver's attributes.", driver_attr_params,
	  mgmt_driver_set_attr),
	METHOD("target.add", "Creates a target.", target_add_params, mgmt_target_add),
	METHOD("target.remove", "Closes a target's sessions and destroys it.", target_params,
	  mgmt_target_remove, .unlocked = true),
	METHOD("target.enable", "Lets initiators log in to a target.", target_params,
	  mgmt_target_enable),
	METHOD("target.disable", "Refuses new logins to a target and closes its sessions.",
	  target_params, mgmt_target_disable, .unlocked = true),
	METHOD("target.set_attr", "Changes a target's attributes (new logins see them).",
	  target_attr_params, mgmt_target_set_attr, .unlocked = true),
	METHOD("lun.add", "Maps a device at a LUN of a target or group.", lun_add_params,
	  mgmt_lun_add),
	METHOD("lun.remove", "Unmaps a LUN.", lun_params, mgmt_lun_remove),
	METHOD("lun.replace", "Maps another device at a LUN in use.", lun_add_params,
	  mgmt_lun_replace),
	METHOD("lun.clear", "Unmaps every LUN of a target or group.", luns_params, mgmt_lun_clear),
	METHOD("group.add", "Creates an initiator group.", group_params, mgmt_group_add),
	METHOD("group.remove", "Removes an initiator group.", group_params, mgmt_group_remove),
	METHOD("group.set_attr", "Changes an initiator group's attributes.", group_attr_params,
	  mgmt_group_set_attr),
	METHOD("initiator.add", "Adds an initiator name pattern to a group.", initiator_params,
	  mgmt_initiator_add),
	METHOD("initiator.remove", "Removes an initiator name pattern from a group.",
	  initiator_params, mgmt_initiator_remove),
	METHOD("initiator.move", "Moves an initiator name pattern to another group.",
	  initiator_move_params, mgmt_initiator_move),
	METHOD("initiator.clear", "Removes every initiator name pattern of a group.", group_params,
	  mgmt_initiator_clear),
	METHOD("session.close", "Closes a session (the initiator may log in again).", session_params,
	  mgmt_session_close, .unlocked = true),
	METHOD("session.logout",
	  "Asks a session's initiator to log out (closed if it does not in time).",
	  session_params, mgmt_session_logout, .unlocked = true),
	METHOD("session.renegotiate",
	  "Asks a session's initiator to negotiate its parameters again (dropped if it does "
	  "not in time).",
	  session_params, mgmt_session_renegotiate),
	METHOD("config.write", "The running state as scst.conf text.", config_write_params,
	  mgmt_config_write),
	METHOD("config.apply",
	  "Makes the running state what an scst.conf text says, listing each step.",
	  config_apply_params, mgmt_config_apply, .unlocked = true),
	METHOD("config.clear", "Removes every target, group, LUN and device.", no_params,
	  mgmt_config_clear, .unlocked = true),
	{ .name = NULL },
};

static const char *param_type_name(enum rpc_param_type t)
{
	switch (t) {
	case RPC_PARAM_STRING:
		return "string";
	case RPC_PARAM_UINT:
		return "uint";
	case RPC_PARAM_BOOL:
		return "bool";
	case RPC_PARAM_ATTRS:
		return "attributes";
	}
	return "?";
}

static int rpc_methods_list(struct rpc_call *call)
{
	json_object *list = json_object_new_array();

	for (const struct rpc_method *m = rpc_methods; m->name; m++) {
		json_object *o = json_object_new_object(), *params = json_object_new_array();

		for (const struct rpc_param *p = m->params; p->name; p++) {
			json_object *j = json_object_new_object();

			json_object_object_add(j, "name", json_object_new_string(p->name));
			json_object_object_add(j, "type",
					       json_object_new_string(param_type_name(p->type)));
			json_object_object_add(j, "required", json_object_new_boolean(p->required));
			json_object_object_add(j, "help", json_object_new_string(p->help));
			json_object_array_add(params, j);
		}
		json_object_object_add(o, "name", json_object_new_string(m->name));
		json_object_object_add(o, "help", json_object_new_string(m->help));
		json_object_object_add(o, "params", params);
		json_object_array_add(list, o);
	}
	call->result = json_object_new_object();
	json_object_object_add(call->result, "methods", list);
	return 0;
}
