/* A small initiator on libiscsi's API for the reservation tests
 * (pr_scenarios.c: persistent reservations, reserve_spc2.c: RESERVE and
 * RELEASE): I_T nexuses named by initiator, ISID and target port, CDBs
 * built here byte by byte (so that a field the standard defines is sent
 * exactly as the test means it, not as a library helper thinks), and
 * checks that print what was sent, what came back and what was expected.
 *
 * Every check prints one line, "ok: ..." or "FAIL: ...", and counts; the
 * program ends with pr_summary(), which prints the count and gives the
 * exit status (1 on any failure). */
#ifndef USCST_TESTS_PR_CLIENT_H
#define USCST_TESTS_PR_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

/* One I_T nexus: initiator name + ISID (random-format ISID 0x80 RRRRRR
 * QQQQ, as libiscsi's iscsi_set_isid_random() builds it) through one
 * target (= one target port: its rel_tgt_id). */
struct nexus {
	struct iscsi_context *c;
	char label[32];      /* "A1@t1": what the check lines call it */
	const char *initiator;
	const char *target;
	uint32_t isid_rnd;   /* 24 bits */
	uint16_t isid_qual;
	uint16_t rel_tgt_id; /* the target port it logs in through */
};

/* What came back for one command. */
struct result {
	int status;          /* SCSI status, or -1: no response (transport) */
	int sense_key;
	int asc, ascq;
	bool sks_valid;      /* sense-key specific: field pointer */
	bool cd;             /* C/D: 1 = the CDB, 0 = the parameter list */
	bool bpv;
	int bit;
	unsigned field;
	unsigned char data[16384];
	int len;             /* bytes of Data-In received */
};

extern const char *pr_portal;

