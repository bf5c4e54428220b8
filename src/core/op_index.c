/* Opcode lookup for operation tables. A table is written as a list of
 * descriptors (designated initialisers, in any order); the index maps each
 * of the 256 opcodes to its descriptor, or, for opcodes with service
 * actions, to the first of them, the rest found by a short scan. */
#include <stdlib.h>

#include "core/core_internal.h"
#include "scsi/cdb.h"

struct scst_op_index {
	const struct scst_op_desc *ops;
	const struct scst_op_desc *by_opcode[256];
};

struct scst_op_index *scst_op_index_build(const struct scst_op_desc *ops)
{
	struct scst_op_index *idx = calloc(1, sizeof(*idx));

	if (!idx)
		return NULL;
	idx->ops = ops;
	for (const struct scst_op_desc *d = ops; d->name; d++) {
		if (!idx->by_opcode[d->opcode])
			idx->by_opcode[d->opcode] = d;
	}
	return idx;
}

const struct scst_op_desc *scst_op_index_lookup(const struct scst_op_index *idx,
					       const uint8_t *cdb)
{
	const struct scst_op_desc *d = idx->by_opcode[cdb[0]];
	uint16_t sa;

	if (!d || !(d->flags & SCST_OP_HAS_SERVICE_ACTION))
		return d;
	/* The command's buffer is SCSI_MAX_CDB_LEN bytes, zero past its
	 * CDB (scst_rx_cmd). */
	sa = scsi_cdb_service_action(cdb, SCSI_MAX_CDB_LEN);
	for (; d->name; d++) {
		if (d->opcode == cdb[0] && (d->flags & SCST_OP_HAS_SERVICE_ACTION) &&
		    d->service_action == sa)
			return d;
	}
	return NULL;
}

bool scst_op_index_has_service_actions(const struct scst_op_index *idx, uint8_t opcode)
{
	const struct scst_op_desc *d = idx->by_opcode[opcode];

	return d && (d->flags & SCST_OP_HAS_SERVICE_ACTION);
}
