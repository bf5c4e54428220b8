/* The core's public face: the objects of the SCSI target model and the two
 * contracts that plug into it.
 *
 *   struct scst_tgt_template  what a target driver (a transport) implements
 *   struct scst_dev_type      what a device handler (a kind of device) implements
 *
 * Names follow SCST (scst.h) so that anyone who knows SCST finds their way.
 *
 * Threads. Every command, and the session it belongs to, lives on one
 * reactor (src/base/reactor.h): the one the session was registered on. All
 * callbacks about a command run there, and the functions a driver or handler
 * calls about a command must be called there. State shared by the sessions
 * of every reactor (a device's unit attentions, its list of commands for
 * task management, its mode parameters) sits behind the device's mutex,
 * which is never held across I/O or a callback into a driver or handler.
 * The registry of handlers, devices and targets sits behind scst_mutex,
 * taken only by management and session set-up, never per command.
 */
#ifndef USCST_CORE_SCST_H
#define USCST_CORE_SCST_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/list.h"
#include "base/reactor.h"
#include "core/pr.h"
#include "core/range_queue.h"
#include "core/stats.h"
#include "scsi/scsi.h"
#include "scsi/sense.h"

struct scst_cmd;
struct scst_session;
struct scst_device;
struct scst_tgt;
struct scst_mgmt_cmd;
struct scst_tmf_waiter;
struct scst_op_index;
struct scst_acg;
struct scst_lun_table;
struct scst_attr_table;

/* ------------------------------------------------------------------ */
/* Attributes: name = value pairs from scst.conf or the RPC socket.    */

struct scst_attr {
	const char *name;
	const char *value;
	bool consumed; /* set by whoever accepted it; leftovers are errors */
};
/* What each object takes is declared as attribute descriptors
 * (core/attr_desc.h): the core's tables, each handler's dev_attrs and each
 * driver's tgtt_attrs / tgt_attrs. */

/* Parsing helpers for attribute values; return false on a bad value. */
bool scst_attr_bool(const char *value, bool *out);
bool scst_attr_u64(const char *value, uint64_t *out);

/* ------------------------------------------------------------------ */
/* Command life cycle (DESIGN.md): the states a command moves through. */

enum scst_cmd_state {
	SCST_CMD_STATE_INIT,          /* find the LUN through the session's map */
	SCST_CMD_STATE_PARSE,         /* handler: direction, length, LBA range */
	SCST_CMD_STATE_PREPARE_SPACE, /* data buffer */
	SCST_CMD_STATE_RDY_TO_XFER,   /* driver pulls write data */
	SCST_CMD_STATE_PRE_EXEC,      /* UA, read-only LUN, aborted? */
	SCST_CMD_STATE_EXEC,          /* handler (or the core) executes */
	SCST_CMD_STATE_DEV_DONE,      /* handler finished */
	SCST_CMD_STATE_PRE_XMIT,      /* status, sense, residuals */
	SCST_CMD_STATE_XMIT,          /* driver sends data and status */
	SCST_CMD_STATE_FINISHED,      /* freed, TMF waiters woken */
};

const char *scst_cmd_state_name(enum scst_cmd_state s);

/* Data direction, seen from the initiator's side as SCSI does:
 * READ = data to the initiator (Data-In), WRITE = data from it (Data-Out). */
enum scst_data_dir {
	SCST_DATA_NONE = 0,
	SCST_DATA_READ = 1,
	SCST_DATA_WRITE = 2,
};

enum scst_task_attr {
	SCST_TASK_SIMPLE,
	SCST_TASK_ORDERED,
	SCST_TASK_HEAD_OF_QUEUE,
	SCST_TASK_ACA,
};

/* ------------------------------------------------------------------ */
/* Operation tables: one per device type, written with designated
 * initialisers. The core looks a CDB up by opcode (and service action),
 * PARSE calls ->parse, EXEC calls ->exec. REPORT SUPPORTED OPERATION
 * CODES answers from the same tables. */

enum scst_op_flags {
	/* The command changes the medium: refused on read-only LUNs with
	 * DATA PROTECT / WRITE PROTECTED. */
	SCST_OP_WRITES_MEDIUM = 1u << 0,
	/* Runs even with a unit attention pending, and does not clear it
	 * (INQUIRY, REPORT LUNS; REQUEST SENSE reports the UA itself). */
	SCST_OP_SKIP_UA = 1u << 1,
	/* The opcode has a service action in byte 1, bits 4..0. */
	SCST_OP_HAS_SERVICE_ACTION = 1u << 2,
	/* With SCST_OP_WRITES_MEDIUM: no other writer of the device may
	 * touch its blocks (cmd->lba, cmd->nblocks) while it executes, from
	 * any session (COMPARE AND WRITE; core/range_lock.c). */
	SCST_OP_EXCLUSIVE_RANGE = 1u << 3,
	/* Reservations (core/pr.c, core/reserve.c). A row with neither PR
	 * flag conflicts with a persistent reservation the I_T nexus has no
	 * access under (RESERVATION CONFLICT): the safe default, SPC-4
	 * table 72's and SBC-3 table 14's "Conflict" in every column.
	 * SCST_OP_PR_ALLOWED: "Allowed" in every column (INQUIRY, REPORT
	 * LUNS, TEST UNIT READY, READ CAPACITY, PERSISTENT RESERVE IN/OUT,
	 * which check their own rules). SCST_OP_PR_READ: allowed under the
	 * Write Exclusive types, conflicts under the Exclusive Access ones
	 * for a nexus without access (READ, VERIFY, PRE-FETCH). */
	SCST_OP_PR_ALLOWED = 1u << 4,
	SCST_OP_PR_READ = 1u << 5,
	/* Runs while another I_T nexus holds an SPC-2 reservation (SPC-2
	 * 5.5.1: INQUIRY, REPORT LUNS, REQUEST SENSE, RELEASE, ...); every
	 * other command gets RESERVATION CONFLICT. */
	SCST_OP_RESERVE_ALLOWED = 1u << 6,
	/* ALUA (SPC-4 5.16.2.4; core/alua_rules.c): the command is served
	 * through a target port in the named asymmetric access state. A
	 * row without the bit gets NOT READY, LOGICAL UNIT NOT ACCESSIBLE
	 * with the state's ASCQ there. Active/optimized and
	 * active/non-optimized serve everything.
	 * STANDBY_OK: INQUIRY, REPORT LUNS, REQUEST SENSE,
	 * MODE and LOG SENSE/SELECT, diagnostics, READ CAPACITY, RTPG,
	 * STPG, PERSISTENT RESERVE IN/OUT, RESERVE/RELEASE, REPORT SUPPORTED
	 * OPERATION CODES / TASK MANAGEMENT FUNCTIONS. */
	SCST_OP_ALUA_STANDBY_OK = 1u << 7,
	/* UNAVAILABLE_OK: INQUIRY, REPORT LUNS, REQUEST SENSE,
	 * READ CAPACITY, RTPG, STPG, REPORT SUPPORTED OPERATION CODES /
	 * TASK MANAGEMENT FUNCTIONS. */
	SCST_OP_ALUA_UNAVAILABLE_OK = 1u << 8,
	/* TRANSITIONING_OK: INQUIRY, REPORT LUNS, REQUEST SENSE,
	 * READ CAPACITY, RTPG, REPORT SUPPORTED OPERATION CODES / TASK
	 * MANAGEMENT FUNCTIONS; not STPG (a group in transition cannot be
	 * set, SCST too). */
	SCST_OP_ALUA_TRANSITIONING_OK = 1u << 9,
	/* OFFLINE_OK: INQUIRY, REPORT LUNS, REQUEST SENSE, RTPG
	 * and STPG (so that an initiator can bring the port back, as SCST
	 * allows); everything else gets LOGICAL UNIT NOT READY, OFFLINE
	 * (04/12), LIO's code, since SPC-4 names none of its own. */
	SCST_OP_ALUA_OFFLINE_OK = 1u << 10,
	/* Answered for a LUN the session has no logical unit at (SPC-4
	 * 4.6.4: INQUIRY with peripheral qualifier 011b, REPORT LUNS,
	 * REQUEST SENSE with LOGICAL UNIT NOT SUPPORTED as its data). Every
	 * other row's command gets LOGICAL UNIT NOT SUPPORTED in PARSE, so
	 * that no parse or exec meets a command without a device. */
	SCST_OP_ANY_LUN = 1u << 11,
	/* Served whatever makes the logical unit not ready (struct
	 * scst_dev_type's not_ready: no medium, stopped, SANITIZE or FORMAT
	 * UNIT in progress): INQUIRY, REPORT LUNS, REQUEST SENSE (which
	 * reports the condition as its data), REPORT SUPPORTED OPERATION
	 * CODES and TASK MANAGEMENT FUNCTIONS: what SBC-4 lets through
	 * during a FORMAT UNIT or a SANITIZE. The core does not ask
	 * not_ready for these.
	 * TEST UNIT READY has no such flag: the not-ready sense is its
	 * answer. */
	SCST_OP_NOT_READY_OK = 1u << 12,
	/* Served while the medium is absent or the unit stopped, but not
	 * while a SANITIZE or FORMAT UNIT runs: the commands that need no
	 * medium (START STOP UNIT, which loads or starts it; PREVENT ALLOW
	 * MEDIUM REMOVAL; MODE SENSE/SELECT; PERSISTENT RESERVE IN/OUT;
	 * RESERVE/RELEASE). Not read by the core: a handler's not_ready
	 * tests it for the conditions it applies to. */
	SCST_OP_NO_MEDIUM_OK = 1u << 13,
	/* Reads the blocks of its range (cmd->lba, cmd->nblocks) from the
	 * medium: it passes the write range lock (core/range_lock.c) as a
	 * writer that is not exclusive does, so that it waits while an
	 * overlapping SCST_OP_EXCLUSIVE_RANGE command executes, and such a
	 * command waits for it. What keeps a READ from seeing half of a
	 * WRITE ATOMIC, COMPARE AND WRITE or ORWRITE: the kernel copies a
	 * file's pages one by one, with no lock against a write (READ). */
	SCST_OP_RANGE_READER = 1u << 14,
	/* REPORT SUPPORTED OPERATION CODES reports the command when asked
	 * for it alone (the one-command forms) and leaves it out of the
	 * all-commands list. For 32-byte CDBs (ORWRITE(32)): libiscsi's
	 * iscsi-test-cu (1.19, Debian 12) asks for every listed command in
	 * the one-command form and keeps at most 16 bytes of its usage data,
	 * so ReportSupportedOpcodes.OneCommand fails on a longer CDB that the
	 * list names. Drop the flag once the suite copes. */
	SCST_OP_RSOC_ONE_COMMAND_ONLY = 1u << 15,
};

