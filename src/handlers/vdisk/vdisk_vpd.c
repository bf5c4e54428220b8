/* Device-type VPD pages of a vdisk (SBC-3 6.6): Block Limits (0xb0) and
 * Block Device Characteristics (0xb1). The core fills each page's 4-byte
 * header; these write the payload after it, so offsets below are the
 * standard's byte numbers minus 4. */
#include <string.h>

#include "base/bytes.h"
#include "handlers/vdisk/vdisk_internal.h"

#define VPD_BLOCK_LIMITS 0xb0
#define VPD_BLOCK_DEVICE_CHARACTERISTICS 0xb1
#define VPD_PAYLOAD_LEN 0x3c

const uint8_t vdisk_vpd_pages[VDISK_NVPD_PAGES] = {
	VPD_BLOCK_LIMITS,
	VPD_BLOCK_DEVICE_CHARACTERISTICS,
};

static size_t block_limits(const struct scst_device *dev, uint8_t *d)
{
	uint32_t max_blocks = VDISK_MAX_XFER_BYTES / dev->block_size;

	memset(d, 0, VPD_PAYLOAD_LEN);
	/* MAXIMUM COMPARE AND WRITE LENGTH (PARSE enforces it). No UNMAP,
	 * so its limits stay 0. WSNZ (byte 4 bit 0) is 0: a WRITE
	 * SAME of no blocks writes through the last block. */
	d[5 - 4] = VDISK_MAX_CAW_BLOCKS;
	/* OPTIMAL TRANSFER LENGTH GRANULARITY: a physical block. */
	put_be16(d + 6 - 4, (uint16_t)vdisk_blocks_per_physical(dev->handler_priv));
	put_be32(d + 8 - 4, max_blocks);  /* maximum transfer length (PARSE enforces it) */
	put_be32(d + 12 - 4, max_blocks); /* optimal transfer length */
	/* MAXIMUM WRITE SAME LENGTH (PARSE enforces it). */
	put_be64(d + 36 - 4, vdisk_max_write_same_blocks(dev));
	/* MAXIMUM ATOMIC TRANSFER LENGTH (WRITE ATOMIC(16)'s PARSE enforces
	 * it); ATOMIC ALIGNMENT and ATOMIC TRANSFER LENGTH GRANULARITY 0:
	 * any whole blocks (vdisk_write_atomic.c). No atomic boundary. */
	put_be32(d + 44 - 4, vdisk_max_atomic_blocks(dev));
	return VPD_PAYLOAD_LEN;
}

static size_t block_device_characteristics(const struct scst_device *dev, uint8_t *d)
{
	const struct vdisk_dev *vd = dev->handler_priv;

	memset(d, 0, VPD_PAYLOAD_LEN);
	/* MEDIUM ROTATION RATE: 1 = non-rotating (solid state), 0 = not
	 * reported. Linux sets its rotational flag from this. */
	put_be16(d + 4 - 4, vd->cfg.rotational ? 0 : 1);
	return VPD_PAYLOAD_LEN;
}

enum scst_write_cache vdisk_write_cache(const struct scst_device *dev)
{
	const struct vdisk_dev *vd = dev->handler_priv;

	/* nullio keeps nothing, so it caches nothing either. write_through
	 * still has the page cache, for reads: a volatile cache, which a
	 * write never leaves anything in (WCE=0). */
	if (vd->mode->backend->no_medium)
		return SCST_WRITE_CACHE_NONE;
	return vd->cfg.nv_cache ? SCST_WRITE_CACHE_NON_VOLATILE : SCST_WRITE_CACHE_VOLATILE;
}

size_t vdisk_vpd_page(const struct scst_device *dev, uint8_t page, uint8_t *buf)
{
	switch (page) {
	case VPD_BLOCK_LIMITS:
		return block_limits(dev, buf);
	case VPD_BLOCK_DEVICE_CHARACTERISTICS:
		return block_device_characteristics(dev, buf);
	default:
		return 0;
	}
}
