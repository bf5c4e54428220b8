/* CDB decoding for block commands (SBC-3/SBC-4) and the handful of SPC
 * commands a disk handler executes. Pure functions: they read a CDB and
 * fill a plain struct; they never decide whether a value is acceptable for
 * a given device (that is the handler's job), except where the CDB itself
 * is malformed (a reserved encoding), which they report with the byte and
 * bit of the bad field so the caller can build a field pointer. */
#ifndef USCST_SCSI_CDB_H
#define USCST_SCSI_CDB_H

#include <stdbool.h>
#include <stdint.h>

/* READ, WRITE, VERIFY and WRITE AND VERIFY (6/10/12/16). */
struct scsi_rw_cdb {
	uint64_t lba;
	uint32_t nblocks;   /* READ(6)/WRITE(6): 0 in the CDB means 256 */
	bool dpo;           /* disable page out: a caching hint */
	bool fua;           /* force unit access: write through for this command */
	uint8_t protect;    /* RDPROTECT / WRPROTECT / VRPROTECT (3 bits) */
	uint8_t bytchk;     /* VERIFY, WRITE AND VERIFY: 0..3 (SBC-4 2-bit field) */
	uint8_t group;      /* group number */
	/* Field locations, for pointers in sense data. */
	uint8_t lba_byte;
	uint8_t len_byte;
	uint8_t flags_byte; /* byte 1 for 10/12/16; 0 (none) for 6-byte CDBs */
};

/* Decodes a READ/WRITE/VERIFY/WRITE AND VERIFY CDB of any size. Returns
 * false when @cdb[0] is none of them or @cdb_len is shorter than the
 * opcode's CDB. */
bool scsi_cdb_decode_rw(const uint8_t *cdb, unsigned cdb_len, struct scsi_rw_cdb *out);

/* True for the opcodes scsi_cdb_decode_rw() understands. */
bool scsi_cdb_is_rw(uint8_t opcode);

/* The CDB length its group code implies for @opcode (SPC-4 4.2.5.1):
 * 6, 10, 12 or 16; 0 for the variable-length and vendor groups. */
unsigned scsi_cdb_group_len(uint8_t opcode);

/* WRITE SAME (10/16), SBC-4 5.50 and 5.51. NUMBER OF LOGICAL BLOCKS 0
 * means "through the last block" unless the device sets WSNZ; the
 * decoder reports what the CDB says and leaves that to the handler. */
struct scsi_write_same_cdb {
	uint64_t lba;
	uint32_t nblocks;
	uint8_t protect;    /* WRPROTECT (3 bits) */
	bool anchor;        /* anchor instead of deallocate (with unmap) */
	bool unmap;         /* deallocate the range if the device can */
	bool ndob;          /* WRITE SAME(16): no Data-Out, write zeros */
	/* The obsolete PBDATA and LBDATA bits (SBC-3's way to stamp each
	 * block with its address); set, they ask for what we never do. */
	bool lbdata_pbdata;
	uint8_t group;
	/* Field locations, for pointers in sense data. */
	uint8_t lba_byte;
	uint8_t len_byte;
	uint8_t flags_byte;
};

/* Decodes WRITE SAME(10) or WRITE SAME(16); false for another opcode or a
 * CDB shorter than the opcode's. */
bool scsi_cdb_decode_write_same(const uint8_t *cdb, unsigned cdb_len,
				struct scsi_write_same_cdb *out);

/* COMPARE AND WRITE, SBC-4 5.2 (a 16-byte CDB). The Data-Out holds
 * 2 * nblocks blocks: the verify instance, then the write instance.
 * NUMBER OF LOGICAL BLOCKS 0 is not an error: nothing is compared or
 * written. */
struct scsi_caw_cdb {
	uint64_t lba;
	uint8_t nblocks;    /* byte 13: at most 255 */
	uint8_t protect;    /* WRPROTECT (3 bits) */
	bool dpo;
	bool fua;
	uint8_t group;
	/* Field locations, for pointers in sense data. */
	uint8_t lba_byte;
	uint8_t len_byte;
	uint8_t flags_byte;
};

/* Decodes COMPARE AND WRITE; false for another opcode or a CDB shorter
 * than 16 bytes. */
bool scsi_cdb_decode_compare_and_write(const uint8_t *cdb, unsigned cdb_len,
				       struct scsi_caw_cdb *out);

/* ORWRITE(16), SBC-4 5.14, and WRITE ATOMIC(16), SBC-4 5.48: a write CDB
 * laid out like WRITE(16) (WRITE ATOMIC's TRANSFER LENGTH is two bytes, at
 * 12), decoded into the READ/WRITE struct. @protect is ORPROTECT or
 * WRPROTECT; ORWRITE's obsolete byte 1 bit 1 (SBC-3's FUA_NV) is left out.
 * False for another opcode or a CDB shorter than 16 bytes. */
bool scsi_cdb_decode_orwrite16(const uint8_t *cdb, unsigned cdb_len, struct scsi_rw_cdb *out);
bool scsi_cdb_decode_write_atomic16(const uint8_t *cdb, unsigned cdb_len,
				    struct scsi_rw_cdb *out);

/* ORWRITE(32), SBC-4 5.14 (a variable-length CDB, service action 000Eh):
 * ORWRITE(16)'s fields at other places (flags at byte 10, LBA at 12,
 * TRANSFER LENGTH at 28) and the bitmap operation with its ORWgeneration
 * numbers. False for another command or a CDB shorter than 32 bytes. */