/* How long a command takes, in seconds, for the command timeouts
 * descriptor of REPORT SUPPORTED OPERATION CODES (SPC-5 6.36.4): as the
 * device server processes it, without the time it waits in the task set
 * or for its Data-Out. */
struct scst_op_timeouts {
	/* NOMINAL COMMAND PROCESSING TIMEOUT: what the command takes
	 * usually; before that, no point asking how far it has come. */
	uint32_t nominal;
	/* RECOMMENDED COMMAND TIMEOUT: after that, the initiator may take
	 * it as lost (at least nominal). */
	uint32_t recommended;
};

struct scst_op_desc {
	uint8_t opcode;
	/* Valid with SCST_OP_HAS_SERVICE_ACTION: byte 1's five bits, or a
	 * variable-length CDB's (opcode 0x7f) 16-bit field at bytes 8..9. */
	uint16_t service_action;
	uint8_t cdb_len;
	uint32_t flags; /* enum scst_op_flags */
	const char *name;
	/* CDB usage data for REPORT SUPPORTED OPERATION CODES (SPC-4
	 * 6.35.3): which bits of each CDB byte the device server looks at.
	 * Byte 0 is the opcode. Left all zero, the core reports every bit of
	 * bytes 1..cdb_len-2 as used (and the service action field); the
	 * CONTROL byte's NACA is reported used in every row (ACA, tmf.c). */
	uint8_t cdb_usage[SCSI_MAX_CDB_LEN];
	/* The command's timeouts (REPORT SUPPORTED OPERATION CODES with
	 * RCTD=1). Left zero, the core derives them from the flags: a
	 * command that reads or writes the medium, or one that does not
	 * (core/report_opcodes.c). Rows whose command may walk much of the
	 * medium (SANITIZE, FORMAT UNIT, WRITE SAME, UNMAP, EXTENDED COPY)
	 * give their own. */
	struct scst_op_timeouts timeouts;
	/* PARSE. Sets cmd->data_dir and cmd->data_len (and, for block
	 * commands, cmd->lba / cmd->nblocks). On a bad CDB calls
	 * scst_set_cmd_error() and returns -1. Pure: no I/O, no blocking. */
	int (*parse)(struct scst_cmd *cmd);
	/* EXEC. Asynchronous: completes by calling scst_cmd_done(cmd), now or
	 * later, on the command's reactor. For a READ it fills cmd->buf and
	 * may shorten the data with scst_set_resp_data_len(). */
	void (*exec)(struct scst_cmd *cmd);
	/* Whether the logical unit, as the I_T_L nexus @td sees it, serves
	 * the command at all (SET TARGET PORT GROUPS only with explicit
	 * ALUA; later: UNMAP only on a thin LUN). Read without a lock, on
	 * the nexus's reactor. Where it says no, PARSE gives INVALID COMMAND
	 * OPERATION CODE and REPORT SUPPORTED OPERATION CODES leaves the row
	 * out, so that the two agree. OPTIONAL: NULL, always served. */
	bool (*available)(const struct scst_tgt_dev *td);
};

/* ------------------------------------------------------------------ */
/* Device handler contract (SCST: struct scst_dev_type). */

/* The cache between a device and its medium, as the Extended INQUIRY Data
 * VPD page (0x86) reports it in V_SUP / NV_SUP. */
enum scst_write_cache {
	SCST_WRITE_CACHE_NONE,
	SCST_WRITE_CACHE_VOLATILE,     /* lost on power loss: SYNCHRONIZE CACHE flushes it */
	SCST_WRITE_CACHE_NON_VOLATILE, /* survives power loss */
};

struct scst_dev_type {
	const char *name;          /* "vdisk_fileio" */
	uint8_t type;              /* enum scsi_device_type */
	/* Operation table, terminated by an entry with name == NULL. The
	 * core's emulated commands (INQUIRY, REPORT LUNS, REQUEST SENSE)
	 * are looked up first and need not appear here. */
	const struct scst_op_desc *ops;
	/* The DEVICE attributes this handler takes besides the core's
	 * (scst_device_attr_table), as descriptors (core/attr_desc.h):
	 * attach parses them, listings and the running configuration show
	 * them through the table's object_of(dev). Checked at registration;
	 * NULL: none. SCST: dev_attrs. */
	const struct scst_attr_table *dev_attrs;
	/* Version descriptor of the command set standard INQUIRY claims
	 * (SPC-4 table 49, e.g. 0x04c0 SBC-3); 0 for none. */
	uint16_t version_descriptor;
	/* Device-type VPD pages the handler answers (e.g. 0xb0 Block Limits),
	 * ascending; the core answers 0x00, 0x80 and 0x83 itself and lists
	 * these in page 0x00. vpd_page() writes the page's payload (after the
	 * 4-byte header, which the core fills) into @buf (room for 508
	 * bytes) and returns its length. Any thread; no I/O. */
	const uint8_t *vpd_pages;
	unsigned nvpd_pages;
	size_t (*vpd_page)(const struct scst_device *dev, uint8_t page, uint8_t *buf);
	/* The device's cache, for VPD 0x86 (core/inquiry.c). Any thread, no
	 * lock, no I/O. OPTIONAL: NULL reports no cache. */
	enum scst_write_cache (*write_cache)(const struct scst_device *dev);

