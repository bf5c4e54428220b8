/* Device-type VPD pages of a vdisk (SBC-3 6.6): Block Limits (0xb0),
 * Block Device Characteristics (0xb1) and Logical Block Provisioning
 * (0xb2). The core fills each page's 4-byte header; these write the
 * payload after it, so offsets below are the standard's byte numbers
 * minus 4. */
#include <string.h>

#include "base/bytes.h"
#include "handlers/vdisk/vdisk_internal.h"

#define VPD_BLOCK_LIMITS 0xb0
#define VPD_BLOCK_DEVICE_CHARACTERISTICS 0xb1
#define VPD_LOGICAL_BLOCK_PROVISIONING 0xb2
#define VPD_LBP_PAYLOAD_LEN 4
#define VPD_PAYLOAD_LEN 0x3c

const uint8_t vdisk_vpd_pages[VDISK_NVPD_PAGES] = {
	VPD_BLOCK_LIMITS,
	VPD_BLOCK_DEVICE_CHARACTERISTICS,
	VPD_LOGICAL_BLOCK_PROVISIONING,
};

/* The unmap fields of Block Limits (UNMAP validates against them; 0 on a
 * fully provisioned LUN, where UNMAP is not served). */
static void block_limits_unmap(const struct scst_device *dev, uint8_t *d)
{
	const struct vdisk_dev *vd = dev->handler_priv;

	if (!vdisk_is_thin(vd))
		return;
	put_be32(d + 20 - 4, vdisk_max_unmap_blocks(dev));  /* MAXIMUM UNMAP LBA COUNT */
	put_be32(d + 24 - 4, VDISK_MAX_UNMAP_DESCRIPTORS); /* ... BLOCK DESCRIPTOR COUNT */
	/* OPTIMAL UNMAP GRANULARITY: what a hole punch frees whole. UGAVALID
	 * with UNMAP GRANULARITY ALIGNMENT 0: granules start at LBA 0. */
	put_be32(d + 28 - 4, vdisk_unmap_granularity(vd));
	d[32 - 4] = 0x80;
}

static size_t block_limits(const struct scst_device *dev, uint8_t *d)
{
	uint32_t max_blocks = VDISK_MAX_XFER_BYTES / dev->block_size;

	memset(d, 0, VPD_PAYLOAD_LEN);
	block_limits_unmap(dev, d);
	/* MAXIMUM COMPARE AND WRITE LENGTH (PARSE enforces it). WSNZ (byte
	 * 4 bit 0) is 0: a WRITE SAME of no blocks writes through the last
	 * block. */
	d[5 - 4] = VDISK_MAX_CAW_BLOCKS;
	/* OPTIMAL TRANSFER LENGTH GRANULARITY: a physical block. */
	put_be16(d + 6 - 4, (uint16_t)vdisk_blocks_per_physical(dev->handler_priv));
	put_be32(d + 8 - 4, max_blocks);  /* maximum transfer length (PARSE enforces it) */
	put_be32(d + 12 - 4, max_blocks); /* optimal transfer length */
	/* MAXIMUM WRITE SAME LENGTH (PARSE enforces it). */
	put_be64(d + 36 - 4, vdisk_max_write_same_blocks(dev));
	/* MAXIMUM ATOMIC TRANSFER LENGTH, ATOMIC ALIGNMENT and ATOMIC
	 * TRANSFER LENGTH GRANULARITY (WRITE ATOMIC(16)'s PARSE enforces
	 * them; vdisk_write_atomic.c). No atomic boundary. */
	put_be32(d + 44 - 4, vdisk_max_atomic_blocks(dev));
	put_be32(d + 48 - 4, vdisk_atomic_granularity(dev));
	put_be32(d + 52 - 4, vdisk_atomic_granularity(dev));
	return VPD_PAYLOAD_LEN;
}

static size_t block_device_characteristics(const struct scst_device *dev, uint8_t *d)
{
	const struct vdisk_dev *vd = dev->handler_priv;

	memset(d, 0, VPD_PAYLOAD_LEN);
	/* MEDIUM ROTATION RATE: 1 = non-rotating (solid state), 0 = not
	 * reported. Linux sets its rotational flag from this. */
	put_be16(d + 4 - 4, vd->cfg.rotational ? 0 : 1);
	/* WABEREQ and WACEREQ 01b: a read after a block or cryptographic
	 * erase SANITIZE succeeds (vdisk_sanitize.c: the blocks read as
	 * zeros, written or deallocated). */
	d[7 - 4] = 0x40 | 0x10;
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

/* SBC-4 6.6.6. On a thin LUN: UNMAP (LBPU), WRITE SAME(16) and (10)
 * with UNMAP (LBPWS, LBPWS10), deallocated blocks read as zeros (LBPRZ
 * 001b), no anchored state (ANC_SUP 0), PROVISIONING TYPE 010b (thin),
 * and the log page's resource counts in units of 2^THRESHOLD EXPONENT
 * blocks (vdisk_log.c). A fully provisioned LUN has the page too, with
 * nothing set, so that an initiator reads "no" rather than guesses. */
static size_t logical_block_provisioning(const struct scst_device *dev, uint8_t *d)
{
	const struct vdisk_dev *vd = dev->handler_priv;

	memset(d, 0, VPD_LBP_PAYLOAD_LEN);
	if (!vdisk_is_thin(vd))
		return VPD_LBP_PAYLOAD_LEN;
	d[4 - 4] = vdisk_threshold_exponent(dev);
	d[5 - 4] = 0x80 | 0x40 | 0x20 | 0x04; /* LBPU, LBPWS, LBPWS10, LBPRZ 001b */
	d[6 - 4] = 0x02;                      /* PROVISIONING TYPE: thin */
	return VPD_LBP_PAYLOAD_LEN;
}

size_t vdisk_vpd_page(const struct scst_device *dev, uint8_t page, uint8_t *buf)
{
	switch (page) {
	case VPD_BLOCK_LIMITS:
		return block_limits(dev, buf);
	case VPD_BLOCK_DEVICE_CHARACTERISTICS:
		return block_device_characteristics(dev, buf);
	case VPD_LOGICAL_BLOCK_PROVISIONING:
		return logical_block_provisioning(dev, buf);
	default:
		return 0;
	}
}