void pr_check(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int pr_summary(const char *program);

/* Logs in; on failure prints why, counts a failure and returns false. */
bool nexus_login(struct nexus *n, const char *label, const char *initiator, const char *target,
		 uint16_t rel_tgt_id, uint32_t isid_rnd, uint16_t isid_qual);
void nexus_logout(struct nexus *n);
/* Closes the TCP connection without a Logout (I_T nexus loss). */
void nexus_drop(struct nexus *n);

/* One command, synchronously. dir: SCSI_XFER_NONE, _READ (in_len
 * bytes asked) or _WRITE (out, out_len). Always fills @r. */
void send_cdb(struct nexus *n, const uint8_t *cdb, int cdb_len, int dir, const void *out,
	      int out_len, int in_len, struct result *r);
/* The same to LUN @lun (send_cdb: LUN 0). */
void send_lun_cdb(struct nexus *n, int lun, const uint8_t *cdb, int cdb_len, int dir,
		  const void *out, int out_len, int in_len, struct result *r);

/* "GOOD", "RESERVATION CONFLICT", "CHECK CONDITION 5/24/00",
 * "TASK ABORTED", "no response", ... into a static buffer. */
const char *describe(const struct result *r);
/* The sense-key specific field pointer as "CDB byte 2 bit 3" (or
 * "no field pointer"). */
const char *describe_pointer(const struct result *r);
/* pr_check(describe(r) == want) with the label, what was sent (@what) and
 * both outcomes on the line. */
bool expect(const struct result *r, const char *want, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The field pointer is valid, C/D is @cd and the field @field (bit @bit,
 * or -1 for no bit pointer check). */
bool expect_pointer(const struct result *r, bool cd, unsigned field, int bit, const char *what);

/* TEST UNIT READY until GOOD (at most 16): the unit attentions it
 * collected, as "2A/03 2A/05" (in the order they came), into @out. */
void collect_uas(struct nexus *n, char *out, size_t len);
/* collect_uas() must give exactly @want ("" for none). */
bool expect_uas(struct nexus *n, const char *want, const char *what);

/* Common commands. */
void tur(struct nexus *n, struct result *r);
void read10(struct nexus *n, uint32_t lba, uint16_t blocks, struct result *r);
void write10(struct nexus *n, uint32_t lba, uint16_t blocks, uint8_t fill, struct result *r);
void inquiry(struct nexus *n, struct result *r);
void read_capacity10(struct nexus *n, struct result *r);
void mode_sense6(struct nexus *n, struct result *r);
void report_luns(struct nexus *n, struct result *r);
void request_sense(struct nexus *n, struct result *r);

/* PERSISTENT RESERVE OUT service actions (SPC-4 table 165). */
enum {
	PRO_REGISTER = 0,
	PRO_RESERVE = 1,
	PRO_RELEASE = 2,
	PRO_CLEAR = 3,
	PRO_PREEMPT = 4,
	PRO_PREEMPT_AND_ABORT = 5,
	PRO_REGISTER_AND_IGNORE = 6,
	PRO_REGISTER_AND_MOVE = 7,
};
/* PERSISTENT RESERVE IN service actions (SPC-4 table 158). */
enum {
	PRI_READ_KEYS = 0,
	PRI_READ_RESERVATION = 1,
	PRI_REPORT_CAPABILITIES = 2,
	PRI_READ_FULL_STATUS = 3,
};
/* Parameter list byte 20 (SPC-4 table 167). */
#define PR_SPEC_I_PT 0x08
#define PR_ALL_TG_PT 0x04
#define PR_APTPL 0x01

/* TYPE values (SPC-4 table 170). */
enum { WE = 1, EA = 3, WERO = 5, EARO = 6, WEAR = 7, EAAR = 8 };
const char *type_name(int type);

/* PERSISTENT RESERVE OUT with the basic parameter list (24 bytes, or 28
 * plus @tids when @flags has SPEC_I_PT). */
void prout(struct nexus *n, int sa, int type, uint64_t key, uint64_t sark, uint8_t flags,
	   const uint8_t *tids, int tids_len, struct result *r);
/* PERSISTENT RESERVE OUT with the CDB's byte 2 and parameter list length
 * and the list given as they are (bad input). */
void prout_raw(struct nexus *n, int sa, uint8_t scope_type, uint32_t pll, const uint8_t *param,
	       int param_len, struct result *r);
/* REGISTER AND MOVE (SPC-4 table 168). */
void prout_move(struct nexus *n, int type, uint64_t key, uint64_t sark, bool unreg, bool aptpl,
		uint16_t rel_tgt_id, const uint8_t *tid, int tid_len, struct result *r);
void prin(struct nexus *n, int sa, uint16_t alloc_len, struct result *r);

/* An iSCSI TransportID (SPC-4 7.6.4.6) into @buf: format 00b (name only,
 * isid NULL) or 01b (name, ",i,0x", ISID). Returns its length. */
int transport_id(uint8_t *buf, const char *name, const struct nexus *isid_of);

/* PR IN data decoded. */
struct full_status_entry {
	uint64_t key;
	bool all_tg_pt, r_holder;
	int scope, type;
	uint16_t rel_tgt_id;
	int format;          /* TransportID format code */
	int protocol;
	char name[256];      /* the iSCSI name */
	char isid[16];       /* the ISID in hex, "" for format 00b */
};
struct pr_state {
	bool ok;             /* every PR IN answered GOOD and parsed */
	uint32_t generation;
	int nkeys;
	uint64_t keys[32];
	bool reserved;
	uint64_t res_key;
	int res_scope, res_type;
	int nentries;
	struct full_status_entry e[32];
};
/* READ KEYS, READ RESERVATION and READ FULL STATUS from @n. */
void pr_state_read(struct nexus *n, struct pr_state *s);
/* The state as one line (for "identical" comparisons and for reports). */
void pr_state_format(const struct pr_state *s, char *out, size_t len);
/* The READ FULL STATUS entry of nexus @m, NULL if there is none. */
const struct full_status_entry *pr_entry_of(const struct pr_state *s, const struct nexus *m);
uint32_t pr_generation(struct nexus *n);

uint64_t be64(const unsigned char *p);
uint32_t be32(const unsigned char *p);
uint16_t be16(const unsigned char *p);

#endif