	/* Called by management (any non-reactor thread, scst_mutex held) to
	 * create a device. Accepts its attributes (marking them consumed;
	 * scst_attrs_take() with dev_attrs),
	 * opens the backing store, sets dev->block_size, dev->nblocks and
	 * dev->handler_priv. On failure writes a reason into err and returns
	 * -1; the device is then discarded. */
	int (*attach)(struct scst_device *dev, struct scst_attr *attrs, unsigned nattrs,
		      char *err, size_t errlen);
	/* Called once the device is in the registry, after attach
	 * succeeded and its attributes were all taken (management thread,
	 * scst_mutex held): where a handler starts work of its own on the
	 * device (vdisk resumes a SANITIZE a stop cut short), holding a
	 * reference (scst_device_get()) for as long as it runs. OPTIONAL. */
	void (*attached)(struct scst_device *dev);
	/* Called when the device goes away (no commands left): flush and
	 * close the backing store, free handler_priv. Any thread. */
	void (*detach)(struct scst_device *dev);
	/* The backing store may have been grown or shrunk behind the
	 * device's back (a file truncated, a volume resized): re-read its
	 * size and store the new dev->nblocks with one atomic store (the
	 * reactors read it per command without a lock, so a command sees
	 * the old size or the new one, never a torn value; one in flight
	 * past a new, smaller end fails as a read beyond the store would).
	 * Returns 1 if nblocks changed, 0 if not, -1 with a reason in @err,
	 * nblocks untouched. Called by scst_device_resync_size() on the
	 * management thread with scst_mutex held; may block briefly (fstat,
	 * ioctl), never on I/O. Optional: without it the size never
	 * changes. */
	int (*resync_size)(struct scst_device *dev, char *err, size_t errlen);
	/* Whether the logical unit is not ready for a command whose op row
	 * has the flags @op_flags (enum scst_op_flags): the medium was
	 * ejected, the unit was stopped, a SANITIZE or FORMAT UNIT is in
	 * progress. Returns false when the command may go on; true with
	 * @sense set to what it ends with: NOT READY and MEDIUM NOT PRESENT
	 * (3A/00, 3A/01 tray closed, 3A/02 tray open), LOGICAL UNIT NOT
	 * READY, INITIALIZING COMMAND REQUIRED (04/02, stopped), SANITIZE IN
	 * PROGRESS (04/1B) or FORMAT IN PROGRESS (04/04), the last two with
	 * the progress indication (scsi_sense.has_progress, SPC-4 4.5.2.4.2),
	 * or MEDIUM ERROR, SANITIZE COMMAND FAILED (31/03) or MEDIUM FORMAT
	 * CORRUPTED (31/00) in the failure mode a failed one leaves;
	 * @sense is not touched when it returns false.
	 * Called by PRE_EXEC (core/cmd.c, check_not_ready) for every command
	 * whose row lacks SCST_OP_NOT_READY_OK, after the reservation, unit
	 * attention and ALUA checks and before the read-only one; and by
	 * REQUEST SENSE with @op_flags 0, when no unit attention is pending,
	 * to report the condition as its data (SPC-4 6.39). Runs on the
	 * command's reactor, per command: no blocking, no I/O; read the
	 * state with atomics (or take dev->lock briefly). OPTIONAL: NULL,
	 * always ready. */
	bool (*not_ready)(const struct scst_device *dev, uint32_t op_flags, struct scsi_sense *sense);
	/* What an I_T nexus set up in the handler ends (PREVENT ALLOW MEDIUM
	 * REMOVAL's prevention, SBC-4 5.14): @sess's nexus to @dev was lost,
	 * logged out or reset (I_T NEXUS RESET), or, with @sess NULL, every
	 * nexus's (LOGICAL UNIT RESET, TARGET WARM and COLD RESET). Called on
	 * the session's reactor (core/tmf.c, core/reserve.c), without
	 * dev->lock; must not block on I/O. @sess is only compared, never
	 * dereferenced: it may be on its way out. OPTIONAL. */
	void (*clear_nexus_state)(struct scst_device *dev, const struct scst_session *sess);
	/* Management ejects (!@load) or loads the device's removable medium
	 * (device.eject, device.load): as START STOP UNIT with LOEJ would,
	 * refused while an initiator prevents removal; a load gives every
	 * nexus the media-change unit attention. 0, or -1 with a reason in
	 * @err (not removable, prevented). Management thread, scst_mutex
	 * held; no I/O. OPTIONAL: NULL, the medium is fixed. */
	int (*set_medium)(struct scst_device *dev, bool load, char *err, size_t errlen);
	/* The copy manager's in-kernel copy (docs/copy.md, "copy_file_range"):
	 * write @cmd's blocks (an internal WRITE(16) whose PRE_EXEC passed on
	 * the destination; cmd->buf holds no data) with @src's blocks from
	 * @src_lba. @src is a device of this same handler, referenced by the
	 * copy for as long as @cmd runs. Called by EXEC (core/cmd.c) instead
	 * of the row's exec, on the command's reactor; must not block.
	 * Returns false at once when it cannot (nothing done, nothing
	 * completed); else true, and completes with scst_cmd_done() on the
	 * command's reactor, later or before it returns, with
	 * cmd->copy_range_refused set when it found it cannot after all
	 * (nothing written: the core reads and writes the chunk itself).
	 * OPTIONAL: NULL, the copy manager always reads and writes. */
	bool (*copy_range)(struct scst_cmd *cmd, struct scst_device *src, uint64_t src_lba);
};

/* ------------------------------------------------------------------ */
/* TransportIDs (SPC-4 7.6.4): how an initiator port is named to the
 * device server. The iSCSI form (7.6.4.6, FORMAT CODE 01b: name, ",i,0x",
 * ISID) is the longest of the formats drivers use: 24 bytes for FC and SRP,
 * up to 4 + 223 + 5 + 12 + 1, padded to a multiple of four, for iSCSI. */
#define SCST_TRANSPORT_ID_MAX 248

enum scst_protocol_id {
	SCST_PROTOCOL_FCP = 0x0,
	SCST_PROTOCOL_SRP = 0x4,
	SCST_PROTOCOL_ISCSI = 0x5,
	SCST_PROTOCOL_SAS = 0x6,
};

/* ------------------------------------------------------------------ */
/* Target driver contract (SCST: struct scst_tgt_template). A driver
 * assumes no particular transport beneath the core: iSCSI, an in-process
 * local initiator and vhost-user-scsi implement the same ops. */

struct scst_tgt_template {
	const char *name; /* "iscsi" */
	/* Version descriptor of the transport standard INQUIRY claims
	 * (SPC-4 table 49, e.g. 0x0960 iSCSI); 0 for none. */
	uint16_t version_descriptor;
	/* PROTOCOL IDENTIFIER of the transport (SPC-4 7.6.1). */
	enum scst_protocol_id protocol_id;

	/* The TransportID of the initiator port behind @tgt_priv (the value
	 * the driver passes to scst_register_session()): writes it into @buf
	 * (SCST_TRANSPORT_ID_MAX bytes) in the format of the driver's
	 * protocol (iSCSI: SPC-4 7.6.4.6 with the ISID; FC and SRP: 7.6.4.2
	 * and 7.6.4.5) and returns its length, a multiple of 4. Called once,
	 * by scst_register_session() on the session's reactor. REQUIRED. */
	unsigned (*get_transport_id)(const struct scst_session *sess, uint8_t *buf);

	/* RDY_TO_XFER: the command needs write data. cmd->buf holds
	 * cmd->bufflen bytes of room, of which cmd->data_received have
	 * already arrived (immediate or unsolicited data). The driver fetches
	 * the rest (iSCSI: R2T) and then calls scst_rx_data(). Runs on the
	 * command's reactor. */
	void (*rdy_to_xfer)(struct scst_cmd *cmd);

	/* XMIT: send cmd->resp_data_len bytes of cmd->buf (READ), then
	 * cmd->status, the sense data and the residual. When the last byte
	 * has left (or the connection is gone), call scst_tgt_cmd_done().
	 * Runs on the command's reactor. */
	void (*xmit_response)(struct scst_cmd *cmd);

	/* The command was aborted by task management while the driver holds
	 * it: in RDY_TO_XFER, stop waiting for its data and call
	 * scst_rx_data(cmd, false) once no more data will land in cmd->buf;
	 * before scst_cmd_start() (waiting to be due), end it with
	 * scst_cmd_abandon() once no more data will land in it; in XMIT, if
	 * it holds the response for a connection that is not there yet
	 * (iSCSI ErrorRecoveryLevel 2), call scst_tgt_cmd_done() without
	 * sending it (a response already on its way is left to finish): so
	 * that the task management function does not wait for the initiator.
	 * Runs on the command's reactor. REQUIRED. */
	void (*on_abort_cmd)(struct scst_cmd *cmd);

	/* The command is about to be freed: release cmd->tgt_priv. Runs on the
	 * command's reactor. Optional. */
	void (*on_free_cmd)(struct scst_cmd *cmd);

	/* A task management function has completed (every command it
	 * aborted has finished). Send mcmd->status, unless the session is
	 * being unregistered (its connection is gone: nothing is sent), and
	 * free mcmd with scst_mgmt_cmd_free(). The session stays registered
	 * until this has returned. Runs on the session's reactor. REQUIRED. */
	void (*task_mgmt_fn_done)(struct scst_mgmt_cmd *mcmd);

