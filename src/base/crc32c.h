/* CRC32C (Castagnoli) as iSCSI digests use it, computed by ISA-L. */
#ifndef USCST_BASE_CRC32C_H
#define USCST_BASE_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Digest of one buffer. */
uint32_t crc32c(const void *buf, size_t len);
/* Streaming form: start with crc = CRC32C_INIT, feed pieces with
 * crc32c_update(), finish with crc32c_final(). */
#define CRC32C_INIT 0xffffffffu
uint32_t crc32c_update(uint32_t crc, const void *buf, size_t len);
uint32_t crc32c_final(uint32_t crc);

#endif
