/* Sense data builders (SPC-4 4.5): fixed format (response code 0x70) and
 * descriptor format (0x72), with the sense-key-specific field pointer that
 * tells an initiator which CDB or parameter byte (and bit) was wrong. */
#ifndef USCST_SCSI_SENSE_H
#define USCST_SCSI_SENSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What went wrong, independent of the format it is reported in. */
struct scsi_sense {
	uint8_t key;      /* enum scsi_sense_key */
	uint16_t asc;     /* enum scsi_asc: ASC << 8 | ASCQ */
	/* Sense-key-specific field pointer (SKSV=1 when has_field_pointer). */
	bool has_field_pointer;
	bool in_cdb;       /* C/D: 1 = error in the CDB, 0 = in parameter data */
	bool bit_valid;    /* BPV: @bit is meaningful */
	uint8_t bit;       /* bit within the byte, 0..7 */
	uint16_t byte;     /* byte offset of the bad field */
	/* Sense-key-specific progress indication (SPC-4 4.5.2.4.2; SKSV=1):
	 * how far an operation that makes the unit not ready has come, in
	 * 65536ths (NOT READY / FORMAT IN PROGRESS, SANITIZE IN PROGRESS).
	 * Exclusive with has_field_pointer. */
	bool has_progress;
	uint16_t progress;
	/* INFORMATION field (e.g. the first bad LBA, or a residue). */
	bool has_information;
	uint64_t information;
};

/* Encodes @s into @buf (at most @len bytes) in descriptor format when
 * @descriptor, else fixed format. Returns the number of bytes written. */
size_t scsi_sense_encode(const struct scsi_sense *s, bool descriptor, uint8_t *buf,
			 size_t len);

/* Decodes key and ASC/ASCQ from sense data in either format; returns false
 * if @buf is not recognisable sense data. */
bool scsi_sense_decode(const uint8_t *buf, size_t len, uint8_t *key, uint16_t *asc);

/* Convenience initialisers. */
static inline struct scsi_sense scsi_sense_make(uint8_t key, uint16_t asc)
{
	struct scsi_sense s = { .key = key, .asc = asc };
	return s;
}

/* INVALID FIELD IN CDB pointing at @byte (and @bit, if bit >= 0). */
static inline struct scsi_sense scsi_sense_invalid_cdb_field(uint16_t byte, int bit)
{
	struct scsi_sense s = {
		.key = 0x5,
		.asc = 0x2400,
		.has_field_pointer = true,
		.in_cdb = true,
		.bit_valid = bit >= 0,
		.bit = bit >= 0 ? (uint8_t)bit : 0,
		.byte = byte,
	};
	return s;
}

/* INVALID FIELD IN PARAMETER LIST pointing at parameter byte @byte. */
static inline struct scsi_sense scsi_sense_invalid_param_field(uint16_t byte, int bit)
{
	struct scsi_sense s = scsi_sense_invalid_cdb_field(byte, bit);
	s.asc = 0x2600;
	s.in_cdb = false;
	return s;
}

#endif