	/* Attribute descriptors (core/attr_desc.h), NULL-terminated lists of
	 * tables, checked at registration and read by listings and the
	 * admin interface. SCST: tgtt_attrs, tgt_attrs. tgtt_attrs: the
	 * driver's own TARGET_DRIVER section besides the core's "enabled"
	 * (object_of(NULL) is the driver's state); driver_attrs parses
	 * them. tgt_attrs: a TARGET's besides the core's
	 * (scst_target_attr_table), each table's object reached from the
	 * struct scst_tgt; target_attach parses them once tgt->tgt_priv is
	 * set (scst_attr_tables_take()). */
	const struct scst_attr_table *const *tgtt_attrs;
	const struct scst_attr_table *const *tgt_attrs;
	/* Management: the attributes of the driver's own TARGET_DRIVER
	 * section other than "enabled" (iSCSI: discovery CHAP credentials),
	 * parsed into new settings that are not yet in force: returns them
	 * (an object of the driver's), or NULL with a reason in @err. Every
	 * configuration load calls it once, with every such attribute
	 * (none when the file has no section for the driver: its defaults);
	 * it marks each one it accepts consumed, and one left unconsumed is
	 * an error naming it. driver_attrs_finish() then puts them in force
	 * (@apply, once the whole file has been checked: it cannot fail) or
	 * drops them (a refused load changes nothing). Management thread,
	 * scst_mutex held. Optional, both or neither: without them the
	 * section takes no attribute but "enabled". */
	void *(*driver_attrs_prepare)(struct scst_attr *attrs, unsigned nattrs, char *err,
				      size_t errlen);
	void (*driver_attrs_finish)(void *prepared, bool apply);
	/* Management, a configuration reload: the driver's attributes of the
	 * existing target @tgt as the file now gives them (those
	 * target_attach() takes at creation), parsed into new settings not
	 * yet in force, as for driver_attrs_prepare(); target_attrs_finish()
	 * puts them in force or drops them. Sessions already logged in keep
	 * what they negotiated; new logins see the new settings. Optional,
	 * both or neither: without them an existing target keeps what it was
	 * created with. */
	void *(*target_attrs_prepare)(struct scst_tgt *tgt, struct scst_attr *attrs,
				      unsigned nattrs, char *err, size_t errlen);
	void (*target_attrs_finish)(struct scst_tgt *tgt, void *prepared, bool apply);
	/* Management: a target was created / is being set up. Accepts its
	 * driver-specific attributes (marking them consumed). Optional. */
	int (*target_attach)(struct scst_tgt *tgt, struct scst_attr *attrs, unsigned nattrs,
			     char *err, size_t errlen);
	/* Management: the target is going away; its sessions are gone. */
	void (*target_detach)(struct scst_tgt *tgt);
	/* Management: whether @name may name a target of this driver (iSCSI:
	 * an iSCSI name, RFC 7143 4.2.7, else no initiator could name it or
	 * two spellings would be one target); writes why not into @why,
	 * as "not a valid iSCSI name (...)".
	 * OPTIONAL: without it any name is taken. */
	bool (*target_name_valid)(const char *name, char *why, size_t whylen);
	/* Management: close session @sess (its transport connection goes;
	 * the initiator may log in again), with @why in the driver's log
	 * line. Called on the session's reactor, the session still
	 * registered. OPTIONAL: without it sessions are closed only by
	 * target (close_sessions). */
	void (*close_session)(struct scst_session *sess, const char *why);
	/* Management: ask session @sess to end itself (iSCSI: an
	 * Asynchronous Message requesting a logout within the driver's
	 * logout_timeout, after which it is closed as by close_session).
	 * Same thread and state as close_session. OPTIONAL: without it
	 * scst_session_request_logout() refuses. */
	void (*request_logout)(struct scst_session *sess, const char *why);
	/* Management: ask session @sess to negotiate its parameters again
	 * (iSCSI: AsyncEvent 4 on each connection; one that does not start
	 * a Text exchange in time is dropped). Same thread and state as
	 * close_session. OPTIONAL: without it
	 * scst_session_request_renegotiation() refuses. */
	void (*request_renegotiation)(struct scst_session *sess, const char *why);
	/* A unit attention was queued on nexus @td (core/ua.c): @sense is
	 * its fixed-format sense data, @len bytes, valid during the call.
	 * For the driver to announce it unasked (iSCSI: AsyncEvent 0); the
	 * condition stays queued and is reported to the next command as
	 * ever. Not called for the POWER ON / RESET / I_T NEXUS LOSS
	 * conditions (ASC 29h), which a new nexus or a reset brings. Called
	 * on the session's reactor, some time after the queuing, holding a
	 * reference on @td. OPTIONAL. */
	void (*ua_queued)(struct scst_tgt_dev *td, const uint8_t *sense, unsigned len);
	/* Shutdown or target disable: close every session of @tgt (or of
	 * every target when NULL). Called on each reactor in turn
	 * (reactor_run_on_all); the driver closes what lives there. */
	void (*close_sessions)(struct scst_tgt *tgt);
	/* Whether the driver lets @initiator_name use @tgt, beyond the LUN
	 * maps (iSCSI: iSNS discovery domains under isns_access_control);
	 * writes why not into @why. Asked by scst_tgt_initiator_allowed(),
	 * so wherever the maps refuse an initiator this refuses it too (the
	 * login, SendTargets). Any thread, scst_mutex held; must not block.
	 * OPTIONAL: without it the maps alone decide. */
	bool (*initiator_allowed)(struct scst_tgt *tgt, const char *initiator_name, char *why,
				  size_t whylen);
};

/* ------------------------------------------------------------------ */
/* Objects. */

/* A logical unit: a device handler instance with its backing store. */
struct scst_device {
	char *name;
	struct scst_dev_type *handler;
	void *handler_priv;
	const struct scst_op_index *op_index; /* the handler's table, indexed */
	struct list_head registry_entry; /* scst_mutex */

	/* Geometry, set by attach; block devices only. nblocks changes at
	 * run time when the backing store is resized (resync_size): read it
	 * with scst_dev_nblocks(). */
	uint32_t block_size;
	_Atomic uint64_t nblocks;

	/* Identity, as INQUIRY reports it (SCST attribute names). */
	char t10_vend_id[9];     /* t10_vend_id */
	char prod_id[17];        /* prod_id */
	char prod_rev_lvl[5];    /* prod_rev_lvl */
	char t10_dev_id[64];     /* t10_dev_id: T10 vendor ID designator */
	char usn[64];            /* usn: unit serial number (VPD 0x80) */
	uint64_t naa_id;         /* NAA IEEE Registered designator (VPD 0x83) */
	bool read_only;          /* read_only: every LUN of it is read-only */
	/* The medium is removable: standard INQUIRY's RMB. Set by attach. */
	bool removable;
	/* Thin provisioned with LBPRZ (READ CAPACITY(16)): a WRITE SAME(16)
	 * with UNMAP and NDOB deallocates its blocks, which then read as
	 * zeros. The copy manager zeroes so for the block device zero ROD
	 * token (core/copy_job.c). Set by attach. */
	bool unmap_reads_zeros;
	/* The copy manager's chunks written to this device by the handler's
	 * copy_range() and by a READ and a WRITE (copy_job.c; shown by the
	 * state dump), and whether copy_range() refused once: from then on
	 * the copies to it read and write (any reactor; false to true only). */
	atomic_uint_fast64_t copy_range_chunks;
	atomic_uint_fast64_t copy_rw_chunks;
	atomic_bool copy_range_refused;
	/* In-kernel chunks from this device that found an exclusive command
	 * (COMPARE AND WRITE) queued on it at their EXEC and were read and
	 * written instead (range_lock.h's scst_range_lock_src_try()). */
	atomic_uint_fast64_t copy_range_busy_chunks;
	/* ODX through this device (copy_odx.c; the state dump shows them):
	 * ROD tokens POPULATE TOKEN made of it, and WRITE USING TOKENs that
	 * wrote it and ended GOOD, with the blocks they wrote. */
	atomic_uint_fast64_t odx_tokens_made;
	atomic_uint_fast64_t odx_wut_done;
	atomic_uint_fast64_t odx_wut_blocks;
	uint32_t dev_id;         /* small number, unique in the process */

	/* Mode parameters that change the core's behaviour; written by
	 * MODE SELECT under @lock, read without it. */
	atomic_bool d_sense;     /* control page D_SENSE: descriptor sense */
	atomic_bool wce;         /* caching page WCE (write-back) */
	/* Control page QUEUE ALGORITHM MODIFIER (SPC-4 7.5.8): 0 restricted
	 * reordering (overlapping SIMPLE commands of a nexus run in order),
	 * 1 unrestricted. The core's task set (order.c) reads it. */
	atomic_uint qam;
	/* Control page fields for task management and unit attentions
	 * (SPC-4 7.5.8), each changeable by MODE SELECT: TST (0: one task
	 * set for the logical unit, 1: one per I_T nexus), QERR (0, 1 or 3:
	 * what a CHECK CONDITION does to the other tasks), TAS (aborted by
	 * another I_T nexus: TASK ABORTED status instead of nothing), and
	 * UA_INTLCK_CTRL (0, 2 or 3: whether reporting a unit attention
	 * clears it, SAM-5 5.14). */
	atomic_uint tst;
	atomic_uint qerr;
	atomic_bool tas;
	/* Control page SWP (software write protect, SPC-4 7.5.8): every
	 * command that writes the medium gets DATA PROTECT, WRITE PROTECTED
	 * (core/cmd.c's read-only check), as on a read-only LUN. */
	atomic_bool swp;
	atomic_uint ua_intlck_ctrl;

	pthread_mutex_t lock;    /* the state below */
	struct list_head tgt_devs;  /* every I_T_L nexus to this device */
	struct list_head cmds;      /* active commands, for task management */
	unsigned active_cmds;
	/* Running EXTENDED COPY jobs that read or write this device (struct
	 * scst_copy_link, core/copy_mgr.h): a copy is not a task of every
	 * device it touches, so task management finds it here even when
	 * none of its internal commands is on the device at the moment. */
	struct list_head copy_links;

