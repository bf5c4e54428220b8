/* The "iscsi" target template: the core's view of this driver. */
#include <stdio.h>
#include <stdlib.h>

#include "targets/iscsi/conn.h"
#include "targets/iscsi/iscsi.h"
#include "targets/iscsi/login.h"

static int iscsi_target_attach(struct scst_tgt *tgt, struct scst_attr *attrs, unsigned nattrs,
			       char *err, size_t errlen)
{
	struct iscsi_tgt *it = calloc(1, sizeof(*it));
	if (!it) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	iscsi_target_params_default(&it->tp);
	if (iscsi_target_params_parse(&it->tp, attrs, nattrs, err, errlen) < 0) {
		free(it);
		return -1;
	}
	tgt->tgt_priv = it;
	iscsi_login_note_rsp_timeout(it->tp.rsp_timeout);
	return 0;
}

static void iscsi_target_detach(struct scst_tgt *tgt)
{
	free(tgt->tgt_priv);
	tgt->tgt_priv = NULL;
}

static void iscsi_close_sessions(struct scst_tgt *tgt)
{
	iscsi_conns_close_on_this_reactor(tgt, tgt ? "target disabled" : "shutting down");
}

uint16_t iscsi_tpgt(const struct scst_tgt *tgt)
{
	/* Tag 0 is legal but confuses some initiators; 1 is the usual one. */
	return tgt && tgt->tpg_id ? tgt->tpg_id : 1;
}

/* SPC-4 table 49: iSCSI (no version claimed). */
#define ISCSI_VERSION_DESCRIPTOR 0x0960

struct scst_tgt_template iscsi_template = {
	.name = "iscsi",
	.version_descriptor = ISCSI_VERSION_DESCRIPTOR,
	.rdy_to_xfer = iscsi_rdy_to_xfer,
	.xmit_response = iscsi_xmit_response,
	.on_abort_cmd = iscsi_on_abort_cmd,
	.on_free_cmd = iscsi_on_free_cmd,
	.task_mgmt_fn_done = iscsi_task_mgmt_fn_done,
	.target_attach = iscsi_target_attach,
	.target_detach = iscsi_target_detach,
	.close_sessions = iscsi_close_sessions,
};

int iscsi_driver_register(void)
{
	return scst_register_target_template(&iscsi_template);
}
