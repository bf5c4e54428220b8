/* INQUIRY (SPC-4 6.6), emulated by the core for every device: standard
 * data and the vital product data pages every device has (0x00, 0x80,
 * 0x83). */
#include <string.h>

#include "base/bytes.h"
#include "core/alua.h"
#include "core/copy_mgr.h"
#include "core/core_internal.h"
#include "core/emulated.h"

#define INQ_EVPD 0x01
#define INQ_CMDDT 0x02
#define STD_INQUIRY_LEN 74

/* Version descriptors (SPC-4 table 49) the core claims for every device;
 * the device type's command set and the transport add theirs. */
#define VERSION_SAM5 0x00a0
#define VERSION_SPC4 0x0460

int scst_inquiry_parse(struct scst_cmd *cmd)
{
	if (cmd->cdb[1] & INQ_CMDDT) {
		scst_set_cmd_error(cmd, scsi_sense_invalid_cdb_field(1, 1));
		return -1;
	}
	if (!(cmd->cdb[1] & INQ_EVPD) && cmd->cdb[2]) {
		scst_set_cmd_error(cmd, scsi_sense_invalid_cdb_field(2, -1));
		return -1;
	}
	cmd->data_dir = SCST_DATA_READ;
	cmd->data_len = get_be16(cmd->cdb + 3);
	return 0;
}

/* Copies @src, space-padded to @len bytes (SPC-4 4.4.1: ASCII fields). */
static void put_ascii(uint8_t *dst, const char *src, size_t len)
{
	size_t n = strnlen(src, len);

	memcpy(dst, src, n);
	memset(dst + n, ' ', len - n);
}

/* The identity strings (t10_vend_id, prod_id, ...) change at run time
 * (scst_device_set_identity(), under dev->lock): each page copies them
 * under the same lock, so that it never reports half of a new value. */
static void identity_lock(const struct scst_device *dev)
{
	pthread_mutex_lock((pthread_mutex_t *)&dev->lock);
}

static void identity_unlock(const struct scst_device *dev)
{
	pthread_mutex_unlock((pthread_mutex_t *)&dev->lock);
}

static uint8_t peripheral_byte(const struct scst_cmd *cmd)
{
	/* Qualifier 3: no logical unit here (SPC-4 6.6.2). */
	if (!cmd->dev)
		return 0x60 | TYPE_NO_LUN;
	return cmd->dev->handler->type;
}

static size_t standard_inquiry(const struct scst_cmd *cmd, uint8_t *d)
{
	memset(d, 0, STD_INQUIRY_LEN);
	d[0] = peripheral_byte(cmd);
	if (cmd->dev && cmd->dev->removable)
		d[1] = 0x80; /* RMB (the handler's removable medium) */
	d[2] = 0x06;  /* SPC-4 */
	d[3] = 0x32;  /* NORMACA (ACA, core/tmf.c), HISUP, response data format 2 */
	d[4] = STD_INQUIRY_LEN - 5;
	/* TPGS: the device group's kind of ALUA (alua.c), 0 without one. */
	if (cmd->tgt_dev)
		d[5] = (uint8_t)(scst_alua_word_tpgs(atomic_load(&cmd->tgt_dev->alua)) << 4);
	/* 3PC: the copy manager (EXTENDED COPY, ODX) is addressable through
	 * this LUN, as VPD page 0x8F says too. ESXi looks here before it
	 * offloads a clone (VAAI XCOPY). */
	if (cmd->tgt_dev && scst_copy_available(cmd->tgt_dev))
		d[5] |= 0x08;
	d[7] = 0x02;  /* CMDQUE: tagged command queuing */
	if (cmd->dev) {
		identity_lock(cmd->dev);
		put_ascii(d + 8, cmd->dev->t10_vend_id, 8);
		put_ascii(d + 16, cmd->dev->prod_id, 16);
		put_ascii(d + 32, cmd->dev->prod_rev_lvl, 4);
		identity_unlock(cmd->dev);
	} else {
		put_ascii(d + 8, "USCST", 8);
		put_ascii(d + 16, "", 16);
		put_ascii(d + 32, "", 4);
	}
	put_be16(d + 58, VERSION_SAM5);
	put_be16(d + 60, VERSION_SPC4);
	if (cmd->dev)
		put_be16(d + 62, cmd->dev->handler->version_descriptor);
	put_be16(d + 64, cmd->sess->tgt->tgtt->version_descriptor);
	return STD_INQUIRY_LEN;
}