	/* Lifetime. The registry holds one reference from
	 * scst_device_create() to scst_device_destroy(), and every I_T_L
	 * nexus (struct scst_tgt_dev) one more, so a device unmapped and
	 * destroyed while commands of a session still run against it stays
	 * until the last has finished; then detach() runs, on whichever
	 * thread dropped the last reference. */
	atomic_uint refs;
	unsigned lun_refs;          /* LUN map entries pointing here; scst_mutex */

	/* ACA (SAM-5 5.9, core/tmf.c): how many of its nexuses have an ACA
	 * condition (written under @lock, read without it as a hint that
	 * lets every command skip the check), and a counter bumped each time
	 * one is established, which a command's aca_gen is compared with. */
	atomic_uint aca_nexuses;
	atomic_uint aca_gen;

	/* The write range lock (core/range_lock.c): the ranges writers hold
	 * or wait for while an exclusive one (COMPARE AND WRITE) is about,
	 * under @lock; how many exclusive ones it holds, read without the
	 * lock by every writer. */
	struct range_queue write_ranges;
	atomic_uint range_exclusive;
	/* Live ROD tokens of the device (copy_token.c, under its store's
	 * mutex), read without a lock by every writer: 0, nothing to revoke. */
	atomic_uint rod_tokens;

	/* Reservations, under @lock: the persistent ones (core/pr.c) and
	 * the SPC-2 one (core/reserve.c), whose holder is an I_T nexus
	 * (a session; NULL when the unit is not reserved), released when
	 * that session's last nexus to the device goes. Each nexus's
	 * pr_access is what a command checks, without the lock. */
	struct scst_pr pr;
	const struct scst_session *spc2_holder;

	/* Statistics (core/stats.h): what its nexuses that are gone had
	 * counted, and the live ones (scst_stats_lock). */
	struct scst_stats retired;
	struct list_head stats_nexuses;
};

/* An entry in an access control group's LUN map (SCST: scst_acg_dev). */
struct scst_lun {
	uint64_t lun;
	struct scst_device *dev; /* counted in dev->lun_refs */
	bool read_only;          /* the LUN's read_only, or the device's */
	struct list_head entry;  /* acg->luns, sorted by LUN */
};

/* An initiator name pattern of a group (SCST: scst_acn): '*' any run of
 * characters, '?' any one, a leading '!' excludes (acg.c). */
struct scst_acn {
	char *pattern;
	struct list_head entry; /* acg->initiators */
};

/* An access control group (SCST: scst_acg): a LUN map and the initiators
 * that see it. Every target has a default group (its own LUN lines, for
 * initiators no named group takes) and any number of named ones. Groups
 * are management's: created, changed and read under scst_mutex only; a
 * session copies its group's map into its own LUN table (session.c), so
 * commands never look at a group. */
struct scst_acg {
	char *name;                    /* NULL for the default group */
	struct scst_tgt *tgt;
	struct list_head luns;         /* struct scst_lun, sorted by LUN */
	struct list_head initiators;   /* struct scst_acn, in config order */
	struct list_head tgt_entry;    /* tgt->acgs (named groups only) */
};

/* A SCSI target port, belonging to a driver. */
struct scst_tgt {
	char *name;
	struct scst_tgt_template *tgtt;
	void *tgt_priv;
	bool enabled;
	uint16_t rel_tgt_id;   /* relative target port identifier (VPD 0x83) */
	struct scst_acg *default_acg; /* never NULL; scst_mutex */
	struct list_head acgs;        /* named groups, config order; scst_mutex */
	struct list_head sessions; /* scst_mutex */
	/* Sessions registered and not yet freed: those in @sessions and
	 * those detached but still finishing (session.c). The target may
	 * be destroyed only at zero. scst_mutex. */
	unsigned sessions_alive;
	struct list_head registry_entry;
	/* Statistics (core/stats.h): what its sessions and nexuses that
	 * are gone had counted, its live nexuses (scst_stats_lock), and the
	 * totals of each LUN it has had. */
	struct scst_stats retired;
	struct list_head stats_nexuses;
	struct scst_lun_stats *lun_stats; /* scst_mutex */
};

/* An I_T_L nexus: one session's view of one LUN (SCST: tgt_dev).
 *
 * Lifetime: created by management (under scst_mutex) when a session's LUN
 * table gains the LUN, and reference counted: each LUN table listing it
 * holds one reference, each command addressed through it another
 * (cmd->tgt_dev, from INIT to FINISHED). A LUN unmapped while commands
 * run leaves the session's table at once (new commands get LOGICAL UNIT
 * NOT SUPPORTED) while those commands finish against this nexus. The last
 * reference is dropped on the session's reactor; the nexus then leaves
 * its device and is freed. It never touches its session after that
 * session is gone: what it needs of it is copied (reactor). */
struct scst_tgt_dev {
	struct scst_session *sess; /* valid while it is in a table of sess */
	struct reactor *reactor;   /* the session's */
	struct scst_device *dev;   /* holds a device reference */
	uint64_t lun;
	atomic_bool read_only;     /* a reload may change it in place */
	atomic_uint refs;
	/* Unit attentions queued for this nexus; dev->lock. ua_pending is
	 * read without the lock on every command. */
	struct list_head uas;
	atomic_bool ua_pending;
	struct list_head dev_entry; /* dev->tgt_devs */
	/* The nexus's task set (order.c), in the order the commands were
	 * delivered (HEAD OF QUEUE at the front); reactor-local: touched only
	 * on the session's reactor. A command is in it from scst_cmd_start()
	 * until its execution is over (PRE_XMIT) or it ends. */
	struct list_head task_set;
	unsigned nparked; /* commands of task_set waiting in PRE_EXEC */
	unsigned nordered; /* ORDERED commands in task_set */
	unsigned nwriters; /* commands in task_set that write the medium */
	/* ACA (core/tmf.c): established on this nexus (written under
	 * dev->lock); the one ACA command allowed to run meanwhile
	 * (reactor-local); and the message that makes its reactor look at
	 * its blocked commands again once an ACA is cleared (aca_kick_sent
	 * under dev->lock). */
	atomic_bool aca;
	struct scst_cmd *aca_cmd;
	struct reactor_msg aca_kick_msg;
	bool aca_kick_sent;
	/* Writes of this nexus executing without a place in the device's
	 * range lock (core/range_lock.c); written on the session's reactor
	 * only, read by an exclusive writer under dev->lock. */
	atomic_uint untracked_writes;
	/* ALUA (core/alua.c): the asymmetric access state of the target
	 * port for this device (bits 7..0, SPC-4 codes: 0 active/optimized),
	 * the device group's TPGS bits (9..8, standard INQUIRY byte 5) and
	 * the target port group's id (31..16; 0: the device is in no device
	 * group). One word, so that PRE_EXEC reads it with one relaxed load
	 * and INQUIRY sees a state and a group that belong together.
	 * Written with scst_mutex held (a reload, STPG, a transition ending),
	 * zero (active, no group) until then. */
	atomic_uint alua;
	/* Reservations (core/pr.c), under dev->lock: the registration of
	 * this I_T nexus, if any; what its commands may do (enum
	 * scst_pr_access, read without the lock by every command); and a
	 * mark PREEMPT AND ABORT sets on the nexuses it preempts. */
	struct scst_pr_registrant *pr_reg;
	atomic_uint pr_access;
	bool pr_preempted;
	/* Statistics (core/stats.h): its commands' counters, written by the
	 * session's reactor only; its target LUN's totals; its places on the
	 * lists of live nexuses of its device, session, target and target
	 * LUN, which readers sum (scst_stats_lock). */
	struct scst_stats stats;
	struct scst_lun_stats *lun_stats;
	struct list_head stats_dev_entry, stats_sess_entry, stats_tgt_entry, stats_lun_entry;
};

