/* TransportIDs (SPC-4 7.6.4): the names of initiator ports in persistent
 * reservation parameter lists (SPEC_I_PT, REGISTER AND MOVE) and in READ
 * FULL STATUS. Pure: no state, unit-tested alone (tests/unit/test_pr_rules.c).
 *
 * Formats the device server accepts (PROTOCOL IDENTIFIER, FORMAT CODE):
 *   FCP-4 (0h, 00b)  24 bytes, N_Port_Name in bytes 8..15
 *   SRP   (4h, 00b)  24 bytes, initiator port identifier in bytes 8..23
 *   SAS   (6h, 00b)  24 bytes, SAS address in bytes 4..11
 *   iSCSI (5h, 00b)  the iSCSI name: an initiator device, all its ports
 *   iSCSI (5h, 01b)  "name,i,0x" and the ISID in hex: one initiator port
 * An iSCSI TransportID is 4 + ADDITIONAL LENGTH bytes (a multiple of 4),
 * the string NUL-terminated inside. iSCSI names are compared without
 * regard to case (RFC 3722 names are case-folded), and so are ISIDs. */
#ifndef USCST_CORE_TRANSPORT_ID_H
#define USCST_CORE_TRANSPORT_ID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SCST_TID_MAX 248 /* SCST_TRANSPORT_ID_MAX */

/* Parses the TransportID at @buf, of which @avail bytes are there.
 * Returns its length and writes it to @out in a canonical form (iSCSI:
 * name and ISID in lower case, zero padding), or 0 when it is malformed
 * or of a protocol this device server does not know, with the offset of
 * the offending byte (from @buf) in @bad_byte. */
unsigned scst_tid_parse(const uint8_t *buf, size_t avail, uint8_t out[SCST_TID_MAX],
			unsigned *bad_byte);

/* Whether TransportID @reg (of a registration) names initiator port
 * @port (a session's TransportID, always of a port): the same port, or,
 * for an iSCSI initiator device TransportID (format 00b), any port of
 * that device. */
bool scst_tid_matches(const uint8_t *reg, unsigned reg_len, const uint8_t *port,
		      unsigned port_len);

/* Whether two TransportIDs name the same thing (port or device). */
bool scst_tid_equal(const uint8_t *a, unsigned a_len, const uint8_t *b, unsigned b_len);

/* Whether the TransportID names a single initiator port (every format
 * but iSCSI's 00b): what REGISTER AND MOVE requires. */
bool scst_tid_is_port(const uint8_t *tid, unsigned len);

#endif