static const uint8_t core_vpd_pages[] = { 0x00, 0x80, 0x83, 0x86 };

static size_t vpd_supported_pages(const struct scst_dev_type *handler, uint8_t *d)
{
	size_t n = 4;

	/* Ascending order (SPC-4 7.8.14): the core's pages are all below the
	 * device-type pages (0xb0 and up). */
	memcpy(d + n, core_vpd_pages, sizeof(core_vpd_pages));
	n += sizeof(core_vpd_pages);
	for (unsigned i = 0; i < handler->nvpd_pages; i++)
		d[n++] = handler->vpd_pages[i];
	return n;
}

#define VPD_THIRD_PARTY_COPY 0x8f

/* VPD page 0x8F is the copy manager's (copy_vpd.c), served where it
 * copies: inserted in page 0x00's list (@n bytes at @d) in ascending
 * order. */
static size_t vpd_list_copy_page(const struct scst_cmd *cmd, uint8_t *d, size_t n)
{
	size_t at = 4;

	if (!scst_copy_available(cmd->tgt_dev))
		return n;
	while (at < n && d[at] < VPD_THIRD_PARTY_COPY)
		at++;
	memmove(d + at + 1, d + at, n - at);
	d[at] = VPD_THIRD_PARTY_COPY;
	return n + 1;
}

static bool handler_has_vpd_page(const struct scst_dev_type *handler, uint8_t page)
{
	for (unsigned i = 0; i < handler->nvpd_pages; i++) {
		if (handler->vpd_pages[i] == page)
			return true;
	}
	return false;
}

static size_t vpd_unit_serial(const struct scst_device *dev, uint8_t *d)
{
	size_t n;

	identity_lock(dev);
	n = strlen(dev->usn);
	memcpy(d + 4, dev->usn, n);
	identity_unlock(dev);
	return 4 + n;
}

/* Appends one designation descriptor; returns its length. */
static size_t put_designator(uint8_t *d, uint8_t code_set, uint8_t assoc_type,
			     const void *id, size_t len)
{
	d[0] = code_set;
	d[1] = assoc_type;
	d[2] = 0;
	d[3] = (uint8_t)len;
	memcpy(d + 4, id, len);
	return 4 + len;
}

#define CODE_SET_BINARY 0x01
#define CODE_SET_ASCII 0x02
#define ASSOC_LU 0x00
#define ASSOC_TARGET_PORT 0x10
#define DESIG_T10_VENDOR 0x01
#define DESIG_NAA 0x03
#define DESIG_REL_TGT_PORT 0x04
#define DESIG_TPG 0x05

static size_t vpd_device_identification(const struct scst_cmd *cmd, uint8_t *d)
{
	const struct scst_device *dev = cmd->dev;
	const struct scst_tgt *tgt = cmd->sess->tgt;
	uint8_t id[8 + 64];
	size_t n = 4, idlen;
	unsigned group;

	put_be64(id, dev->naa_id);
	n += put_designator(d + n, CODE_SET_BINARY, ASSOC_LU | DESIG_NAA, id, 8);

	identity_lock(dev);
	put_ascii(id, dev->t10_vend_id, 8);
	idlen = strlen(dev->t10_dev_id);
	memcpy(id + 8, dev->t10_dev_id, idlen);
	identity_unlock(dev);
	n += put_designator(d + n, CODE_SET_ASCII, ASSOC_LU | DESIG_T10_VENDOR, id, 8 + idlen);

	memset(id, 0, 4);
	put_be16(id + 2, tgt->rel_tgt_id);
	n += put_designator(d + n, CODE_SET_BINARY, ASSOC_TARGET_PORT | DESIG_REL_TGT_PORT, id, 4);

	/* The ALUA target port group of this port for this device; a device
	 * in no device group has none (SCST omits it too). Not the
	 * transport's portal group (iSCSI's TargetPortalGroupTag). */
	group = scst_alua_word_group(atomic_load(&cmd->tgt_dev->alua));
	if (group) {
		memset(id, 0, 4);
		put_be16(id + 2, (uint16_t)group);
		n += put_designator(d + n, CODE_SET_BINARY, ASSOC_TARGET_PORT | DESIG_TPG, id, 4);
	}
	return n;
}