/* An I_T nexus. Lives on one reactor. */
struct scst_session {
	struct scst_tgt *tgt;
	char *initiator_name;
	/* Never reused while the daemon runs: management tells a session
	 * from a later one at the same address by it. Set at registration. */
	uint64_t serial;
	struct reactor *reactor;
	void *tgt_priv;
	/* The initiator port's TransportID (SPC-4 7.6.4), from the driver at
	 * registration: what persistent reservations record and READ FULL
	 * STATUS reports. */
	uint8_t transport_id[SCST_TRANSPORT_ID_MAX];
	unsigned transport_id_len;
	/* The LUNs the session sees: replaced whole by management (under
	 * scst_mutex) whenever its group's map changes, read without a lock
	 * on the session's reactor (scst_session_tgt_dev()). A replaced
	 * table is retired through its own message on the session's
	 * reactor, which is then done with it (session.c). */
	_Atomic(struct scst_lun_table *) luns;
	struct list_head cmds;   /* active commands; reactor-local */
	unsigned active_cmds;
	/* Task management functions this session asked for that have not
	 * completed: each holds the session (tmf.c), which is freed only once
	 * both counts are zero. Reactor-local. */
	unsigned tmf_refs;
	/* Copies running in the background (EXTENDED COPY(LID4) with IMMED,
	 * core/copy_job.c): each holds the session as a command does, so it
	 * is not detached until they have stopped. Reactor-local. */
	unsigned background_copies;
	bool unregistering;
	bool detach_sent;  /* detach_msg is on its way (reactor-local) */
	bool detached;     /* left its target; scst_mutex */
	/* Its registration (until detached) and each of its I_T_L nexuses
	 * (session.c); freed when it drops to zero. */
	atomic_uint refs;
	void (*unreg_done)(struct scst_session *sess);
	struct reactor_msg detach_msg; /* the session's own detach, posted once */
	struct list_head tgt_entry; /* tgt->sessions, scst_mutex */
	/* Statistics (core/stats.h): commands without a unit and TMFs not
	 * addressed to one (written by the session's reactor only), and what
	 * its nexuses that are gone had counted, and the live ones
	 * (scst_stats_lock). */
	struct scst_stats stats;
	struct scst_stats retired;
	struct list_head stats_nexuses;
};

/* A SCSI command. */
struct scst_cmd {
	enum scst_cmd_state state;
	struct scst_session *sess;
	struct scst_tgt_dev *tgt_dev; /* NULL when the LUN is not mapped */
	struct scst_device *dev;      /* tgt_dev->dev, or NULL */
	struct reactor *reactor;
	uint64_t lun;
	uint64_t tag;
	enum scst_task_attr task_attr;
	uint8_t cdb[SCSI_MAX_CDB_LEN];
	unsigned cdb_len;
	const struct scst_op_desc *op;
	/* op->flags, which PARSE may widen for this CDB (SBC-3 table 14:
	 * START STOP UNIT with START=1 and POWER CONDITION 0 is allowed
	 * under every reservation, as is PREVENT ALLOW MEDIUM REMOVAL with
	 * PREVENT 0). PRE_EXEC reads this, never op->flags. */
	uint32_t op_flags;

	/* What the transport says the initiator expects (iSCSI: EDTL). */
	enum scst_data_dir expected_dir;
	uint32_t expected_len;

	/* What the CDB asks for (set by PARSE). */
	enum scst_data_dir data_dir;
	uint32_t data_len;   /* bytes per the CDB (transfer or allocation length) */
	uint64_t lba;        /* block commands */
	uint32_t nblocks;

	/* The data buffer (PREPARE_SPACE): @bufflen bytes, 4 KiB aligned,
	 * bufflen = min(data_len, expected_len): what the initiator will
	 * move. WRITE: the driver places the data here and the handler
	 * writes bufflen bytes from lba. READ: the handler fills at most
	 * bufflen bytes. The rest of the CDB's range is an overflow the core
	 * reports as a residual (FCP-4 9.4.2). */
	uint8_t *buf;
	uint32_t bufflen;
	size_t buf_cap;         /* buf's real size (src/base/buf_pool.h) */
	uint32_t data_received; /* WRITE: bytes the driver has placed in buf */
	uint32_t resp_data_len; /* READ: bytes the handler produced */

	/* Result. */
	uint8_t status;
	uint8_t sense[SCSI_SENSE_BUFFERSIZE];
	uint8_t sense_len;
	/* Residual (PRE_XMIT), as iSCSI and FCP report it. */
	bool resid_overflow;
	bool resid_underflow;
	uint32_t resid;

	/* When it arrived (CLOCK_MONOTONIC, ns), for its latency (stats.c). */
	uint64_t rx_ns;

	/* Task management. */
	atomic_bool aborted;
	struct scst_tmf_waiter *tmf_waiters; /* dev->lock */
	atomic_int refcount;

	/* The pipeline (cmd.c); reactor-local. */
	bool started;     /* scst_cmd_start() has been called */
	bool space_ready; /* PREPARE_SPACE has run */
	bool running;     /* inside the state dispatcher */
	bool resumed;     /* an asynchronous step completed while running */
	struct reactor_deferred resume_later; /* resumes a parked command */
	struct reactor_msg abort_msg; /* the abort notification (tmf.c), sent once */
	/* The nexus's task set (order.c); reactor-local. */
	struct list_head task_entry;
	bool in_task_set;
	bool parked;      /* waiting in PRE_EXEC for the task set to allow it */
	/* The device's write range lock (range_lock.c): whether the command
	 * holds or waits for a range, its entry (dev->lock), and the message
	 * that tells its reactor it was granted (sent once at a time). */
	enum { SCST_RANGE_NONE, SCST_RANGE_UNTRACKED, SCST_RANGE_QUEUED } range_state;
	struct range_entry range;
	atomic_bool range_wake_sent;
	struct reactor_msg range_msg;

	void *tgt_priv; /* the driver's */
	void *dev_priv; /* the handler's, for the duration of EXEC */

	/* An internal command (core/internal_cmd.h): one the core issues on
	 * a session for itself (the copy manager's READs and WRITEs), not a
	 * driver's. Non-NULL internal_done: no driver callback ever sees the
	 * command (XMIT goes straight to FINISHED), and internal_done(cmd)
	 * runs once in FINISHED, status and sense set, before it is freed.
	 * buf_borrowed: cmd->buf belongs to the issuer, which frees it. */
	void (*internal_done)(struct scst_cmd *cmd);
	void *internal_ctx;
	bool buf_borrowed;
	/* Internal commands of the copy manager (internal_cmd.h): a probe
	 * (SCST_INTERNAL_PROBE) goes through PARSE and PRE_EXEC and ends GOOD
	 * at EXEC without reading; a WRITE with copy_src is executed by the
	 * handler's copy_range() from (copy_src, copy_src_lba), which sets
	 * copy_range_refused when it wrote nothing and the issuer must read
	 * and write the chunk itself. */
	bool internal_probe;
	bool copy_range_refused;
	struct scst_device *copy_src;
	uint64_t copy_src_lba;
	/* The in-kernel copy holds the source's blocks as a reader of the
	 * range lock from its EXEC to PRE_XMIT (copy_src_held), through its
	 * nexus copy_src_nexus; copy_range_busy: it could not (an exclusive
	 * command was queued there) and wrote nothing. */
	struct scst_tgt_dev *copy_src_nexus;
	bool copy_src_held;
	bool copy_range_busy;
	/* The claim (copy_token.h) of the WRITE USING TOKEN this internal
	 * WRITE belongs to, when that one writes its own token's blocks: its
	 * write does not revoke that token (0: none, every overlapping
	 * token is revoked). */
	uint64_t rod_token_claim;

	struct list_head sess_entry; /* sess->cmds */
	struct list_head dev_entry;  /* dev->cmds */

	/* How it ends once aborted (enum scst_abort_fate, set with the
	 * first abort, under dev->lock): SAM-5 5.6's TAS choice. */
	atomic_uint abort_fate;
	/* dev->aca_gen when it entered the task set: a command that was
	 * there before an ACA was established is blocked, a later one gets
	 * ACA ACTIVE (order.c, tmf.c). */
	unsigned aca_gen;
};

/* How an aborted command ends (SAM-5 5.6). */
enum scst_abort_fate {
	SCST_ABORT_SILENT,       /* no data, no status */
	SCST_ABORT_TASK_ABORTED, /* TASK ABORTED status, no data (TAS=1) */
	/* No response; its nexus was given COMMANDS CLEARED BY ANOTHER
	 * INITIATOR when it was marked (TAS=0, the task set cleared by
	 * another nexus). */
	SCST_ABORT_CLEARED_UA,
};

/* Task management functions (SAM-5 7). */
enum scst_tmf {
	SCST_TMF_ABORT_TASK,
	SCST_TMF_ABORT_TASK_SET,
	SCST_TMF_CLEAR_TASK_SET,
	SCST_TMF_LUN_RESET,
	SCST_TMF_TARGET_RESET,
	SCST_TMF_I_T_NEXUS_RESET,
	SCST_TMF_CLEAR_ACA,
	SCST_TMF_QUERY_TASK,
	SCST_TMF_TARGET_COLD_RESET,  /* TARGET RESET, and a power on for the LUs */
	SCST_TMF_QUERY_TASK_SET,
	SCST_TMF_QUERY_ASYNC_EVENT,
};

enum scst_tmf_status {
	SCST_TMF_STATUS_COMPLETE,       /* function complete */
	SCST_TMF_STATUS_TASK_NOT_EXIST, /* ABORT TASK: no such task (it had finished) */
	SCST_TMF_STATUS_LUN_NOT_EXIST,
	SCST_TMF_STATUS_NOT_SUPPORTED,
	SCST_TMF_STATUS_REJECTED,
	SCST_TMF_STATUS_SUCCEEDED,      /* QUERY TASK: the task exists */
};

