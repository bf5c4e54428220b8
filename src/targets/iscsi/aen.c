/* AsyncEvent 0 for unit attentions: see aen.h. */
#include "targets/iscsi/aen.h"

#include <assert.h>
#include <pthread.h>
#include <string.h>

#include "base/log.h"
#include "core/attr_desc.h"
#include "core/scst.h"
#include "targets/iscsi/async.h"
#include "targets/iscsi/conn.h"
#include "targets/iscsi/session.h"
#include "targets/iscsi/target.h"

static const struct scst_attr_desc aen_descs[] = {
	{ .name = "aen", .type = SCST_ATTR_BOOL,
	  SCST_ATTR_FIELD(struct iscsi_aen_settings, aen), .def = "0",
	  .help = "1: each unit attention queued for a session is also sent to it at once as "
		  "an Asynchronous Message (AsyncEvent 0, sense data); it stays queued all the "
		  "same. 0 (default): unit attentions are only reported to commands" },
};

const struct scst_attr_table iscsi_aen_attr_table = {
	.name = "iscsi",
	.owner = SCST_ATTR_OWNER_TARGET,
	.descs = aen_descs,
	.ndescs = SCST_ATTR_TABLE_LEN(aen_descs),
	.object_size = sizeof(struct iscsi_aen_settings),
	.object_of = iscsi_target_aen_of,
	.reparsed_live = true,
};

void *iscsi_target_aen_of(void *owner)
{
	struct iscsi_tgt *it = ((struct scst_tgt *)owner)->tgt_priv;

	return it ? &it->aen : NULL;
}

static bool aen_on(struct scst_tgt *tgt)
{
	bool on;

	/* tgt_priv is replaced under scst_mutex (driver.c). */
	pthread_mutex_lock(&scst_mutex);
	on = tgt->tgt_priv && ((struct iscsi_tgt *)tgt->tgt_priv)->aen.aen;
	pthread_mutex_unlock(&scst_mutex);
	return on;
}

/* One connection to send it on: the first in full feature phase (one
 * moving to this reactor takes nothing to send until it has arrived). */
static struct iscsi_conn *conn_for(struct iscsi_session *sess)
{
	struct iscsi_conn *conn;

	list_for_each_entry(conn, &sess->conns, sess_entry)
		if (!conn->closed && !conn->migrating && conn->phase == CONN_FULL_FEATURE)
			return conn;
	return NULL;
}

void iscsi_ua_queued(struct scst_tgt_dev *td, const uint8_t *sense, unsigned len)
{
	struct scst_session *scst = td->sess;
	struct iscsi_session *sess;
	struct iscsi_conn *conn;
	uint8_t data[2 + SCSI_SENSE_BUFFERSIZE];
	uint8_t lun8[8];

	assert(reactor_self() == td->reactor);
	assert(len <= SCSI_SENSE_BUFFERSIZE);
	/* @td keeps the nexus in memory, not our session: that goes once
	 * unregistering has begun. */
	if (scst->unregistering || !scst->tgt_priv)
		return;
	sess = scst->tgt_priv;
	if (sess->closing || !aen_on(scst->tgt))
		return;
	conn = conn_for(sess);
	if (!conn)
		return;
	/* RFC 7143 11.9.4: SenseLength, then the sense data. */
	put_be16(data, (uint16_t)len);
	memcpy(data + 2, sense, len);
	pdu_lun_encode(lun8, td->lun);
	if (!iscsi_async_queue_scsi(conn, ISCSI_ASYNC_SCSI_EVENT, lun8, data, 2 + len, 0, 0, 0,
				    NULL)) {
		log_warn_rl("iSCSI: %s (%s): out of memory for an AsyncEvent 0; the unit "
			    "attention stays queued", conn->peer, iscsi_conn_initiator(conn));
		return;
	}
	log_info_rl("iSCSI: %s (%s): LUN %llu: unit attention %02x/%02x/%02x sent as "
		    "AsyncEvent 0",
		    conn->peer, iscsi_conn_initiator(conn), (unsigned long long)td->lun,
		    len > 2 ? sense[2] & 0x0f : 0, len > 12 ? sense[12] : 0,
		    len > 13 ? sense[13] : 0);
	iscsi_conn_flush_soon(conn);
}