struct scsi_orwrite32_cdb {
	struct scsi_rw_cdb rw;
	uint8_t bmop;            /* byte 2, bits 2..0: 000b is ORWRITE(16)'s OR */
	uint8_t pgp;             /* byte 3, bits 3..0: PREVIOUS GENERATION PROCESSING */
	uint8_t additional_len;  /* byte 7: ADDITIONAL CDB LENGTH, 18h */
	uint32_t expected_generation;
	uint32_t new_generation;
};

bool scsi_cdb_decode_orwrite32(const uint8_t *cdb, unsigned cdb_len,
			       struct scsi_orwrite32_cdb *out);

/* The service action of @cdb, for an opcode that has them: byte 1's
 * low five bits, or a variable-length CDB's 16 bits at 8..9 (0 when
 * @cdb_len is too short to hold them). */
uint16_t scsi_cdb_service_action(const uint8_t *cdb, unsigned cdb_len);
/* The byte of the SERVICE ACTION field in a CDB with opcode @opcode
 * (for field pointers): 8 for variable-length CDBs, else 1. */
unsigned scsi_cdb_service_action_byte(uint8_t opcode);
/* The byte of the CONTROL field in a CDB of @cdb_len bytes with opcode
 * @opcode (SPC-4 4.2.2, 4.2.3): 1 for a variable-length CDB, else the
 * last byte of the length its group code gives (or of @cdb_len where
 * the group has none). */
unsigned scsi_cdb_control_byte(uint8_t opcode, unsigned cdb_len);

/* PRE-FETCH (10/16), SBC-4 5.15 and 5.16. NUMBER OF LOGICAL BLOCKS 0 means
 * "through the last block". */
struct scsi_prefetch_cdb {
	uint64_t lba;
	uint32_t nblocks;
	bool immed;        /* status once the CDB is checked */
	uint8_t group;
	uint8_t lba_byte;
	uint8_t len_byte;
};

bool scsi_cdb_decode_prefetch(const uint8_t *cdb, unsigned cdb_len,
			      struct scsi_prefetch_cdb *out);

/* READ DEFECT DATA (10/12), SBC-4 5.19 and 5.20. */
struct scsi_read_defect_cdb {
	bool req_plist;     /* the primary (factory) list is asked for */
	bool req_glist;     /* the grown list is asked for */
	uint8_t format;     /* DEFECT LIST FORMAT (3 bits, SBC-4 6.2) */
	uint32_t index;     /* (12): ADDRESS DESCRIPTOR INDEX */
	uint32_t alloc_len;
	bool twelve;        /* READ DEFECT DATA(12): 8-byte header */
	uint8_t flags_byte; /* where REQ_PLIST, REQ_GLIST and the format are */
};

bool scsi_cdb_decode_read_defect_data(const uint8_t *cdb, unsigned cdb_len,
				      struct scsi_read_defect_cdb *out);

/* SYNCHRONIZE CACHE (10/16). nblocks 0 means "to the end of the medium". */
struct scsi_sync_cache_cdb {
	uint64_t lba;
	uint32_t nblocks;
	bool immed;
	uint8_t lba_byte;
};

bool scsi_cdb_decode_sync_cache(const uint8_t *cdb, unsigned cdb_len,
				struct scsi_sync_cache_cdb *out);

/* MODE SENSE (6/10). */
struct scsi_mode_sense_cdb {
	bool dbd;        /* disable block descriptors */
	bool llbaa;      /* long LBA block descriptors accepted (10 only) */
	uint8_t pc;      /* page control: 0 current, 1 changeable, 2 default, 3 saved */
	uint8_t page;    /* 6 bits; 0x3f = every page */
	uint8_t subpage; /* 0xff with page 0x3f = every page and subpage */
	uint16_t alloc_len;
	bool ten;        /* MODE SENSE(10): 8-byte header, LLBAA meaningful */
};

bool scsi_cdb_decode_mode_sense(const uint8_t *cdb, unsigned cdb_len,
				struct scsi_mode_sense_cdb *out);

/* MODE SELECT (6/10). */
struct scsi_mode_select_cdb {
	bool pf;         /* page format: pages follow SPC's layout */
	bool sp;         /* save pages */
	uint16_t param_len;
	bool ten;
};

bool scsi_cdb_decode_mode_select(const uint8_t *cdb, unsigned cdb_len,
				 struct scsi_mode_select_cdb *out);

/* START STOP UNIT. */
struct scsi_start_stop_cdb {
	bool immed;
	uint8_t power_condition;  /* 4 bits */
	uint8_t pc_modifier;      /* 4 bits */
	bool no_flush;
	bool loej;                /* load or eject the medium, per @start */
	bool start;
};

bool scsi_cdb_decode_start_stop(const uint8_t *cdb, unsigned cdb_len,
				struct scsi_start_stop_cdb *out);

/* READ CAPACITY(10): the obsolete PMI/LBA pair SBC-3 still checks. */
struct scsi_read_capacity10_cdb {
	uint32_t lba;
	bool pmi;
};

bool scsi_cdb_decode_read_capacity10(const uint8_t *cdb, unsigned cdb_len,
				     struct scsi_read_capacity10_cdb *out);

/* The ALLOCATION LENGTH of SERVICE ACTION IN(16) (READ CAPACITY(16), GET
 * LBA STATUS): bytes 10..13. Returns false if the CDB is too short. */
bool scsi_cdb_sai16_alloc_len(const uint8_t *cdb, unsigned cdb_len, uint32_t *out);

#endif