struct scst_mgmt_cmd {
	enum scst_tmf fn;
	struct scst_session *sess;
	uint64_t lun;
	uint64_t tag; /* ABORT TASK / QUERY TASK: the referenced task */
	enum scst_tmf_status status;
	void *tgt_priv;
	atomic_int pending; /* commands still to finish, plus one while scanning */
	struct reactor_msg done_msg; /* completion, sent to the session's reactor */
	/* QUERY ASYNCHRONOUS EVENT answering SUCCEEDED: the pending unit
	 * attention, as SAM-5 7.8's ADDITIONAL RESPONSE INFORMATION carries
	 * it (byte 0: UADE DEPTH in bits 5..4, SENSE KEY in bits 3..0; byte 1
	 * ASC; byte 2 ASCQ). */
	uint8_t add_resp_info[3];
	/* A function the core runs for itself (PREEMPT AND ABORT, pr.c),
	 * with no driver to tell: on completion internal_done(mcmd) runs on
	 * the session's reactor instead of task_mgmt_fn_done. */
	void (*internal_done)(struct scst_mgmt_cmd *mcmd);
	void *internal_ctx;
};

/* ------------------------------------------------------------------ */
/* Registry and management. scst_mutex protects the lists below. */

extern pthread_mutex_t scst_mutex;

int scst_register_target_template(struct scst_tgt_template *tgtt);
struct scst_tgt_template *scst_find_target_template(const char *name);
/* Every registered target driver, for iteration: NULL past the last. */
struct scst_tgt_template *scst_target_template_at(unsigned i);
int scst_register_dev_handler(struct scst_dev_type *handler);
struct scst_dev_type *scst_find_dev_handler(const char *name);
/* Every registered handler, for listings; NULL-terminated iteration. */
struct scst_dev_type *scst_dev_handler_at(unsigned i);

/* Creates device @name served by handler @handler_name. Generic
 * attributes (t10_vend_id, prod_id, prod_rev_lvl, t10_dev_id, usn,
 * read_only) are taken by the core, the rest by the handler; an attribute
 * neither takes is an error. Returns NULL with a reason in err. */
struct scst_device *scst_device_create(const char *handler_name, const char *name,
				       struct scst_attr *attrs, unsigned nattrs, char *err,
				       size_t errlen);
/* Fails (-1, reason in err) while a LUN map still points at it. */
int scst_device_destroy(struct scst_device *dev, char *err, size_t errlen);
struct scst_device *scst_find_device(const char *name);
/* Calls fn for every device, scst_mutex held. */
void scst_for_each_device(void (*fn)(struct scst_device *dev, void *ctx), void *ctx);

struct scst_tgt *scst_target_create(struct scst_tgt_template *tgtt, const char *name,
				    struct scst_attr *attrs, unsigned nattrs, char *err,
				    size_t errlen);
void scst_target_destroy(struct scst_tgt *tgt);
struct scst_tgt *scst_find_target(struct scst_tgt_template *tgtt, const char *name);
/* Calls fn for every target of @tgtt (all drivers when NULL), scst_mutex held. */
void scst_for_each_target(struct scst_tgt_template *tgtt,
			  void (*fn)(struct scst_tgt *tgt, void *ctx), void *ctx);
/* Maps @dev at @lun in the target's default group (scst_acg_add_lun()). */
int scst_target_add_lun(struct scst_tgt *tgt, uint64_t lun, struct scst_device *dev,
			bool read_only, char *err, size_t errlen);
void scst_target_set_enabled(struct scst_tgt *tgt, bool enabled);

/* Access control groups (acg.c); scst_mutex held for all of these. A
 * change reaches the sessions of the target with
 * scst_tgt_sync_sessions(), which the callers below leave to the caller
 * so that a set of changes (a reload) reaches them at once. */
/* A group for @tgt (the default one when @name is NULL) that is not yet
 * the target's: built aside, it becomes the target's by
 * scst_tgt_replace_acgs(), or is freed with scst_acg_free(). */
struct scst_acg *scst_acg_new(struct scst_tgt *tgt, const char *name);
void scst_acg_free(struct scst_acg *acg);
/* Makes @default_acg and the @n named @groups (built aside) the target's,
 * freeing those it had, and syncs its sessions. */
void scst_tgt_replace_acgs(struct scst_tgt *tgt, struct scst_acg *default_acg,
			   struct scst_acg **groups, unsigned n);
/* Removes a named group; its sessions move to whatever group they match
 * now at the next scst_tgt_sync_sessions(). */
void scst_acg_destroy(struct scst_acg *acg);
int scst_acg_add_lun(struct scst_acg *acg, uint64_t lun, struct scst_device *dev,
		     bool read_only, char *err, size_t errlen);
/* Empties the group's LUN map. */
void scst_acg_clear_luns(struct scst_acg *acg);
/* Adds an initiator name pattern; refused if the pattern is malformed or
 * already in the group. */
int scst_acg_add_initiator(struct scst_acg *acg, const char *pattern, char *err,
			   size_t errlen);
/* The target's group called @name (its default group when @name is NULL),
 * or NULL. */
struct scst_acg *scst_acg_find(struct scst_tgt *tgt, const char *name);
struct scst_lun *scst_acg_find_lun(struct scst_acg *acg, uint64_t lun);
/* Unmaps @lun; refused (-1, reason in @err) when the group has no such LUN. */
int scst_acg_del_lun(struct scst_acg *acg, uint64_t lun, char *err, size_t errlen);
/* Makes named group @acg (scst_acg_new(), no other group of that name)
 * the target's, last in order. */
void scst_tgt_add_acg(struct scst_tgt *tgt, struct scst_acg *acg);
/* Queues @sense on the I_T_L nexus of LUN @lun of every session of @tgt
 * that has one (a LUN replaced: INQUIRY DATA HAS CHANGED). */
void scst_tgt_queue_lun_ua(struct scst_tgt *tgt, uint64_t lun, struct scsi_sense sense);
/* Removes pattern @pattern (as written); refused when it is not there. */
int scst_acg_del_initiator(struct scst_acg *acg, const char *pattern, char *err,
			   size_t errlen);
bool scst_acg_has_initiator(struct scst_acg *acg, const char *pattern);
/* Whether some initiator name would belong to both groups: two patterns,
 * one of each, that a name can match both (@pa, @pb). Groups with an
 * exclusion ('!') are left to the login, which refuses an initiator two
 * groups take. */
bool scst_acg_clash(const struct scst_acg *a, const struct scst_acg *b, const char **pa,
		    const char **pb);
/* The group @initiator_name belongs to at @tgt: the one named group whose
 * patterns take it, else the default group. When two named groups take
 * it, returns NULL and names both in @err: the initiator is refused
 * rather than shown either map. */
struct scst_acg *scst_acg_for_initiator(struct scst_tgt *tgt, const char *initiator_name,
					char *err, size_t errlen);
/* Whether @initiator_name may use @tgt: it belongs to exactly one group,
 * that group maps at least one LUN (the login of an initiator with nothing
 * to see is refused), and the driver's initiator_allowed, if any, agrees.
 * Writes why not into @err. */
bool scst_tgt_initiator_allowed(struct scst_tgt *tgt, const char *initiator_name, char *err,
				size_t errlen);
/* Brings every session of @tgt in line with the groups: each is bound to
 * the group it matches now, its LUN table becomes that group's map
 * (keeping the I_T_L nexus, its unit attentions and its task set, of every
 * LUN that still maps the same device), and REPORTED LUNS DATA HAS CHANGED
 * is queued on the nexuses of every session whose map changed. Commands
 * in flight finish against the nexus they started on. */
void scst_tgt_sync_sessions(struct scst_tgt *tgt);

/* Number of sessions alive, and a wait of at most @seconds for it to
 * reach zero (shutdown); returns whether it did. */
unsigned scst_session_count(void);
bool scst_wait_sessions_gone(int seconds);
/* A wait of at most @seconds for every destroyed device to have been
 * released (its last nexus gone, detach() done); returns whether they
 * were. Shutdown calls it so that no backing store is left unflushed. */
bool scst_wait_devices_released(int seconds);

/* Writes every session and device with its active commands to the log
 * (core/dump.c, where the line format is). Called from a non-reactor
 * thread (uscstd's main thread, on SIGUSR1) without scst_mutex held; it
 * visits each reactor with reactor_run_on_all(). */
void scst_dump_state(void);

/* ------------------------------------------------------------------ */
/* Calls a target driver makes. All on the session's reactor. */

/* Opens an I_T nexus to @tgt for @initiator_name on the calling reactor,
 * bound to the group the initiator belongs to (scst_acg_for_initiator()).
 * Every LUN of the group's map gets a POWER ON, RESET OR BUS DEVICE RESET
 * unit attention. Returns NULL on allocation failure, or when the
 * initiator matches two groups (the driver checks
 * scst_tgt_initiator_allowed() first, to refuse the login). */