/* Extended INQUIRY Data (SPC-4 7.8.7), the same for every device type
 * but for its cache. Only what is true of us is set:
 *  - no protection information (SPT, GRD_CHK, APP_CHK, REF_CHK 0), as
 *    PROTECT=0 in standard INQUIRY says;
 *  - HEADSUP, ORDSUP, SIMPSUP: the task set (order.c) honours HEAD OF
 *    QUEUE, ORDERED and SIMPLE. ACA is not a task attribute bit here
 *    (NORMACA in standard INQUIRY). No priorities (PRIOR_SUP), group
 *    numbers are ignored (GROUP_SUP), no sense-key-specific data in unit
 *    attentions (UASK_SUP);
 *  - V_SUP / NV_SUP: the device type's write_cache;
 *  - LUICLR 0: a REPORTED LUNS DATA HAS CHANGED unit attention reported
 *    on one logical unit is not cleared on the others of the I_T nexus
 *    (REPORT LUNS clears them all, ua.c);
 *  - MAXIMUM SUPPORTED SENSE DATA LENGTH: the sense a command keeps. */
static size_t vpd_extended_inquiry(const struct scst_device *dev, uint8_t *d)
{
	enum scst_write_cache cache = SCST_WRITE_CACHE_NONE;

	if (dev->handler->write_cache)
		cache = dev->handler->write_cache(dev);
	memset(d + 4, 0, 60);
	d[5] = 0x04 | 0x02 | 0x01; /* HEADSUP, ORDSUP, SIMPSUP */
	if (cache == SCST_WRITE_CACHE_VOLATILE)
		d[6] |= 0x01; /* V_SUP */
	else if (cache == SCST_WRITE_CACHE_NON_VOLATILE)
		d[6] |= 0x02; /* NV_SUP */
	d[13] = SCSI_SENSE_BUFFERSIZE;
	return 64;
}

void scst_inquiry_exec(struct scst_cmd *cmd)
{
	uint8_t d[512];
	size_t n;

	memset(d, 0, sizeof(d));
	if (!(cmd->cdb[1] & INQ_EVPD)) {
		n = standard_inquiry(cmd, d);
	} else if (!cmd->dev) {
		d[0] = peripheral_byte(cmd);
		n = 4;
	} else {
		uint8_t page = cmd->cdb[2];

		switch (page) {
		case 0x00:
			n = vpd_supported_pages(cmd->dev->handler, d);
			n = vpd_list_copy_page(cmd, d, n);
			break;
		case 0x80:
			n = vpd_unit_serial(cmd->dev, d);
			break;
		case 0x83:
			n = vpd_device_identification(cmd, d);
			break;
		case 0x86:
			n = vpd_extended_inquiry(cmd->dev, d);
			break;
		case VPD_THIRD_PARTY_COPY:
			if (!scst_copy_available(cmd->tgt_dev))
				goto no_page;
			n = 4 + scst_copy_vpd_page(cmd->dev, d + 4);
			break;
		default:
			if (handler_has_vpd_page(cmd->dev->handler, page)) {
				n = 4 + cmd->dev->handler->vpd_page(cmd->dev, page, d + 4);
				break;
			}
		no_page:
			scst_set_cmd_error(cmd, scsi_sense_invalid_cdb_field(2, -1));
			scst_cmd_done(cmd);
			return;
		}
		d[0] = peripheral_byte(cmd);
		d[1] = page;
		put_be16(d + 2, (uint16_t)(n - 4));
	}
	scst_cmd_copy_response(cmd, d, n);
	scst_cmd_done(cmd);
}
