/* Mode parameters of a direct-access block device (SPC-4 7.5, SBC-3 6.4):
 * building MODE SENSE data and checking MODE SELECT parameter lists.
 *
 * Pages served: format device (0x03), rigid disk geometry (0x04), caching
 * (0x08) and control (0x0a). Changeable fields: WCE (caching), and in the
 * control page TST, D_SENSE, QUEUE ALGORITHM MODIFIER, QERR, SWP,
 * UA_INTLCK_CTRL and TAS; everything else reads back as fixed, and a
 * MODE SELECT that changes it is refused with the field pointer. RCD
 * stays 0: a changeable field must change what the device does, and a
 * file's reads cannot be kept from the page cache one command at a time
 * (WCE=0, by contrast, makes every write durable before GOOD). The
 * caching and control pages are savable (PS=1): MODE SENSE reports
 * current, changeable, default and saved values, and MODE SELECT with
 * SP=1 asks the caller to save what it sets.
 *
 * Pure: no device, no locking; the caller passes a snapshot of the
 * parameters and applies (and saves) what MODE SELECT returns. */
#ifndef USCST_SCSI_MODE_PAGES_H
#define USCST_SCSI_MODE_PAGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scsi/cdb.h"
#include "scsi/sense.h"

enum mode_page_code {
	MODE_PAGE_FORMAT_DEVICE = 0x03,
	MODE_PAGE_RIGID_GEOMETRY = 0x04,
	MODE_PAGE_CACHING = 0x08,
	MODE_PAGE_CONTROL = 0x0a,
	MODE_PAGE_ALL = 0x3f,
};

/* Control page QUEUE ALGORITHM MODIFIER values (SPC-4 7.5.8, table 237)
 * a device server may take; 2..7 are reserved, 8..15 vendor specific, and
 * this one has none. */
enum mode_qam {
	MODE_QAM_RESTRICTED = 0,   /* overlapping commands keep their order */
	MODE_QAM_UNRESTRICTED = 1, /* the device may reorder SIMPLE commands */
};

/* Control page TASK SET TYPE (SPC-4 table 235). */
enum mode_tst {
	MODE_TST_SHARED = 0,    /* one task set for every I_T nexus */
	MODE_TST_PER_NEXUS = 1, /* one task set per I_T nexus */
};

/* Control page QUEUE ERROR MANAGEMENT (SPC-4 table 238): what a CHECK
 * CONDITION does to the other tasks of the task set; 2 is reserved. */
enum mode_qerr {
	MODE_QERR_CONTINUE = 0,    /* they go on */
	MODE_QERR_ABORT_ALL = 1,   /* the task set's tasks are aborted */
	MODE_QERR_ABORT_NEXUS = 3, /* the faulted I_T nexus's tasks are aborted */
};

enum mode_page_control {
	MODE_PC_CURRENT = 0,
	MODE_PC_CHANGEABLE = 1,
	MODE_PC_DEFAULT = 2,
	MODE_PC_SAVED = 3,
};

/* The values of the changeable fields: one set each for the current,
 * default and saved values of a device. */
struct mode_values {
	bool wce;            /* caching: write-back cache enabled */
	bool d_sense;        /* control: descriptor format sense data */
	bool swp;            /* control: software write protect */
	uint8_t qam;         /* enum mode_qam */
	uint8_t tst;         /* enum mode_tst */
	uint8_t qerr;        /* enum mode_qerr */
	bool tas;            /* aborted by another nexus: TASK ABORTED status */
	uint8_t ua_intlck_ctrl; /* 0, 2 or 3 (SAM-5 5.14) */
};

/* Whether @v holds only values a device takes (the ones MODE SELECT
 * accepts): a saved file is checked with it. */
bool mode_values_valid(const struct mode_values *v);
bool mode_values_equal(const struct mode_values *a, const struct mode_values *b);

/* The state MODE SENSE reports; MODE SELECT compares against it. */
struct mode_disk_params {
	uint64_t nblocks;
	uint32_t block_size;
	bool read_only;      /* WP bit of the device-specific parameter */
	bool rotational;     /* rigid geometry: medium rotation rate */
	/* WCE cannot change: every write is durable whatever it says
	 * (write_through), so it reads as fixed. */
	bool wce_fixed;
	struct mode_values cur; /* current */
	struct mode_values def; /* power-on defaults (the DEFAULT page control) */
	struct mode_values saved; /* the SAVED page control (def if nothing saved) */
};
/* Longest MODE SENSE(10) answer this module can produce. */
#define MODE_SENSE_MAX_LEN 256

/* Builds the MODE SENSE data that @req asks for into @buf (room for
 * MODE_SENSE_MAX_LEN bytes). Returns its full length (the caller sends at
 * most the allocation length), or -1 with @err set: an unknown page or
 * subpage (INVALID FIELD IN CDB). */
int mode_sense_build(const struct scsi_mode_sense_cdb *req, const struct mode_disk_params *p,
		     uint8_t *buf, struct scsi_sense *err);

/* What a valid MODE SELECT parameter list asks for: the new current
 * values, and whether to save them (SP=1). */
struct mode_select_result {
	struct mode_values v;
	bool save;
};

/* Checks the MODE SELECT parameter list @data (@len bytes, as many as the
 * CDB's parameter list length announced) against @p. Every field that
 * differs from its current value must be changeable, and a changeable
 * field must hold a value this device takes; a block descriptor,
 * if present, must repeat the current block length. On success fills
 * @out (starting from the current values) and returns 0; otherwise
 * returns -1 with @err pointing into the CDB or the parameter list, and
 * nothing may be applied. */
int mode_select_parse(const struct scsi_mode_select_cdb *req, const uint8_t *data, size_t len,
		      const struct mode_disk_params *p, struct mode_select_result *out,
		      struct scsi_sense *err);

#endif