struct scst_session *scst_register_session(struct scst_tgt *tgt, const char *initiator_name,
					   void *tgt_priv);
/* The I_T nexus is lost (SAM-5 6.3.4: the transport failed or the
 * session was reinstated; not a logout): the initiator port's next login
 * to this target port is told I_T NEXUS LOSS OCCURRED. Call before
 * scst_unregister_session(). */
void scst_session_nexus_lost(struct scst_session *sess);

/* The initiator logged out (iSCSI: a Logout Request closing the session
 * was accepted). Call before the confirmation is sent: what the standard
 * ties to the nexus (an SPC-2 reservation) is released now, so that
 * another initiator the confirmation reaches finds it gone; the driver
 * then unregisters the session as usual. On the session's reactor. */
void scst_session_logout(struct scst_session *sess);

/* Closes the nexus. Commands still active are aborted; when the last has
 * finished, unreg_done(sess) runs on the session's reactor and the session
 * is freed right after it returns. */
void scst_unregister_session(struct scst_session *sess,
			     void (*unreg_done)(struct scst_session *sess));

/* Allocates a command for @cdb (cdb_len bytes, at most SCSI_MAX_CDB_LEN)
 * addressed to @lun. Returns NULL on allocation failure. */
struct scst_cmd *scst_rx_cmd(struct scst_session *sess, uint64_t lun, const uint8_t *cdb,
			     unsigned cdb_len, uint64_t tag, enum scst_task_attr attr,
			     enum scst_data_dir expected_dir, uint32_t expected_len);

/* First step, as soon as the command's header is in: INIT and PARSE,
 * synchronously; never calls back into the driver. Afterwards
 * cmd->bufflen says how many bytes the data buffer will have (0 if the
 * command already failed: status set), but no buffer is allocated yet:
 * a command that must wait (iSCSI: for its CmdSN) holds no memory. */
void scst_cmd_prepare(struct scst_cmd *cmd);

/* PREPARE_SPACE, synchronously, when the driver wants the buffer before
 * the command starts (to receive immediate data straight into it).
 * Afterwards cmd->buf has room for cmd->bufflen bytes, or the command has
 * failed (TASK SET FULL: no memory; bufflen 0). Idempotent; optional:
 * scst_cmd_start() does it when it was not done. For a WRITE the driver
 * may then place data that has already arrived in cmd->buf (setting
 * cmd->data_received), discarding anything beyond bufflen. */
void scst_cmd_alloc_space(struct scst_cmd *cmd);

/* The command is due (iSCSI: its CmdSN has come) and the driver has
 * placed cmd->data_received bytes. The core takes it into the nexus's
 * task set and goes on to RDY_TO_XFER (if more data is wanted) or
 * PRE_EXEC. May call xmit_response() before returning. Called once. */
void scst_cmd_start(struct scst_cmd *cmd);

/* The driver will never start @cmd (prepared, not started: its
 * connection is gone, or it was aborted while waiting to be due). The
 * core ends it without a response, as an aborted command; any task
 * management function waiting for it completes. */
void scst_cmd_abandon(struct scst_cmd *cmd);

/* RDY_TO_XFER is over: all write data is in cmd->buf (success), or the
 * transfer failed or was cut short (!success; the command then ends
 * without executing, with the error the driver set, or else ABORTED
 * COMMAND / DATA PHASE ERROR). */
void scst_rx_data(struct scst_cmd *cmd, bool success);

/* Whether @cmd was aborted and must end without any response: XMIT sends
 * nothing for it. An aborted command the core still passes to XMIT with
 * TASK ABORTED status (another nexus aborted it under TAS=1) is sent. */
bool scst_cmd_aborted_silently(const struct scst_cmd *cmd);

/* XMIT is over: the response has been sent or can never be. Frees cmd. */
void scst_tgt_cmd_done(struct scst_cmd *cmd);

/* Starts a task management function. Completion comes through
 * tgtt->task_mgmt_fn_done(mcmd); the driver frees mcmd after that with
 * scst_mgmt_cmd_free(). Returns NULL on allocation failure. */
struct scst_mgmt_cmd *scst_rx_mgmt_fn(struct scst_session *sess, enum scst_tmf fn,
				      uint64_t lun, uint64_t tag, void *tgt_priv);
void scst_mgmt_cmd_free(struct scst_mgmt_cmd *mcmd);

/* ------------------------------------------------------------------ */
/* Calls a device handler makes (and the core's own emulation). */

/* EXEC is over; status and sense are already set (GOOD by default). */
void scst_cmd_done(struct scst_cmd *cmd);

/* CHECK CONDITION with @sense, in the format the device's D_SENSE picks. */
void scst_set_cmd_error(struct scst_cmd *cmd, struct scsi_sense sense);
/* Shorthand for scst_set_cmd_error(cmd, scsi_sense_make(key, asc)). */
void scst_set_cmd_error_asc(struct scst_cmd *cmd, uint8_t key, uint16_t asc);
/* A status without sense (e.g. RESERVATION CONFLICT, BUSY). */
void scst_set_cmd_status(struct scst_cmd *cmd, uint8_t status);
/* A READ produced fewer bytes than data_len (e.g. INQUIRY shorter than the
 * allocation length). */
void scst_set_resp_data_len(struct scst_cmd *cmd, uint32_t len);

/* Copies a response built in a scratch buffer to cmd->buf, as much as
 * fits, and records how much that was (resp_data_len). */
void scst_cmd_copy_response(struct scst_cmd *cmd, const void *data, size_t len);

/* Queues a unit attention on every nexus to @dev (except @except, if not
 * NULL). Any thread. */
void scst_dev_queue_ua(struct scst_device *dev, struct scst_tgt_dev *except,
		       struct scsi_sense sense);

/* The blocks of @dev no longer hold what they held (a removable medium
 * was ejected, @why says what): every ROD token of it is revoked, and a
 * WRITE USING TOKEN naming one gets TOKEN REVOKED (core/copy_token.c).
 * Writes, capacity changes, SANITIZE and FORMAT UNIT revoke them
 * already. Any thread, no lock of the device held. */
void scst_dev_revoke_rod_tokens(struct scst_device *dev, const char *why);

/* Device references (registry.c): the registry holds one, every I_T_L
 * nexus one. A handler that works on a device beyond any command (a
 * SANITIZE that goes on after its command completed) takes one for as
 * long; the last put detaches and frees the device, on the calling
 * thread. dev->refs back at 1 under such a reference means the device
 * has been destroyed and has no nexus left: nobody will see it again. */
void scst_device_get(struct scst_device *dev);
void scst_device_put(struct scst_device *dev);

/* The device's size in blocks as a command sees it now: one relaxed
 * load (a resize is atomic, and nothing else is published with it). */
static inline uint64_t scst_dev_nblocks(const struct scst_device *dev)
{
	return atomic_load_explicit(&dev->nblocks, memory_order_relaxed);
}

/* Asks the handler to re-read the backing store's size (resync_size);
 * when it changed, every nexus to @dev gets CAPACITY DATA HAS CHANGED
 * (SBC-3 4.6). Returns 1 if it changed, 0 if not (or the handler cannot
 * tell), -1 on error (logged; the size stays). Management thread,
 * scst_mutex held (a reload calls it for every device it keeps). */
int scst_device_resync_size(struct scst_device *dev);

/* Management: sets identity string @field (t10_vend_id, ..., inside
 * @dev, @size bytes) to @value under dev->lock, and queues INQUIRY DATA
 * HAS CHANGED on every nexus if it changed. scst_mutex held. */
void scst_device_set_identity(struct scst_device *dev, char *field, size_t size,
			      const char *value);
/* The value identity attribute @attr (prod_id, t10_dev_id, usn) has on
 * @dev when it is not given (derived from the name and handler): whether
 * it is one of those, and the value in @buf. */
bool scst_device_derived_default(const struct scst_device *dev, const char *attr, char *buf,
				 size_t len);

/* A session's name as management shows it: its initiator port's name
 * (iSCSI: "INITIATOR,i,0xISID", from its TransportID), unique on its
 * target. */
void scst_session_name(const struct scst_session *sess, char *buf, size_t len);
/* Asks the driver to close @sess (tgtt->close_session, on the session's
 * reactor); returns at once. scst_mutex held. Returns -1 with a reason
 * when the driver cannot close single sessions. */
int scst_session_close(struct scst_session *sess, const char *why, char *err, size_t errlen);
/* The same through tgtt->request_logout: the initiator is asked to end
 * the session itself (and is closed if it does not in time). */
int scst_session_request_logout(struct scst_session *sess, const char *why, char *err,
				size_t errlen);
/* The same through tgtt->request_renegotiation: the initiator is asked
 * to negotiate its parameters again; the session goes on. */
int scst_session_request_renegotiation(struct scst_session *sess, const char *why, char *err,
				       size_t errlen);

/* Core initialisation (registers the core's own tables). */
void scst_core_init(void);

#endif
