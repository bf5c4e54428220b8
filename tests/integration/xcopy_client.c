/* The copy manager from libiscsi's C API (xcopy.sh starts the uscstd and
 * gives the portal, the targets and one scenario):
 *
 *   copy         EXTENDED COPY(LID1) between LUNs of one session:
 *                fileio -> fileio (0x02 and 0x0A segments, data read back
 *                and the blocks around left alone), fileio -> nullio,
 *                nullio -> fileio, an overlapping copy within one LUN,
 *                the command sent to a LUN that is neither side; COPY
 *                STATUS of a held list identifier; VPD 0x00 and 0x8F
 *   masking      a CSCD descriptor that designates another target's LUN,
 *                or a LUN of a group the session is not in, reaches
 *                nothing (COPY ABORTED, COPY TARGET DEVICE NOT REACHABLE)
 *                and that LUN is not written; the T10 vendor ID
 *                designator resolves as the NAA one does
 *   reservation  another initiator's Write Exclusive reservation of the
 *                destination: RESERVATION CONFLICT, nothing written;
 *                reading the reserved LUN as the source is allowed; the
 *                holder copies; a read-only destination: COPY ABORTED
 *   badlist      every kind of malformed parameter list gets its exact
 *                sense (and field pointer) and writes nothing; FAILED
 *                SEGMENT DETAILS and OPERATING PARAMETERS
 *   reset        a LUN RESET of the destination (fileio, nullio) or a
 *                CLEAR TASK SET by another initiator ends a running copy
 *                with COPY ABORTED every time; a copying session's
 *                connection dropped mid-copy; a new login works; a held
 *                result goes with its session (logout, login: no such
 *                list)
 *   lid4         EXTENDED COPY(LID4) read back, RECEIVE COPY STATUS(LID4)
 *                of a good and a failed copy, malformed LID4 headers
 *   target_sense a copy target's CHECK CONDITION (a read-only destination,
 *                an ejected source) ends the copy with COPY ABORTED, THIRD
 *                PARTY DEVICE FAILURE carrying the segment number, a
 *                segment pointer at the CSCD descriptor and the target's
 *                status and sense: every byte checked, fixed and
 *                descriptor format (D_SENSE of either LUN), and as
 *                FAILED SEGMENT DETAILS has it
 *   offsets      0x0A segments with byte offsets and byte counts of no
 *                whole blocks, between the 512- and the 4096-byte LUNs
 *                and within one LUN (overlapping both ways), one of 3 MiB
 *                (chunks on both lanes): every byte of the destination
 *                around and inside the copied range read back; offsets
 *                at or beyond their block's end refused
 *   offsets_race 200 0x0A copies with partial destination blocks (512- and
 *                4096-byte LUNs) while B's WRITEs of one of those blocks
 *                run in a tight loop: after each, the block's kept bytes
 *                are B's last WRITE (no update lost to the copy's
 *                read-modify-write), its copied bytes the source's, the
 *                other partial block as it was (xcopy.sh: some of the
 *                copy's COMPARE AND WRITEs miscompared and were redone)
 *   odx          POPULATE TOKEN / WRITE USING TOKEN / RECEIVE ROD TOKEN
 *                INFORMATION (copy_odx.c): round trips read back (two
 *                LUNs, one LUN, OFFSET INTO ROD, a partial transfer),
 *                the zero ROD token, revocation by another session's
 *                overlapping WRITE (not by a non-overlapping one), an
 *                expired token, DEL_TKN, masking, malformed lists
 *   odx_life     a token outlives the session that made it (logout,
 *                connection dropped, reinstatement) and works from
 *                another; the session's RECEIVE ROD TOKEN INFORMATION
 *                records go with it; 1000 POPULATE TOKENs of one session
 *                keep its 256 newest records and leave another's alone;
 *                revoked tokens free their device's places (64)
 *   odx_zero_thin the block device zero ROD token deallocates on a thin
 *                LUN (the backing file's st_blocks drop) and writes
 *                zeros on a thick one (st_blocks stay); both read zeros
 *   odx_resize   tokens revoked (TOKEN REVOKED) by a shrink beyond their
 *                blocks (device.resync_size; one within the new end
 *                still works), an eject (device.eject, START STOP UNIT)
 *                and FORMAT UNIT
 *   immed        EXTENDED COPY(LID4) with IMMED: GOOD before the copy ends
 *                (RECEIVE COPY STATUS(LID4) 12h), polled until 01h, the
 *                data read back; OPERATION IN PROGRESS meanwhile; an IMMED
 *                list that cannot be done fails at once; RECEIVE COPY
 *                DATA(LID4); REPORT SUPPORTED OPERATION CODES and VPD 0x8F
 *                list 83h/1Ch and 84h/06h; the session logs out while a
 *                background copy runs: it stops
 *   abort_op     COPY OPERATION ABORT of a background and of a foreground
 *                copy: 60h, nothing written beyond TRANSFER COUNT; unknown,
 *                ended and another nexus's list ids
 *   preempt      another initiator's PREEMPT AND ABORT of the copying
 *                nexus's key at the destination stops its foreground and
 *                its background copy, nothing written after
 *   odx_overlap  WRITE USING TOKEN onto its own token's blocks: the
 *                destination above, below, in place, two pieces that must
 *                run in reverse; LUN 0's file holds the point-in-time copy
 *                and the token is revoked after (TOKEN REVOKED); a swap of
 *                two extents is refused (5/55/03) and writes nothing;
 *                another command's write into the token's blocks revokes
 *                a running copy, to another LUN or onto its own blocks
 *   odx_abort    ABORT TASK of a running WRITE USING TOKEN: answered at
 *                once, RRTI 60h, the list id, token and LUNs usable after
 *   odx_immed    WRITE USING TOKEN with IMMED: RRTI 12h, then 01h, the data
 *                read back; stopped by COPY OPERATION ABORT: 60h, nothing
 *                beyond its TRANSFER COUNT; POPULATE TOKEN with IMMED
 *   immed_tmf    a background copy stopped (60h, nothing beyond its
 *                TRANSFER COUNT) by another's LUN RESET, its own ABORT
 *                TASK SET and I_T NEXUS RESET; its connection dropped
 *                (these five write target 1's LUN 10, a 2 GiB fileio LUN)
 *   cfr          fileio -> fileio copies inside the kernel (copy_file_range):
 *                64 MiB by EXTENDED COPY and by WRITE USING TOKEN, 8 MiB to
 *                a write-through LUN, each destination file equal to the
 *                source's bytes and the blocks around left alone; under
 *                another's Exclusive Access reservation of the source the
 *                copy gets RESERVATION CONFLICT (its probe READ) and
 *                writes nothing; 8 MiB
 *                to an O_DIRECT LUN and 16 MiB + 1 MiB to one on tmpfs
 *                (EXDEV): the same data by READ and WRITE (xcopy.sh checks
 *                which path wrote what in the state dump and the log)
 *   cfr_caw      20 in-kernel EXTENDED COPYs of 8 MiB while another session's
 *                COMPARE AND WRITEs flip 32 of the copied blocks: all GOOD,
 *                no copy with half of one (xcopy.sh: the dump shows chunks
 *                that met a queued COMPARE AND WRITE read and written)
 *   abort        a long copy (nullio -> nullio, 31.5 GiB) is aborted by
 *                ABORT TASK while it runs: the TMF completes at once, the
 *                copy ended with errors after a fraction of its segments;
 *                meanwhile a second copy with its list identifier got
 *                OPERATION IN PROGRESS
 *
 * LUNs of target 1 (xcopy.sh): 0 src (fileio), 1 dst (fileio), 2 and 3
 * big nullio, 4 a read-only LUN; a named group of target 1 maps another
 * device for the viewer initiator only; target 2 has a LUN of its own,
 * src again, and for the odx_ scenarios a thin LUN, one to shrink and a
 * removable one (LUN2_* below). The odx_ scenarios read the backing
 * files in $XCOPY_WORKDIR and call management on $XCOPY_RPC_SOCKET. */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "pr_client.h"

#define BS 512
#define INI1 "iqn.2026-12.test:xcopy-a"
#define INI2 "iqn.2026-12.test:xcopy-b"
#define VIEWER "iqn.2026-12.test:xcopy-viewer"

enum { LUN_SRC = 0, LUN_DST = 1, LUN_NULL_A = 2, LUN_NULL_B = 3, LUN_RO = 4, LUN_BIG = 5 };

static const char *t1, *t2;

/* ---- commands to any LUN (send_lun_cdb, pr_client.c) ---- */

static void put16(uint8_t *p, uint16_t v) { p[0] = v >> 8; p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v) { put16(p, v >> 16); put16(p + 2, (uint16_t)v); }
static void put64(uint8_t *p, uint64_t v) { put32(p, v >> 32); put32(p + 4, (uint32_t)v); }

/* The byte @i of block @lba in pattern @seed: every block differs. */
static uint8_t pattern(uint8_t seed, uint64_t lba, unsigned i)
{
	return (uint8_t)(seed ^ (lba * 131) ^ (i * 7) ^ (i >> 8));
}

/* WRITE(16) of @nblocks: @seed's pattern, or @fill everywhere when
 * @seed is 0. */
static bool write_blocks(struct nexus *n, int lun, uint64_t lba, uint32_t nblocks, uint8_t seed,
			 uint8_t fill)
{
	size_t len = (size_t)nblocks * BS;
	uint8_t *buf = malloc(len), cdb[16] = { 0x8a };
	struct result r;

	for (size_t i = 0; i < len; i++)
		buf[i] = seed ? pattern(seed, lba + i / BS, i % BS) : fill;
	put64(cdb + 2, lba);
	put32(cdb + 10, nblocks);
	send_lun_cdb(n, lun, cdb, 16, SCSI_XFER_WRITE, buf, (int)len, 0, &r);
	free(buf);
	if (r.status != SCSI_STATUS_GOOD)
		pr_check(false, "%s: WRITE(16) of LUN %d LBA %llu: %s", n->label, lun,
			 (unsigned long long)lba, describe(&r));
	return r.status == SCSI_STATUS_GOOD;
}

/* Whether @nblocks from @lba read back as @seed's pattern taken from
 * @seed_lba on (or @fill everywhere when @seed is 0), at most 16 blocks
 * per READ. */
static bool blocks_are(struct nexus *n, int lun, uint64_t lba, uint32_t nblocks, uint8_t seed,
		       uint64_t seed_lba, uint8_t fill)
{
	struct result r;

	for (uint32_t done = 0; done < nblocks;) {
		uint32_t k = nblocks - done < 16 ? nblocks - done : 16;
		uint8_t cdb[16] = { 0x88 };

		put64(cdb + 2, lba + done);
		put32(cdb + 10, k);
		send_lun_cdb(n, lun, cdb, 16, SCSI_XFER_READ, NULL, 0, (int)k * BS, &r);
		if (r.status != SCSI_STATUS_GOOD || r.len != (int)k * BS)
			return false;
		for (unsigned i = 0; i < k * BS; i++) {
			uint8_t want = seed ? pattern(seed, seed_lba + done + i / BS, i % BS) : fill;

			if (r.data[i] != want)
				return false;
		}
		done += k;
	}
	return true;
}

/* The LU designators of VPD page 0x83: the NAA one (8 bytes) and the
 * whole T10 vendor ID designation descriptor (header included). */
struct lu_ids {
	uint8_t naa[8];
	uint8_t t10[4 + 64];
	int t10_len;
};

static bool lu_ids(struct nexus *n, int lun, struct lu_ids *ids)
{
	uint8_t cdb[6] = { 0x12, 0x01, 0x83, 0x01, 0x00, 0x00 };
	struct result r;
	bool naa = false;

	memset(ids, 0, sizeof(*ids));
	send_lun_cdb(n, lun, cdb, 6, SCSI_XFER_READ, NULL, 0, 256, &r);
	if (r.status != SCSI_STATUS_GOOD || r.len < 4)
		return false;
	for (int off = 4; off + 4 <= r.len; off += 4 + r.data[off + 3]) {
		const uint8_t *d = r.data + off;
		int assoc = (d[1] >> 4) & 3, type = d[1] & 0xf;

		if (assoc != 0)
			continue;
		if (type == 3 && d[3] == 8) {
			memcpy(ids->naa, d + 4, 8);
			naa = true;
		} else if (type == 1 && d[3] <= 20) {
			ids->t10_len = 4 + d[3];
			memcpy(ids->t10, d, (size_t)ids->t10_len);
		}
	}
	return naa;
}

/* ---- parameter lists ---- */

#define HDR 16
#define CSCD 32
#define SEG02 28
#define SEG0A 32

static void header(uint8_t *p, uint8_t list_id, int usage, unsigned cscd_len, unsigned seg_len,
		   unsigned inline_len)
{
	memset(p, 0, HDR);
	p[0] = list_id;
	p[1] = (uint8_t)(usage << 3);
	put16(p + 2, (uint16_t)cscd_len);
	put32(p + 8, seg_len);
	put32(p + 12, inline_len);
}

/* An Identification CSCD descriptor with the NAA designator @naa. */
static void cscd_naa(uint8_t *d, const uint8_t naa[8], uint32_t block_len)
{
	memset(d, 0, CSCD);
	d[0] = 0xe4;
	d[4] = 0x01; /* binary */
	d[5] = 0x03; /* LU, NAA */
	d[7] = 8;
	memcpy(d + 8, naa, 8);
	d[29] = (uint8_t)(block_len >> 16);
	d[30] = (uint8_t)(block_len >> 8);
	d[31] = (uint8_t)block_len;
}

static void cscd_t10(uint8_t *d, const struct lu_ids *ids)
{
	memset(d, 0, CSCD);
	d[0] = 0xe4;
	memcpy(d + 4, ids->t10, (size_t)ids->t10_len);
	d[30] = BS >> 8;
}

static void seg02(uint8_t *d, uint16_t src, uint16_t dst, uint16_t nblocks, uint64_t src_lba,
		  uint64_t dst_lba)
{
	memset(d, 0, SEG02);
	d[0] = 0x02;
	put16(d + 2, 0x18);
	put16(d + 4, src);
	put16(d + 6, dst);
	put16(d + 10, nblocks);
	put64(d + 12, src_lba);
	put64(d + 20, dst_lba);
}

static void seg0a(uint8_t *d, uint16_t src, uint16_t dst, uint32_t nbytes, uint64_t src_lba,
		  uint64_t dst_lba)
{
	memset(d, 0, SEG0A);
	d[0] = 0x0a;
	put16(d + 2, 0x1c);
	put16(d + 4, src);
	put16(d + 6, dst);
	put32(d + 8, nbytes);
	put64(d + 12, src_lba);
	put64(d + 20, dst_lba);
}

static void ecopy_cdb(uint8_t *cdb, uint32_t pll)
{
	memset(cdb, 0, 16);
	cdb[0] = 0x83;
	cdb[1] = 0x00; /* LID1 */
	put32(cdb + 10, pll);
}

static void ecopy(struct nexus *n, int lun, const uint8_t *list, unsigned len, struct result *r)
{
	uint8_t cdb[16];

	ecopy_cdb(cdb, len);
	send_lun_cdb(n, lun, cdb, 16, len ? SCSI_XFER_WRITE : SCSI_XFER_NONE, list, (int)len, 0, r);
}

static void rcr_cdb(uint8_t *cdb, int sa, uint8_t list_id)
{
	memset(cdb, 0, 16);
	cdb[0] = 0x84;
	cdb[1] = (uint8_t)sa;
	cdb[2] = list_id;
	put32(cdb + 10, 1024);
}

static void rcr(struct nexus *n, int lun, int sa, uint8_t list_id, struct result *r)
{
	uint8_t cdb[16];

	rcr_cdb(cdb, sa, list_id);
	send_lun_cdb(n, lun, cdb, 16, SCSI_XFER_READ, NULL, 0, 1024, r);
}

/* A list with the two CSCD descriptors @a (index 0) and @b (index 1) and
 * one 0x02 segment; returns its length. */
static unsigned one_segment(uint8_t *p, uint8_t list_id, int usage, const uint8_t a[8],
			    const uint8_t b[8], uint16_t nblocks, uint64_t src_lba,
			    uint64_t dst_lba)
{
	header(p, list_id, usage, 2 * CSCD, SEG02, 0);
	cscd_naa(p + HDR, a, BS);
	cscd_naa(p + HDR + CSCD, b, BS);
	seg02(p + HDR + 2 * CSCD, 0, 1, nblocks, src_lba, dst_lba);
	return HDR + 2 * CSCD + SEG02;
}

static struct nexus a, b, viewer;
static struct lu_ids id_src, id_dst, id_null_a, id_null_b, id_ro, id_big;

/* TEST UNIT READY on LUNs 0..@nluns-1 until GOOD: a new nexus has a
 * POWER ON on each (nexus_login() collects LUN 0's only). */
static void collect_all_uas(struct nexus *n, int nluns)
{
	uint8_t cdb[6] = { 0 };
	struct result r;

	for (int lun = 0; lun < nluns; lun++) {
		for (int i = 0; i < 16; i++) {
			send_lun_cdb(n, lun, cdb, 6, SCSI_XFER_NONE, NULL, 0, 0, &r);
			if (r.status != SCSI_STATUS_CHECK_CONDITION || r.sense_key != 6)
				break;
		}
	}
}

static bool login_all(void)
{
	if (!nexus_login(&a, "A", INI1, t1, 1, 0x11, 1) || !nexus_login(&b, "B", INI2, t1, 1, 0x22, 1))
		return false;
	collect_all_uas(&a, 6);
	collect_all_uas(&b, 6);
	if (!lu_ids(&a, LUN_SRC, &id_src) || !lu_ids(&a, LUN_DST, &id_dst) ||
	    !lu_ids(&a, LUN_NULL_A, &id_null_a) || !lu_ids(&a, LUN_NULL_B, &id_null_b) ||
	    !lu_ids(&a, LUN_RO, &id_ro) || !lu_ids(&a, LUN_BIG, &id_big)) {
		pr_check(false, "VPD page 0x83 of each LUN has an NAA designator");
		return false;
	}
	return true;
}

/* ---- scenarios ---- */

static void scenario_copy(void)
{
	uint8_t list[512];
	struct result r;
	unsigned len;

	/* The source: 4096 patterned blocks; the destination: 0xEE. */
	write_blocks(&a, LUN_SRC, 0, 4096, 0x5c, 0);
	write_blocks(&a, LUN_DST, 0, 4400, 0, 0xee);

	/* Two segments, one of each type, 2 MiB in all: held results. */
	header(list, 7, 0, 2 * CSCD, SEG02 + SEG0A, 0);
	cscd_naa(list + HDR, id_src.naa, BS);
	cscd_naa(list + HDR + CSCD, id_dst.naa, BS);
	seg02(list + HDR + 2 * CSCD, 0, 1, 2048, 0, 100);
	seg0a(list + HDR + 2 * CSCD + SEG02, 0, 1, 2048 * BS, 2048, 100 + 2048);
	len = HDR + 2 * CSCD + SEG02 + SEG0A;
	ecopy(&a, LUN_SRC, list, len, &r);
	expect(&r, "GOOD", "copy LUN 0 blocks 0-4095 to LUN 1 at 100 (segments 0x02 + 0x0A)");
	pr_check(blocks_are(&a, LUN_DST, 100, 4096, 0x5c, 0, 0),
		 "LUN 1 blocks 100-4195 read back as LUN 0's 0-4095");
	pr_check(blocks_are(&a, LUN_DST, 99, 1, 0, 0, 0xee) &&
		 blocks_are(&a, LUN_DST, 4196, 1, 0, 0, 0xee),
		 "LUN 1 blocks 99 and 4196 (around the copy) are untouched");

	rcr(&a, LUN_SRC, 0x00, 7, &r);
	if (expect(&r, "GOOD", "COPY STATUS of list id 7") && r.len >= 12)
		pr_check(r.data[4] == 0x01 && be16(r.data + 5) == 2 && r.data[7] == 0x01 &&
				 be32(r.data + 8) == 2048,
			 "COPY STATUS: status %02x (01 done), %u segments (2), %u KiB in units %u (2048 KiB)",
			 r.data[4], be16(r.data + 5), be32(r.data + 8), r.data[7]);
	rcr(&a, LUN_SRC, 0x00, 7, &r);
	expect(&r, "CHECK CONDITION 5/24/00",
	       "COPY STATUS of list id 7 again (reported once: forgotten)");

	/* fileio -> nullio, and nullio (zeros) -> fileio. */
	len = one_segment(list, 8, 2, id_src.naa, id_null_a.naa, 4096, 0, 1000000);
	ecopy(&a, LUN_SRC, list, len, &r);
	expect(&r, "GOOD", "copy fileio LUN 0 to nullio LUN 2");
	write_blocks(&a, LUN_DST, 5000, 10, 0, 0x77);
	len = one_segment(list, 9, 2, id_null_a.naa, id_dst.naa, 10, 0, 5000);
	ecopy(&a, LUN_SRC, list, len, &r);
	expect(&r, "GOOD", "copy nullio LUN 2 to fileio LUN 1 at 5000");
	pr_check(blocks_are(&a, LUN_DST, 5000, 10, 0, 0, 0x00),
		 "LUN 1 blocks 5000-5009 are nullio's zeros now");

	/* Within one LUN, overlapping, the destination above: 3000 blocks
	 * (two chunks) from 0 to 1000. */
	write_blocks(&a, LUN_SRC, 0, 4096, 0x5c, 0);
	len = one_segment(list, 10, 2, id_src.naa, id_src.naa, 3000, 0, 1000);
	ecopy(&a, LUN_DST, list, len, &r);
	expect(&r, "GOOD", "overlapping copy within LUN 0, 0-2999 to 1000 (sent to LUN 1)");
	pr_check(blocks_are(&a, LUN_SRC, 1000, 3000, 0x5c, 0, 0),
		 "LUN 0 blocks 1000-3999 read back as the old 0-2999");
	pr_check(blocks_are(&a, LUN_SRC, 0, 1000, 0x5c, 0, 0),
		 "LUN 0 blocks 0-999 are unchanged");

	/* The other way, the destination below: 3000 blocks from 1000 to 0.
	 * Both directions are copied one chunk at a time: in parallel, a
	 * later chunk's write could overtake an earlier chunk's read. */
	write_blocks(&a, LUN_SRC, 0, 4096, 0x3a, 0);
	len = one_segment(list, 12, 2, id_src.naa, id_src.naa, 3000, 1000, 0);
	ecopy(&a, LUN_SRC, list, len, &r);
	expect(&r, "GOOD", "overlapping copy within LUN 0, 1000-3999 to 0");
	pr_check(blocks_are(&a, LUN_SRC, 0, 3000, 0x3a, 1000, 0),
		 "LUN 0 blocks 0-2999 read back as the old 1000-3999");
	pr_check(blocks_are(&a, LUN_SRC, 3000, 1096, 0x3a, 3000, 0),
		 "LUN 0 blocks 3000-4095 are unchanged");

	/* Between block sizes: 8 blocks of the 4096-byte LUN 5 (DC 1: the
	 * count is in destination blocks) are 64 of LUN 0's; 3 source
	 * blocks are not a whole destination block. */
	write_blocks(&a, LUN_SRC, 0, 64, 0x27, 0);
	header(list, 11, 2, 2 * CSCD, SEG02, 0);
	cscd_naa(list + HDR, id_src.naa, BS);
	cscd_naa(list + HDR + CSCD, id_big.naa, 4096);
	seg02(list + HDR + 2 * CSCD, 0, 1, 8, 0, 10);
	list[HDR + 2 * CSCD + 1] = 0x02; /* DC */
	ecopy(&a, LUN_SRC, list, HDR + 2 * CSCD + SEG02, &r);
	expect(&r, "GOOD", "copy 64 512-byte blocks of LUN 0 to 8 4096-byte blocks of LUN 5 at 10");
	{
		bool same = true;

		/* Four 4096-byte blocks per READ: what a result holds. */
		for (int half = 0; same && half < 2; half++) {
			uint8_t cdb[16] = { 0x88 };

			put64(cdb + 2, 10 + 4 * (uint64_t)half);
			put32(cdb + 10, 4);
			send_lun_cdb(&a, LUN_BIG, cdb, 16, SCSI_XFER_READ, NULL, 0, 4 * 4096, &r);
			same = r.status == SCSI_STATUS_GOOD && r.len == 4 * 4096;
			for (int i = 0; same && i < 4 * 4096; i++) {
				int at = half * 4 * 4096 + i;

				same = r.data[i] == pattern(0x27, (uint64_t)at / BS, at % BS);
			}
		}
		pr_check(same, "LUN 5 blocks 10-17 read back as LUN 0's 0-63");
	}
	seg02(list + HDR + 2 * CSCD, 0, 1, 3, 0, 10);
	ecopy(&a, LUN_SRC, list, HDR + 2 * CSCD + SEG02, &r);
	if (expect(&r, "CHECK CONDITION 5/26/0D",
		   "3 blocks of 512 bytes to a 4096-byte LUN (COPY SEGMENT GRANULARITY VIOLATION)"))
		expect_pointer(&r, false, HDR + 2 * CSCD + 10, -1, "the number of blocks");
	cscd_naa(list + HDR + CSCD, id_big.naa, BS);
	seg02(list + HDR + 2 * CSCD, 0, 1, 8, 0, 10);
	ecopy(&a, LUN_SRC, list, HDR + 2 * CSCD + SEG02, &r);
	if (expect(&r, "CHECK CONDITION 5/26/00", "DISK BLOCK LENGTH 512 for the 4096-byte LUN 5"))
		expect_pointer(&r, false, HDR + CSCD + 29, -1, "DISK BLOCK LENGTH");

	/* Parameter list length 0: nothing to do. */
	ecopy(&a, LUN_SRC, NULL, 0, &r);
	expect(&r, "GOOD", "EXTENDED COPY with parameter list length 0");

	/* REPORT SUPPORTED OPERATION CODES, one command with its service
	 * action (reporting options 010b): SUPPORT 011b for the LID1,
	 * LID4 and ROD token forms served. */
	{
		static const struct { uint8_t op, sa, support; } rows[] = {
			{ 0x83, 0x00, 3 }, { 0x84, 0x00, 3 }, { 0x84, 0x03, 3 },
			{ 0x84, 0x04, 3 }, { 0x83, 0x01, 3 }, { 0x84, 0x05, 3 },
			{ 0x83, 0x10, 3 }, { 0x83, 0x11, 3 }, { 0x84, 0x07, 3 },
		};

		for (unsigned i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
			uint8_t cdb[12] = { 0xa3, 0x0c, 0x02, rows[i].op, 0, rows[i].sa, 0, 0, 1, 0 };

			send_lun_cdb(&a, LUN_SRC, cdb, 12, SCSI_XFER_READ, NULL, 0, 256, &r);
			pr_check(r.status == SCSI_STATUS_GOOD && r.len >= 2 &&
					 (r.data[1] & 7) == rows[i].support,
				 "REPORT SUPPORTED OPERATION CODES %02x/%02x: %s, SUPPORT %d (%d)",
				 rows[i].op, rows[i].sa, describe(&r), r.len >= 2 ? r.data[1] & 7 : -1,
				 rows[i].support);
		}
	}

	/* VPD page 0x00 lists 0x8F; page 0x8F has its descriptors. */
	{
		uint8_t cdb[6] = { 0x12, 0x01, 0x00, 0x00, 0xff, 0x00 };
		bool listed = false, commands = false;

		send_lun_cdb(&a, LUN_SRC, cdb, 6, SCSI_XFER_READ, NULL, 0, 255, &r);
		for (int i = 4; r.status == SCSI_STATUS_GOOD && i < r.len; i++)
			listed |= r.data[i] == 0x8f;
		pr_check(listed, "VPD page 0x00 lists page 0x8F");
		cdb[2] = 0x8f;
		cdb[3] = 0x01;
		cdb[4] = 0x00;
		send_lun_cdb(&a, LUN_SRC, cdb, 6, SCSI_XFER_READ, NULL, 0, 256, &r);
		for (int off = 4; r.status == SCSI_STATUS_GOOD && off + 4 <= r.len;
		     off += 4 + be16(r.data + off + 2))
			commands |= be16(r.data + off) == 0x0001 && r.data[off + 5] == 0x83;
		pr_check(r.status == SCSI_STATUS_GOOD && r.data[1] == 0x8f && commands,
			 "VPD page 0x8F has a Supported Commands descriptor with EXTENDED COPY");
	}
}

static void scenario_masking(void)
{
	struct nexus other;
	struct lu_ids id_other, id_hidden;
	uint8_t list[512];
	struct result r;
	unsigned len;

	/* Target 2's LUN, seen through a session of the same initiator
	 * there; and the group's LUN, seen by the viewer only. */
	if (!nexus_login(&other, "A@t2", INI1, t2, 2, 0x33, 1) ||
	    !nexus_login(&viewer, "V", VIEWER, t1, 1, 0x44, 1))
		return;
	if (!lu_ids(&other, 0, &id_other) || !lu_ids(&viewer, 0, &id_hidden)) {
		pr_check(false, "the other target's and the group's LUNs have NAA designators");
		return;
	}
	write_blocks(&other, 0, 0, 64, 0, 0x5a);
	write_blocks(&viewer, 0, 0, 64, 0, 0x5b);
	write_blocks(&a, LUN_SRC, 0, 64, 0x31, 0);

	len = one_segment(list, 1, 2, id_src.naa, id_other.naa, 64, 0, 0);
	ecopy(&a, LUN_SRC, list, len, &r);
	expect(&r, "CHECK CONDITION A/0D/02", "copy to target 2's LUN from a target 1 session");
	expect_pointer(&r, false, HDR + CSCD, -1, "the unreachable CSCD descriptor");
	pr_check(blocks_are(&other, 0, 0, 64, 0, 0, 0x5a), "target 2's LUN is not written");

	len = one_segment(list, 2, 2, id_src.naa, id_hidden.naa, 64, 0, 0);
	ecopy(&a, LUN_SRC, list, len, &r);
	expect(&r, "CHECK CONDITION A/0D/02",
	       "copy to a LUN of a group the session is not in");
	pr_check(blocks_are(&viewer, 0, 0, 64, 0, 0, 0x5b), "the group's LUN is not written");

	/* The other way round: the hidden LUN as the source. */
	len = one_segment(list, 3, 2, id_hidden.naa, id_dst.naa, 64, 0, 0);
	write_blocks(&a, LUN_DST, 0, 64, 0, 0xe1);
	ecopy(&a, LUN_SRC, list, len, &r);
	expect(&r, "CHECK CONDITION A/0D/02", "copy from a LUN of a group the session is not in");
	pr_check(blocks_are(&a, LUN_DST, 0, 64, 0, 0, 0xe1), "the destination is not written");

	/* The T10 vendor ID designator names the LUN as well as the NAA. */
	if (id_dst.t10_len) {
		header(list, 4, 2, 2 * CSCD, SEG02, 0);
		cscd_naa(list + HDR, id_src.naa, BS);
		cscd_t10(list + HDR + CSCD, &id_dst);
		seg02(list + HDR + 2 * CSCD, 0, 1, 64, 0, 0);
		ecopy(&a, LUN_SRC, list, HDR + 2 * CSCD + SEG02, &r);
		expect(&r, "GOOD", "copy to LUN 1 named by its T10 vendor ID designator");
		pr_check(blocks_are(&a, LUN_DST, 0, 64, 0x31, 0, 0), "LUN 1 has the copy");
	} else {
		pr_check(false, "LUN 1 has a T10 vendor ID designator of at most 20 bytes");
	}
	nexus_logout(&other);
	nexus_logout(&viewer);
}

static void prout_lun(struct nexus *n, int lun, int sa, int type, uint64_t key, uint64_t sark,
		      struct result *r)
{
	uint8_t cdb[10] = { 0x5f, (uint8_t)sa, (uint8_t)type, 0, 0, 0, 0, 0, 24, 0 };
	uint8_t p[24] = { 0 };

	put64(p, key);
	put64(p + 8, sark);
	send_lun_cdb(n, lun, cdb, 10, SCSI_XFER_WRITE, p, 24, 0, r);
}

static void scenario_reservation(void)
{
	uint8_t list[512];
	struct result r;
	unsigned len;

	write_blocks(&a, LUN_SRC, 0, 64, 0x42, 0);
	write_blocks(&a, LUN_DST, 0, 64, 0, 0xd0);
	prout_lun(&b, LUN_DST, PRO_REGISTER, 0, 0, 0xb0b, &r);
	expect(&r, "GOOD", "B registers at LUN 1");
	prout_lun(&b, LUN_DST, PRO_RESERVE, WE, 0xb0b, 0, &r);
	expect(&r, "GOOD", "B reserves LUN 1 Write Exclusive");

	len = one_segment(list, 1, 2, id_src.naa, id_dst.naa, 64, 0, 0);
	ecopy(&a, LUN_SRC, list, len, &r);
	expect(&r, "RESERVATION CONFLICT", "A copies LUN 0 to B's reserved LUN 1");
	pr_check(blocks_are(&b, LUN_DST, 0, 64, 0, 0, 0xd0), "LUN 1 is not written");

	len = one_segment(list, 2, 2, id_dst.naa, id_src.naa, 64, 0, 100);
	ecopy(&a, LUN_SRC, list, len, &r);
	expect(&r, "GOOD", "A copies from B's reserved LUN 1 (reads are allowed under WE)");
	pr_check(blocks_are(&a, LUN_SRC, 100, 64, 0, 0, 0xd0), "LUN 0 at 100 has LUN 1's data");

	len = one_segment(list, 3, 2, id_src.naa, id_dst.naa, 64, 0, 0);
	ecopy(&b, LUN_SRC, list, len, &r);
	expect(&r, "GOOD", "B, the holder, copies LUN 0 to LUN 1");
	pr_check(blocks_are(&b, LUN_DST, 0, 64, 0x42, 0, 0), "LUN 1 has LUN 0's data");

	prout_lun(&b, LUN_DST, PRO_CLEAR, 0, 0xb0b, 0, &r);
	expect(&r, "GOOD", "B clears LUN 1's reservation");
	ecopy(&a, LUN_SRC, list, len, &r);
	expect(&r, "GOOD", "A copies LUN 0 to LUN 1 once the reservation is gone");

	/* A read-only LUN as the destination: its WRITE gets DATA PROTECT,
	 * the copy COPY ABORTED / THIRD PARTY DEVICE FAILURE. */
	len = one_segment(list, 4, 2, id_src.naa, id_ro.naa, 64, 0, 0);
	ecopy(&a, LUN_SRC, list, len, &r);
	expect(&r, "CHECK CONDITION A/0D/01", "copy to the read-only LUN 4");
	len = one_segment(list, 5, 2, id_ro.naa, id_dst.naa, 8, 0, 0);
	ecopy(&a, LUN_SRC, list, len, &r);
	expect(&r, "GOOD", "copy from the read-only LUN 4");
}

/* One malformed list: @what, the sense it must get and the field
 * pointer (@field < 0: none checked). */
static void bad(const char *what, const uint8_t *list, unsigned len, const char *want, int field,
		int bit)
{
	struct result r;

	ecopy(&a, LUN_SRC, list, len, &r);
	if (expect(&r, want, "%s", what) && field >= 0)
		expect_pointer(&r, false, (unsigned)field, bit, what);
}

static void scenario_badlist(void)
{
	uint8_t base[HDR + 2 * CSCD + SEG0A], l[HDR + 17 * CSCD + 129 * SEG02 + 64];
	uint8_t cdb[16], junk[8] = { 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0 };
	const unsigned seg = HDR + 2 * CSCD, n = HDR + 2 * CSCD + SEG02;
	struct result r;

	write_blocks(&a, LUN_DST, 0, 64, 0, 0xc3);
	one_segment(base, 0x20, 0, id_src.naa, id_dst.naa, 32, 0, 0);

#define FROM_BASE() memcpy(l, base, sizeof(base))
	FROM_BASE();
	bad("parameter list length 8", l, 8, "CHECK CONDITION 5/1A/00", -1, -1);
	bad("lists longer than the parameter list", l, HDR + CSCD, "CHECK CONDITION 5/1A/00", -1,
	    -1);
	FROM_BASE();
	l[1] = 0x08;
	bad("LIST ID USAGE 01b", l, n, "CHECK CONDITION 5/26/00", 1, 4);
	FROM_BASE();
	l[1] = 0x18;
	bad("LIST ID USAGE 11b with a list identifier", l, n, "CHECK CONDITION 5/26/00", 0, -1);
	FROM_BASE();
	l[1] = 0x40;
	bad("reserved bit in header byte 1", l, n, "CHECK CONDITION 5/26/00", 1, 7);
	FROM_BASE();
	l[5] = 1;
	bad("reserved header byte 5", l, n, "CHECK CONDITION 5/26/00", 4, -1);
	FROM_BASE();
	put32(l + 12, 8);
	memcpy(l + n, junk, 8);
	bad("inline data", l, n + 8, "CHECK CONDITION 5/26/0B", -1, -1);
	FROM_BASE();
	header(l, 0x20, 0, 2 * CSCD + 8, SEG02, 0);
	bad("CSCD list length not a multiple of 32", l, n + 8, "CHECK CONDITION 5/26/00", 2, -1);

	header(l, 0x20, 0, 17 * CSCD, SEG02, 0);
	for (int i = 0; i < 17; i++)
		cscd_naa(l + HDR + i * CSCD, id_src.naa, BS);
	seg02(l + HDR + 17 * CSCD, 0, 1, 32, 0, 0);
	bad("17 CSCD descriptors", l, HDR + 17 * CSCD + SEG02, "CHECK CONDITION 5/26/06", -1, -1);

	FROM_BASE();
	l[HDR + CSCD] = 0xe0;
	bad("CSCD descriptor type 0xE0 (FC N_Port_Name)", l, n, "CHECK CONDITION 5/26/07",
	    HDR + CSCD, -1);
	FROM_BASE();
	l[HDR + 1] = 0x01;
	bad("CSCD descriptor of a sequential-access device", l, n, "CHECK CONDITION 5/26/00",
	    HDR + 1, 4);
	FROM_BASE();
	l[HDR + 7] = 21;
	bad("designator length 21", l, n, "CHECK CONDITION 5/26/00", HDR + 7, -1);
	FROM_BASE();
	l[HDR + 28] = 0x01;
	bad("reserved bit in the block device parameters", l, n, "CHECK CONDITION 5/26/00",
	    HDR + 28, -1);
	FROM_BASE();
	l[HDR + CSCD + 30] = 0x10; /* 4096 */
	bad("DISK BLOCK LENGTH 4096 of a 512-byte LUN", l, n, "CHECK CONDITION 5/26/00",
	    HDR + CSCD + 29, -1);
	FROM_BASE();
	memset(l + HDR + 8, 0x99, 8);
	bad("a designator no LUN has", l, n, "CHECK CONDITION A/0D/02", HDR, -1);

	header(l, 0x20, 0, 2 * CSCD, 129 * SEG02, 0);
	cscd_naa(l + HDR, id_src.naa, BS);
	cscd_naa(l + HDR + CSCD, id_dst.naa, BS);
	for (int i = 0; i < 129; i++)
		seg02(l + seg + i * SEG02, 0, 1, 1, 0, 0);
	bad("129 segment descriptors", l, seg + 129 * SEG02, "CHECK CONDITION 5/26/08", -1, -1);

	FROM_BASE();
	l[seg] = 0x03;
	bad("segment type 0x03 (stream to stream)", l, n, "CHECK CONDITION 5/26/09", seg, -1);
	FROM_BASE();
	put16(l + seg + 2, 0x10);
	bad("segment descriptor length 0x10 for type 0x02", l, n, "CHECK CONDITION 5/26/00",
	    seg + 2, -1);
	FROM_BASE();
	l[seg + 1] = 0x80;
	bad("reserved bit in segment byte 1", l, n, "CHECK CONDITION 5/26/00", seg + 1, -1);
	FROM_BASE();
	l[seg + 9] = 1;
	bad("reserved segment byte 9", l, n, "CHECK CONDITION 5/26/00", seg + 8, -1);
	FROM_BASE();
	put32(l + 8, SEG0A);
	seg0a(l + seg, 0, 1, 8 * BS, 0, 0);
	put16(l + seg + 28, BS);
	bad("0x0A segment with SOURCE BYTE OFFSET 512 (the block size)", l, seg + SEG0A,
	    "CHECK CONDITION 5/26/00", seg + 28, -1);
	FROM_BASE();
	put32(l + 8, SEG0A);
	seg0a(l + seg, 0, 1, 1000, 0, 0);
	put16(l + seg + 30, 0xffff);
	bad("0x0A segment with DESTINATION BYTE OFFSET 65535", l, seg + SEG0A,
	    "CHECK CONDITION 5/26/00", seg + 30, -1);
	FROM_BASE();
	put32(l + 8, SEG0A);
	seg0a(l + seg, 0, 1, 1000, (64u << 20) / BS - 1, 0);
	put16(l + seg + 28, 100);
	bad("0x0A segment of 1000 bytes from byte 100 of LUN 0's last block", l, seg + SEG0A,
	    "CHECK CONDITION A/00/00", seg + 12, -1);
	FROM_BASE();
	put32(l + 8, SEG0A);
	seg0a(l + seg, 0, 1, 512u << 20, 0, 0);
	bad("0x0A segment of 512 MiB (more than the maximum segment length)", l, seg + SEG0A,
	    "CHECK CONDITION 5/26/00", seg + 8, -1);
	FROM_BASE();
	put16(l + seg + 4, 5);
	bad("source CSCD index 5 of 2", l, n, "CHECK CONDITION A/00/00", seg + 4, -1);
	FROM_BASE();
	put16(l + seg + 6, 2);
	bad("destination CSCD index 2 of 2", l, n, "CHECK CONDITION A/00/00", seg + 6, -1);
	FROM_BASE();
	put64(l + seg + 12, (64u << 20) / BS - 16);
	bad("source blocks past the end of LUN 0", l, n, "CHECK CONDITION A/00/00", seg + 12, -1);
	FROM_BASE();
	put64(l + seg + 20, ~0ull - 4);
	bad("destination LBA near 2^64 (wraps)", l, n, "CHECK CONDITION A/00/00", seg + 20, -1);

	/* The CDB. */
	FROM_BASE();
	ecopy_cdb(cdb, n);
	cdb[2] = 1;
	send_lun_cdb(&a, LUN_SRC, cdb, 16, SCSI_XFER_WRITE, l, (int)n, 0, &r);
	if (expect(&r, "CHECK CONDITION 5/24/00", "EXTENDED COPY CDB reserved byte 2"))
		expect_pointer(&r, true, 2, -1, "CDB reserved byte 2");
	ecopy_cdb(cdb, 4200);
	memset(l, 0, sizeof(l));
	send_lun_cdb(&a, LUN_SRC, cdb, 16, SCSI_XFER_WRITE, l, 4200, 0, &r);
	expect(&r, "CHECK CONDITION 5/1A/00", "parameter list length 4200 (at most 4112)");

	pr_check(blocks_are(&a, LUN_DST, 0, 64, 0, 0, 0xc3),
		 "LUN 1 is untouched after every malformed list");

	/* A failed copy with held results: FAILED SEGMENT DETAILS has its
	 * status and sense, once. */
	FROM_BASE();
	l[0] = 0x21;
	put64(l + seg + 12, (64u << 20) / BS - 16);
	bad("held copy past the end of LUN 0", l, n, "CHECK CONDITION A/00/00", -1, -1);
	rcr(&a, LUN_SRC, 0x00, 0x21, &r);
	if (expect(&r, "GOOD", "COPY STATUS of the failed list id 0x21") && r.len >= 12)
		pr_check(r.data[4] == 0x02, "COPY STATUS: %02x (02, ended with errors)", r.data[4]);
	rcr(&a, LUN_SRC, 0x04, 0x21, &r);
	if (expect(&r, "GOOD", "FAILED SEGMENT DETAILS of list id 0x21") && r.len >= 62)
		pr_check(r.data[56] == 0x02 && be16(r.data + 58) >= 14 &&
				 (r.data[60] & 0x7f) == 0x70 && (r.data[62] & 0xf) == 0xa,
			 "FAILED SEGMENT DETAILS: status %02x (02), %u bytes of sense, key %X (A)",
			 r.data[56], be16(r.data + 58), r.data[62] & 0xf);
	rcr(&a, LUN_SRC, 0x04, 0x21, &r);
	expect(&r, "CHECK CONDITION 5/24/00", "FAILED SEGMENT DETAILS again (reported: forgotten)");
	rcr(&a, LUN_SRC, 0x00, 0x99, &r);
	if (expect(&r, "CHECK CONDITION 5/24/00", "COPY STATUS of a list id never used"))
		expect_pointer(&r, true, 2, -1, "COPY STATUS of a list id never used");

	rcr(&a, LUN_SRC, 0x03, 0, &r);
	if (expect(&r, "GOOD", "OPERATING PARAMETERS") && r.len >= 47)
		pr_check(be16(r.data + 8) == 16 && be16(r.data + 10) == 128 &&
				 be32(r.data + 12) == 4096 && be32(r.data + 16) == (256u << 20) &&
				 be32(r.data + 20) == 0 && r.data[43] == 3 && r.data[44] == 0x02 &&
				 r.data[45] == 0x0a && r.data[46] == 0xe4,
			 "OPERATING PARAMETERS: %u CSCD, %u segments, %u list bytes, %u segment bytes, "
			 "%u inline, codes %02x %02x %02x",
			 be16(r.data + 8), be16(r.data + 10), be32(r.data + 12), be32(r.data + 16),
			 be32(r.data + 20), r.data[44], r.data[45], r.data[46]);
}

/* ---- LID4 ---- */

#define HDR4 48

/* A LID4 list with the two CSCD descriptors and one 0x02 segment. */
static unsigned lid4_list(uint8_t *p, uint32_t list_id, int usage, const uint8_t a_naa[8],
			  const uint8_t b_naa[8], uint16_t nblocks, uint64_t src_lba,
			  uint64_t dst_lba)
{
	memset(p, 0, HDR4);
	p[0] = 0x01; /* LIST FORMAT */
	p[1] = (uint8_t)(usage << 3);
	put32(p + 20, list_id);
	put16(p + 42, 2 * CSCD);
	put16(p + 44, SEG02);
	cscd_naa(p + HDR4, a_naa, BS);
	cscd_naa(p + HDR4 + CSCD, b_naa, BS);
	seg02(p + HDR4 + 2 * CSCD, 0, 1, nblocks, src_lba, dst_lba);
	return HDR4 + 2 * CSCD + SEG02;
}

static void ecopy4(struct nexus *n, int lun, const uint8_t *list, unsigned len, struct result *r)
{
	uint8_t cdb[16];

	ecopy_cdb(cdb, len);
	cdb[1] = 0x01; /* LID4 */
	send_lun_cdb(n, lun, cdb, 16, len ? SCSI_XFER_WRITE : SCSI_XFER_NONE, list, (int)len, 0, r);
}

static void rcs4(struct nexus *n, int lun, uint32_t list_id, struct result *r)
{
	uint8_t cdb[16];

	rcr_cdb(cdb, 0x05, 0);
	put32(cdb + 2, list_id);
	send_lun_cdb(n, lun, cdb, 16, SCSI_XFER_READ, NULL, 0, 1024, r);
}

static void scenario_lid4(void)
{
	uint8_t list[512];
	struct result r;
	unsigned len;

	write_blocks(&a, LUN_SRC, 0, 3000, 0x6d, 0);
	write_blocks(&a, LUN_DST, 0, 3200, 0, 0xab);
	len = lid4_list(list, 0x01020304, 0, id_src.naa, id_dst.naa, 3000, 0, 100);
	ecopy4(&a, LUN_SRC, list, len, &r);
	expect(&r, "GOOD", "EXTENDED COPY(LID4) of LUN 0 blocks 0-2999 to LUN 1 at 100");
	pr_check(blocks_are(&a, LUN_DST, 100, 3000, 0x6d, 0, 0),
		 "LUN 1 blocks 100-3099 read back as LUN 0's 0-2999");
	pr_check(blocks_are(&a, LUN_DST, 99, 1, 0, 0, 0xab) &&
			 blocks_are(&a, LUN_DST, 3100, 1, 0, 0, 0xab),
		 "LUN 1 blocks 99 and 3100 are untouched");
	rcs4(&a, LUN_SRC, 0x01020304, &r);
	if (expect(&r, "GOOD", "RECEIVE COPY STATUS(LID4) of list id 0x01020304") && r.len >= 32)
		pr_check(r.data[4] == 0x01 && r.data[5] == 0x01 && r.data[12] == 0 &&
				 r.data[15] == 0 && be64(r.data + 16) == 3000u * BS &&
				 be16(r.data + 24) == 1,
			 "RECEIVE COPY STATUS(LID4): for SA %02x (01), status %02x (01), "
			 "%llu bytes (%u), %u segments (1)",
			 r.data[4], r.data[5], (unsigned long long)be64(r.data + 16), 3000u * BS,
			 be16(r.data + 24));
	rcs4(&a, LUN_SRC, 0x01020304, &r);
	expect(&r, "CHECK CONDITION 5/24/00", "RECEIVE COPY STATUS(LID4) again (forgotten)");

	/* A failed LID4 copy: its status and sense come with the status. */
	len = lid4_list(list, 0x0a0b0c0d, 0, id_src.naa, id_dst.naa, 64, (64u << 20) / BS - 8, 0);
	ecopy4(&a, LUN_SRC, list, len, &r);
	expect(&r, "CHECK CONDITION A/00/00", "EXTENDED COPY(LID4) past the end of LUN 0");
	expect_pointer(&r, false, HDR4 + 2 * CSCD + 12, -1, "the source LBA of the segment");
	rcs4(&a, LUN_SRC, 0x0a0b0c0d, &r);
	if (expect(&r, "GOOD", "RECEIVE COPY STATUS(LID4) of the failed copy") && r.len >= 34)
		pr_check(r.data[5] == 0x02 && r.data[12] == 0x02 && r.data[14] >= 8 &&
				 (r.data[32 + 2] & 0x0f) == 0x0a,
			 "RECEIVE COPY STATUS(LID4): status %02x (02), command status %02x (02), "
			 "%u bytes of sense, key %X (A)",
			 r.data[5], r.data[12], r.data[14], r.data[32 + 2] & 0x0f);

	/* Malformed LID4 headers; LUN 1 is not written by any. */
	write_blocks(&a, LUN_DST, 0, 64, 0, 0x3c);
	len = lid4_list(list, 5, 2, id_src.naa, id_dst.naa, 64, 0, 0);
	list[0] = 0x02;
	ecopy4(&a, LUN_SRC, list, len, &r);
	if (expect(&r, "CHECK CONDITION 5/26/00", "LID4 LIST FORMAT 02h"))
		expect_pointer(&r, false, 0, -1, "LIST FORMAT");
	len = lid4_list(list, 5, 2, id_src.naa, id_dst.naa, 64, 0, 0);
	list[15] = 0x04;
	ecopy4(&a, LUN_SRC, list, len, &r);
	if (expect(&r, "CHECK CONDITION 5/26/00", "LID4 with reserved bit 2 of byte 15"))
		expect_pointer(&r, false, 15, -1, "byte 15");
	/* A header CSCD descriptor list (an ROD CSCD descriptor, FEh; an
	 * Identification one, E4h): no descriptor is taken there,
	 * UNSUPPORTED TARGET DESCRIPTOR TYPE CODE at the first (byte 48);
	 * one longer than the list is a PARAMETER LIST LENGTH ERROR. */
	for (int type = 0; type < 2; type++) {
		len = lid4_list(list, 5, 2, id_src.naa, id_dst.naa, 64, 0, 0);
		memmove(list + HDR4 + CSCD, list + HDR4, len - HDR4);
		if (type)
			cscd_naa(list + HDR4, id_src.naa, BS);
		else {
			memset(list + HDR4, 0, CSCD);
			list[HDR4] = 0xfe;
		}
		put16(list + 2, CSCD);
		ecopy4(&a, LUN_SRC, list, len + CSCD, &r);
		if (expect(&r, "CHECK CONDITION 5/26/07",
			   "LID4 with a header CSCD descriptor of type %02Xh", list[HDR4]))
			expect_pointer(&r, false, HDR4, -1, "the header CSCD descriptor");
		ecopy4(&a, LUN_SRC, list, len + CSCD - 1, &r);
		expect(&r, "CHECK CONDITION 5/1A/00",
		       "LID4 whose header CSCD descriptor list does not fit in the list");
	}
	len = lid4_list(list, 5, 2, id_src.naa, id_dst.naa, 64, 0, 0);
	ecopy4(&a, LUN_SRC, list, len - 1, &r);
	expect(&r, "CHECK CONDITION 5/1A/00", "LID4 list cut short by one byte");
	len = lid4_list(list, 5, 3, id_src.naa, id_dst.naa, 64, 0, 0);
	ecopy4(&a, LUN_SRC, list, len, &r);
	if (expect(&r, "CHECK CONDITION 5/26/00", "LID4 LIST ID USAGE 11b with a list identifier"))
		expect_pointer(&r, false, 20, -1, "LIST IDENTIFIER");
	pr_check(blocks_are(&a, LUN_DST, 0, 64, 0, 0, 0x3c),
		 "LUN 1 is untouched after the malformed LID4 lists");
	rcs4(&a, LUN_SRC, 0x7fffffff, &r);
	if (expect(&r, "CHECK CONDITION 5/24/00", "RECEIVE COPY STATUS(LID4) of an unknown list id"))
		expect_pointer(&r, true, 2, -1, "its LIST IDENTIFIER");
}

/* ---- a copy target's sense forwarded (scenario target_sense) ---- */

/* EXTENDED COPY(LID1) of @list to @lun: the status, and the raw sense
 * data into @sense (its length in *@slen; 0 without CHECK CONDITION). */
static int ecopy_sense(struct nexus *n, int lun, const uint8_t *list, unsigned len,
		       uint8_t *sense, int cap, int *slen)
{
	uint8_t cdb[16];
	struct iscsi_data d = { .size = len, .data = (unsigned char *)list };
	struct scsi_task *t;
	int status;

	*slen = 0;
	ecopy_cdb(cdb, len);
	t = scsi_create_task(16, cdb, SCSI_XFER_WRITE, (int)len);
	if (!t)
		return -1;
	if (!iscsi_scsi_command_sync(n->c, lun, t, &d)) {
		scsi_free_scsi_task(t);
		return -1;
	}
	status = t->status;
	/* libiscsi keeps the SCSI Response's sense segment as it came: a
	 * 2-byte SENSE LENGTH, then the sense data. */
	if (status == SCSI_STATUS_CHECK_CONDITION && t->datain.size >= 2) {
		int n2 = t->datain.data[0] << 8 | t->datain.data[1];

		if (n2 > t->datain.size - 2)
			n2 = t->datain.size - 2;
		*slen = n2 < cap ? n2 : cap;
		memcpy(sense, t->datain.data + 2, (size_t)*slen);
	}
	scsi_free_scsi_task(t);
	return status;
}

static void hex(const uint8_t *p, int n, char *out, size_t cap)
{
	size_t o = 0;

	out[0] = '\0';
	for (int i = 0; i < n && o + 4 < cap; i++)
		o += (size_t)snprintf(out + o, cap - o, "%02x ", p[i]);
}

/* The sense data must be @want, byte for byte. */
static void expect_sense_bytes(const char *what, const uint8_t *got, int got_len,
			       const uint8_t *want, int want_len)
{
	bool same = got_len == want_len && !memcmp(got, want, (size_t)want_len);
	char g[400], w[400];

	hex(got, got_len, g, sizeof(g));
	hex(want, want_len, w, sizeof(w));
	if (same)
		pr_check(true, "%s: sense data [%s]", what, g);
	else
		pr_check(false, "%s: sense data [%s], expected [%s]", what, g, w);
}

/* MODE SELECT(6) of the control page of LUN @lun with D_SENSE @on. */
static bool set_d_sense(struct nexus *n, int lun, bool on)
{
	uint8_t sense6[6] = { 0x1a, 0x08, 0x0a, 0, 255, 0 }, sel[6] = { 0x15, 0x10, 0, 0, 0, 0 };
	uint8_t plist[4 + 64] = { 0 };
	struct result r;
	int plen;

	send_lun_cdb(n, lun, sense6, 6, SCSI_XFER_READ, NULL, 0, 255, &r);
	if (!expect(&r, "GOOD", "MODE SENSE(6) of LUN %d's control page", lun) || r.len < 6)
		return false;
	plen = 2 + r.data[5];
	if (plen > 64 || 4 + plen > r.len)
		return false;
	memcpy(plist + 4, r.data + 4, (size_t)plen);
	plist[4] &= 0x3f;
	plist[4 + 2] = (uint8_t)((plist[4 + 2] & ~0x04) | (on ? 0x04 : 0));
	sel[4] = (uint8_t)(4 + plen);
	send_lun_cdb(n, lun, sel, 6, SCSI_XFER_WRITE, plist, 4 + plen, 0, &r);
	return expect(&r, "GOOD", "MODE SELECT(6): LUN %d's D_SENSE %d", lun, on);
}

/* Three CSCD descriptors (@c0, @c1, @c2) and two 0x02 segments of 8
 * blocks, 0 -> 1 and 0 -> 2 (the second fails); returns the length. */
static unsigned two_segments(uint8_t *p, uint8_t list_id, int usage, const uint8_t c0[8],
			     const uint8_t c1[8], const uint8_t c2[8])
{
	header(p, list_id, usage, 3 * CSCD, 2 * SEG02, 0);
	cscd_naa(p + HDR, c0, BS);
	cscd_naa(p + HDR + CSCD, c1, BS);
	cscd_naa(p + HDR + 2 * CSCD, c2, BS);
	seg02(p + HDR + 3 * CSCD, 0, 1, 8, 0, 0);
	seg02(p + HDR + 3 * CSCD + SEG02, 0, 2, 8, 0, 0);
	return HDR + 3 * CSCD + 2 * SEG02;
}

static void scenario_target_sense(void)
{
	/* The copy targets' own sense data: a WRITE to the read-only LUN
	 * (DATA PROTECT, WRITE PROTECTED) and a READ of the ejected one
	 * (NOT READY, MEDIUM NOT PRESENT - TRAY OPEN), fixed and
	 * descriptor. */
	static const uint8_t ro_fixed[18] = { 0x70, 0, 0x07, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0x27, 0x00 };
	static const uint8_t ro_desc[8] = { 0x72, 0x07, 0x27, 0x00, 0, 0, 0, 0 };
	static const uint8_t rem_fixed[18] = { 0x70, 0, 0x02, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0x3a, 0x02 };
	uint8_t list[HDR + 3 * CSCD + 2 * SEG02], got[256], want[128];
	const unsigned failing_cscd = HDR + 2 * CSCD;
	struct nexus t2n;
	struct lu_ids id_rem, id_other, id_src2;
	struct result r;
	int n, st;

	write_blocks(&a, LUN_SRC, 0, 8, 0x51, 0);
	write_blocks(&a, LUN_DST, 0, 8, 0, 0x19);

	/* Fixed format: COMMAND-SPECIFIC INFORMATION is SOURCE SENSE DATA
	 * OFFSET 0, DESTINATION SENSE DATA OFFSET 18, SEGMENT NUMBER 1;
	 * the segment pointer (SKSV, SD 0) at the read-only LUN's CSCD
	 * descriptor; at 18 the WRITE's status (CHECK CONDITION), then its
	 * sense data. */
	two_segments(list, 0x40, 0, id_src.naa, id_dst.naa, id_ro.naa);
	st = ecopy_sense(&a, LUN_SRC, list, sizeof(list), got, sizeof(got), &n);
	pr_check(st == SCSI_STATUS_CHECK_CONDITION, "copy whose second segment writes the read-only "
		 "LUN 4: status %#x (CHECK CONDITION)", st);
	memset(want, 0, sizeof(want));
	want[0] = 0x70;
	want[2] = 0x0a;
	want[7] = 18 + 1 + 18 - 8;
	want[9] = 18;
	want[11] = 1;
	want[12] = 0x0d;
	want[13] = 0x01;
	want[15] = 0x80;
	want[17] = (uint8_t)failing_cscd;
	want[18] = 0x02;
	memcpy(want + 19, ro_fixed, 18);
	expect_sense_bytes("COPY ABORTED, fixed, the destination's sense forwarded", got, n, want,
			   37);
	pr_check(blocks_are(&a, LUN_DST, 0, 8, 0x51, 0, 0), "the first segment was copied");

	/* The same as FAILED SEGMENT DETAILS has it (held list id 0x40). */
	rcr(&a, LUN_SRC, 0x04, 0x40, &r);
	if (expect(&r, "GOOD", "FAILED SEGMENT DETAILS of list id 0x40") && r.len >= 60)
		expect_sense_bytes("FAILED SEGMENT DETAILS: the EXTENDED COPY's sense", r.data + 60,
				   be16(r.data + 58), want, 37);

	/* Descriptor format (D_SENSE of LUN 0, the command's LUN): the
	 * segment number in a command-specific information descriptor, the
	 * segment pointer in a sense key specific one, the WRITE's status
	 * and sense (still fixed: LUN 4's D_SENSE is 0) in a forwarded
	 * sense data descriptor, SENSE DATA SOURCE 2h (destination). */
	if (!set_d_sense(&a, LUN_SRC, true))
		return;
	two_segments(list, 0x41, 2, id_src.naa, id_dst.naa, id_ro.naa);
	st = ecopy_sense(&a, LUN_SRC, list, sizeof(list), got, sizeof(got), &n);
	pr_check(st == SCSI_STATUS_CHECK_CONDITION, "the same with LUN 0's D_SENSE 1: status %#x",
		 st);
	{
		static const uint8_t head[] = {
			0x72, 0x0a, 0x0d, 0x01, 0, 0, 0, 12 + 8 + 4 + 18,
			0x01, 0x0a, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
			0x02, 0x06, 0, 0, 0x80, 0, HDR + 2 * CSCD, 0,
			0x0c, 2 + 18, 0x02, 0x02,
		};

		memcpy(want, head, sizeof(head));
		memcpy(want + sizeof(head), ro_fixed, 18);
		expect_sense_bytes("COPY ABORTED, descriptor, forwarded sense data descriptor", got, n,
				   want, (int)sizeof(head) + 18);
	}
	/* LUN 4's D_SENSE 1 too: its sense comes in descriptor format. */
	if (!set_d_sense(&a, LUN_RO, true))
		return;
	two_segments(list, 0x42, 2, id_src.naa, id_dst.naa, id_ro.naa);
	st = ecopy_sense(&a, LUN_SRC, list, sizeof(list), got, sizeof(got), &n);
	{
		static const uint8_t head[] = {
			0x72, 0x0a, 0x0d, 0x01, 0, 0, 0, 12 + 8 + 4 + 8,
			0x01, 0x0a, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
			0x02, 0x06, 0, 0, 0x80, 0, HDR + 2 * CSCD, 0,
			0x0c, 2 + 8, 0x02, 0x02,
		};

		memcpy(want, head, sizeof(head));
		memcpy(want + sizeof(head), ro_desc, 8);
		expect_sense_bytes("both LUNs' D_SENSE 1: the destination's descriptor sense "
				   "forwarded", got, n, want, (int)sizeof(head) + 8);
	}
	/* Fixed again for the command, descriptor for the target: 18 + 1 + 8. */
	if (!set_d_sense(&a, LUN_SRC, false))
		return;
	two_segments(list, 0x43, 2, id_src.naa, id_dst.naa, id_ro.naa);
	st = ecopy_sense(&a, LUN_SRC, list, sizeof(list), got, sizeof(got), &n);
	memset(want, 0, sizeof(want));
	want[0] = 0x70;
	want[2] = 0x0a;
	want[7] = 18 + 1 + 8 - 8;
	want[9] = 18;
	want[11] = 1;
	want[12] = 0x0d;
	want[13] = 0x01;
	want[15] = 0x80;
	want[17] = (uint8_t)failing_cscd;
	want[18] = 0x02;
	memcpy(want + 19, ro_desc, 8);
	expect_sense_bytes("fixed, the destination's descriptor sense forwarded", got, n, want, 27);

	/* The source's failure: target 2's removable LUN 4, ejected, read
	 * into LUN 0 there (SOURCE SENSE DATA OFFSET 18, the segment
	 * pointer at its CSCD descriptor, the first). */
	if (!nexus_login(&t2n, "A@t2", INI1, t2, 2, 0x35, 1))
		return;
	collect_all_uas(&t2n, 5);
	if (!lu_ids(&t2n, 4, &id_rem) || !lu_ids(&t2n, 0, &id_other) || !lu_ids(&t2n, 1, &id_src2)) {
		pr_check(false, "target 2's LUNs 0, 1 and 4 have NAA designators");
		return;
	}
	{
		uint8_t ssu[6] = { 0x1b, 0, 0, 0, 0x02, 0 };

		send_lun_cdb(&t2n, 4, ssu, 6, SCSI_XFER_NONE, NULL, 0, 0, &r);
		expect(&r, "GOOD", "START STOP UNIT (LOEJ) ejects target 2's LUN 4");
	}
	header(list, 0x44, 2, 2 * CSCD, SEG02, 0);
	cscd_naa(list + HDR, id_rem.naa, BS);
	cscd_naa(list + HDR + CSCD, id_other.naa, BS);
	seg02(list + HDR + 2 * CSCD, 0, 1, 8, 0, 0);
	st = ecopy_sense(&t2n, 0, list, HDR + 2 * CSCD + SEG02, got, sizeof(got), &n);
	pr_check(st == SCSI_STATUS_CHECK_CONDITION, "copy from the ejected LUN 4 of target 2: "
		 "status %#x", st);
	memset(want, 0, sizeof(want));
	want[0] = 0x70;
	want[2] = 0x0a;
	want[7] = 18 + 1 + 18 - 8;
	want[8] = 18;
	want[12] = 0x0d;
	want[13] = 0x01;
	want[15] = 0x80;
	want[17] = HDR;
	want[18] = 0x02;
	memcpy(want + 19, rem_fixed, 18);
	expect_sense_bytes("COPY ABORTED, fixed, the source's sense forwarded", got, n, want, 37);
	nexus_logout(&t2n);
}

/* ---- 0x0A segments with byte offsets (scenario offsets) ---- */

/* The bytes every LUN of the scenario starts with: byte @at of LUN @lun. */
static uint8_t offsets_byte(int lun, uint64_t at)
{
	uint64_t x = (at + 1) * 0x9e3779b97f4a7c15ull ^ (uint64_t)lun << 56;

	return (uint8_t)(x >> 29 ^ x >> 47);
}

/* WRITE(16) of @nblocks blocks of @bs bytes from @lba, offsets_byte()'s. */
static bool offsets_fill(struct nexus *n, int lun, uint32_t bs, uint64_t lba, uint32_t nblocks)
{
	size_t len = (size_t)nblocks * bs;
	uint8_t *buf = malloc(len), cdb[16] = { 0x8a };
	struct result r;

	for (size_t i = 0; i < len; i++)
		buf[i] = offsets_byte(lun, lba * bs + i);
	put64(cdb + 2, lba);
	put32(cdb + 10, nblocks);
	send_lun_cdb(n, lun, cdb, 16, SCSI_XFER_WRITE, buf, (int)len, 0, &r);
	free(buf);
	return expect(&r, "GOOD", "fill LUN %d blocks %llu-%llu", lun, (unsigned long long)lba,
		      (unsigned long long)(lba + nblocks - 1));
}

/* @len bytes from byte @at of LUN @lun (blocks of @bs) into @out, by
 * READ(16)s of at most 16 KiB. */
static bool offsets_read(struct nexus *n, int lun, uint32_t bs, uint64_t at, size_t len,
			 uint8_t *out)
{
	uint64_t lba = at / bs, end = (at + len + bs - 1) / bs;
	size_t done = 0;
	struct result r;

	while (lba < end) {
		uint32_t k = (uint32_t)(end - lba < 16384 / bs ? end - lba : 16384 / bs);
		uint8_t cdb[16] = { 0x88 };
		uint64_t first = lba * bs;

		put64(cdb + 2, lba);
		put32(cdb + 10, k);
		send_lun_cdb(n, lun, cdb, 16, SCSI_XFER_READ, NULL, 0, (int)(k * bs), &r);
		if (r.status != SCSI_STATUS_GOOD || r.len != (int)(k * bs)) {
			pr_check(false, "READ(16) of LUN %d blocks %llu+%u: %s", lun,
				 (unsigned long long)lba, k, describe(&r));
			return false;
		}
		for (uint32_t i = 0; i < k * bs; i++) {
			uint64_t o = first + i;

			if (o >= at && o < at + len)
				out[done++] = r.data[i];
		}
		lba += k;
	}
	return done == len;
}

struct offsets_side {
	int lun;
	uint32_t bs;
	const uint8_t *naa;
	uint64_t lba;
	uint16_t off;
};

/* EXTENDED COPY(LID1) of one 0x0A segment of @nbytes from @src to @dst,
 * sent to LUN 0 (CAT set when @cat); then every byte of the destination
 * from two blocks before the copied range to two blocks after it must
 * be what it was with the source's bytes (as they were before the copy)
 * laid over it. */
static void offsets_case(const char *what, struct offsets_side src, struct offsets_side dst,
			 uint32_t nbytes, bool cat)
{
	uint64_t s = src.lba * src.bs + src.off, d = dst.lba * dst.bs + dst.off;
	uint64_t lo = d / dst.bs >= 2 ? (d / dst.bs - 2) * dst.bs : 0;
	uint64_t hi = ((d + nbytes + dst.bs - 1) / dst.bs + 2) * dst.bs;
	uint8_t *from = malloc(nbytes + 1), *want = malloc(hi - lo), *got = malloc(hi - lo);
	uint8_t list[HDR + 2 * CSCD + SEG0A];
	struct result r;

	if (!offsets_read(&a, src.lun, src.bs, s, nbytes, from) ||
	    !offsets_read(&a, dst.lun, dst.bs, lo, hi - lo, want))
		goto out;
	memcpy(want + (d - lo), from, nbytes);
	header(list, 0x30, 2, 2 * CSCD, SEG0A, 0);
	cscd_naa(list + HDR, src.naa, src.bs);
	cscd_naa(list + HDR + CSCD, dst.naa, dst.bs);
	seg0a(list + HDR + 2 * CSCD, 0, 1, nbytes, src.lba, dst.lba);
	put16(list + HDR + 2 * CSCD + 28, src.off);
	put16(list + HDR + 2 * CSCD + 30, dst.off);
	if (cat)
		list[HDR + 2 * CSCD + 1] = 0x01;
	ecopy(&a, LUN_SRC, list, sizeof(list), &r);
	if (!expect(&r, "GOOD", "%s: %u bytes from LUN %d block %llu byte %u to LUN %d block %llu "
		    "byte %u", what, nbytes, src.lun, (unsigned long long)src.lba, src.off, dst.lun,
		    (unsigned long long)dst.lba, dst.off))
		goto out;
	if (!offsets_read(&a, dst.lun, dst.bs, lo, hi - lo, got))
		goto out;
	for (uint64_t i = 0; i < hi - lo; i++) {
		if (got[i] != want[i]) {
			pr_check(false, "%s: LUN %d byte %llu is %02x, expected %02x (the copy is at "
				 "%llu-%llu)", what, dst.lun, (unsigned long long)(lo + i), got[i],
				 want[i], (unsigned long long)d, (unsigned long long)(d + nbytes - 1));
			goto out;
		}
	}
	pr_check(true, "%s: LUN %d bytes %llu-%llu read back: the copy at %llu-%llu, the rest "
		 "unchanged", what, dst.lun, (unsigned long long)lo, (unsigned long long)(hi - 1),
		 (unsigned long long)d, (unsigned long long)(d + nbytes - 1));
out:
	free(from);
	free(want);
	free(got);
}

static void scenario_offsets(void)
{
	const struct offsets_side l0 = { LUN_SRC, BS, id_src.naa, 0, 0 };
	const struct offsets_side l1 = { LUN_DST, BS, id_dst.naa, 0, 0 };
	const struct offsets_side l5 = { LUN_BIG, 4096, id_big.naa, 0, 0 };
	struct offsets_side s, d;
	uint8_t list[HDR + 2 * CSCD + SEG0A];
	struct result r;

	/* LUN 0: 4 MiB, LUN 1: 8 MiB, LUN 5: 4 MiB of offsets_byte()'s. */
	for (uint32_t b = 0; b < 8192; b += 2048)
		offsets_fill(&a, LUN_SRC, BS, b, 2048);
	for (uint32_t b = 0; b < 16384; b += 2048)
		offsets_fill(&a, LUN_DST, BS, b, 2048);
	for (uint32_t b = 0; b < 1024; b += 256)
		offsets_fill(&a, LUN_BIG, 4096, b, 256);

	s = l0, s.lba = 10, s.off = 17;
	d = l1, d.lba = 20, d.off = 300;
	offsets_case("512 -> 512, both partial", s, d, 5000, false);
	s = l0, s.lba = 100, s.off = 100;
	d = l1, d.lba = 200, d.off = 200;
	offsets_case("512 -> 512 within one block", s, d, 10, false);
	s = l0, s.lba = 300;
	d = l1, d.lba = 400;
	offsets_case("512 -> 512, no offsets, 1000 bytes (CAT)", s, d, 1000, true);
	s = l0, s.lba = 3, s.off = 511;
	d = l5, d.lba = 2, d.off = 4000;
	offsets_case("512 -> 4096, 3 MiB + 123 (four chunks)", s, d, (3u << 20) + 123, false);
	s = l5, s.lba = 700, s.off = 1;
	d = l1, d.lba = 7000, d.off = 0;
	offsets_case("4096 -> 512, 4097 bytes", s, d, 4097, false);
	s = l5, s.lba = 800, s.off = 4095;
	d = l5, d.lba = 900, d.off = 1;
	offsets_case("4096 -> 4096, last byte of a block to the second", s, d, 8190, false);
	/* Within LUN 1, overlapping: the destination 700 bytes above the
	 * source (copied from the end down), then 300 below (from the
	 * start); 2.5 MiB each, a chunk at a time. */
	s = l1, s.lba = 9000, s.off = 3;
	d = l1, d.lba = 9001, d.off = 191;
	offsets_case("within LUN 1, destination above", s, d, (5u << 19) + 7, false);
	s = l1, s.lba = 9001, s.off = 400;
	d = l1, d.lba = 9000, d.off = 100;
	offsets_case("within LUN 1, destination below", s, d, (5u << 19) + 7, false);

	/* Offsets at or beyond their block's end, bytes beyond the end:
	 * refused, nothing written (LUN 5's first two and last blocks read
	 * the same before and after). */
	uint8_t before[3 * 4096], after[3 * 4096];
	const uint64_t last = (64u << 20) / 4096 - 1;

	if (!offsets_read(&a, LUN_BIG, 4096, 0, 8192, before) ||
	    !offsets_read(&a, LUN_BIG, 4096, last * 4096, 4096, before + 8192))
		return;
	header(list, 0x31, 2, 2 * CSCD, SEG0A, 0);
	cscd_naa(list + HDR, id_src.naa, BS);
	cscd_naa(list + HDR + CSCD, id_big.naa, 4096);
	seg0a(list + HDR + 2 * CSCD, 0, 1, 100, 0, 0);
	put16(list + HDR + 2 * CSCD + 28, 512);
	ecopy(&a, LUN_SRC, list, sizeof(list), &r);
	if (expect(&r, "CHECK CONDITION 5/26/00", "SOURCE BYTE OFFSET 512 of a 512-byte LUN"))
		expect_pointer(&r, false, HDR + 2 * CSCD + 28, -1, "SOURCE BYTE OFFSET");
	put16(list + HDR + 2 * CSCD + 28, 0);
	put16(list + HDR + 2 * CSCD + 30, 4096);
	ecopy(&a, LUN_SRC, list, sizeof(list), &r);
	if (expect(&r, "CHECK CONDITION 5/26/00", "DESTINATION BYTE OFFSET 4096 of a 4096-byte LUN"))
		expect_pointer(&r, false, HDR + 2 * CSCD + 30, -1, "DESTINATION BYTE OFFSET");
	/* One byte past the end of LUN 5: its last block from byte 4095,
	 * two bytes. */
	put16(list + HDR + 2 * CSCD + 30, 4095);
	put32(list + HDR + 2 * CSCD + 8, 2);
	put64(list + HDR + 2 * CSCD + 20, last);
	ecopy(&a, LUN_SRC, list, sizeof(list), &r);
	if (expect(&r, "CHECK CONDITION A/00/00", "2 bytes from the last byte of LUN 5"))
		expect_pointer(&r, false, HDR + 2 * CSCD + 20, -1, "the destination LBA");
	if (offsets_read(&a, LUN_BIG, 4096, 0, 8192, after) &&
	    offsets_read(&a, LUN_BIG, 4096, last * 4096, 4096, after + 8192))
		pr_check(!memcmp(before, after, sizeof(before)),
			 "LUN 5 blocks 0-1 and %llu are untouched by the refused lists",
			 (unsigned long long)last);

	/* Any byte count is taken: DATA SEGMENT GRANULARITY 0 (2^0 bytes)
	 * in OPERATING PARAMETERS and in VPD 0x8F's General Copy
	 * Operations, whose Supported Descriptors list 0Ah. */
	rcr(&a, LUN_SRC, 0x03, 0, &r);
	if (expect(&r, "GOOD", "OPERATING PARAMETERS") && r.len >= 38)
		pr_check(r.data[37] == 0, "OPERATING PARAMETERS: DATA SEGMENT GRANULARITY %u (0)",
			 r.data[37]);
	{
		uint8_t cdb[6] = { 0x12, 0x01, 0x8f, 0x01, 0x00, 0x00 };
		int gran = -1;
		bool has_0a = false;

		send_lun_cdb(&a, LUN_SRC, cdb, 6, SCSI_XFER_READ, NULL, 0, 256, &r);
		for (int off = 4; r.status == SCSI_STATUS_GOOD && off + 4 <= r.len;
		     off += 4 + be16(r.data + off + 2)) {
			const uint8_t *d = r.data + off;

			if (be16(d) == 0x8001 && off + 16 < r.len)
				gran = d[16];
			for (int i = 0; be16(d) == 0x0008 && i < d[4] && off + 5 + i < r.len; i++)
				has_0a |= d[5 + i] == 0x0a;
		}
		pr_check(gran == 0 && has_0a, "VPD 0x8F: DATA SEGMENT GRANULARITY %d (0), Supported "
			 "Descriptors %s 0Ah", gran, has_0a ? "list" : "do not list");
	}
}

/* ---- abort ---- */

struct pending {
	bool done;
	int status;
	uint8_t data[64];
	int len;
	int sense_key, asc;
};

static void task_cb(struct iscsi_context *c, int status, void *command_data, void *private)
{
	struct pending *p = private;
	struct scsi_task *t = command_data;

	(void)c;
	p->done = true;
	p->status = status;
	if (t && status == SCSI_STATUS_GOOD && t->datain.size > 0) {
		p->len = t->datain.size < (int)sizeof(p->data) ? t->datain.size : (int)sizeof(p->data);
		memcpy(p->data, t->datain.data, (size_t)p->len);
	}
	if (t && status == SCSI_STATUS_CHECK_CONDITION) {
		p->sense_key = t->sense.key;
		p->asc = t->sense.ascq;
	}
}

static void tmf_cb(struct iscsi_context *c, int status, void *command_data, void *private)
{
	struct pending *p = private;

	(void)c;
	p->done = true;
	p->status = status;
	p->len = command_data ? (int)*(uint32_t *)command_data : -1; /* response */
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool service(struct iscsi_context *c, int ms)
{
	struct pollfd pfd = { .fd = iscsi_get_fd(c), .events = (short)iscsi_which_events(c) };

	if (poll(&pfd, 1, ms) < 0)
		return false;
	return iscsi_service(c, pfd.revents) == 0;
}

/* ---- partial blocks against another writer (scenario offsets_race) ---- */

/* Sends @cdb to @lun of @n without waiting; @d (the Data-Out, if any)
 * and @p must live until p->done. */
static struct scsi_task *send_async(struct nexus *n, int lun, uint8_t *cdb, int dir,
				    struct iscsi_data *d, struct pending *p)
{
	struct scsi_task *t = scsi_create_task(16, cdb, dir, d ? (int)d->size : 0);

	memset(p, 0, sizeof(*p));
	if (t && iscsi_scsi_command_async(n->c, lun, t, task_cb, d, p) == 0)
		return t;
	if (t)
		scsi_free_scsi_task(t);
	return NULL;
}

/* Services A's and B's sessions for at most @ms. */
static bool service_pair(int ms)
{
	struct pollfd pfd[2] = {
		{ .fd = iscsi_get_fd(a.c), .events = (short)iscsi_which_events(a.c) },
		{ .fd = iscsi_get_fd(b.c), .events = (short)iscsi_which_events(b.c) },
	};

	if (poll(pfd, 2, ms) < 0)
		return false;
	return iscsi_service(a.c, pfd[0].revents) == 0 && iscsi_service(b.c, pfd[1].revents) == 0;
}

/* One copy of the race: @nbytes from LUN 0 byte @src to byte @dst of
 * @lun (@bs-byte blocks), one chunk with a partial block at each end. */
struct race_layout {
	int lun;
	uint32_t bs;
	const uint8_t *naa;
	uint64_t src, dst;
	uint32_t nbytes;
};

/* B's @k-th WRITE of block @lba: in the bytes the copy writes, the
 * source's (so that B and the copy agree on them whoever comes last);
 * elsewhere @k, 32 bits in every 4 bytes (so that any older WRITE's
 * bytes differ from it). */
static void race_block(const struct race_layout *l, uint64_t lba, uint32_t k, uint8_t *out)
{
	for (uint32_t i = 0; i < l->bs; i++) {
		uint64_t o = lba * l->bs + i;

		out[i] = o >= l->dst && o < l->dst + l->nbytes
				 ? offsets_byte(LUN_SRC, l->src + (o - l->dst))
				 : (uint8_t)(k >> (8 * (i % 4)) ^ i / 4 * 29);
	}
}

/* What went wrong over the rounds, and B's WRITEs. */
struct race_totals {
	unsigned copies_bad, writes, writes_bad, lost, copied_bad, other_bad;
};

/* Runs the copy of @l once while B writes destination block @lba (its
 * first or its last) in a tight loop for @b_secs (at least one WRITE;
 * none for 0), then checks both partial blocks. Returns the copy's
 * seconds; counts into @t. */
static double race_round(const struct race_layout *l, uint64_t lba, double b_secs, uint32_t *k,
			 struct race_totals *t)
{
	static uint8_t list[HDR + 2 * CSCD + SEG0A], wbuf[4096], last[4096], other[4096];
	uint64_t head = l->dst / l->bs, tail = (l->dst + l->nbytes - 1) / l->bs;
	uint64_t other_lba = lba == head ? tail : head;
	struct iscsi_data ld = { .size = sizeof(list), .data = list }, wd = { .size = l->bs };
	struct pending cp, wp;
	struct scsi_task *ct, *wt = NULL;
	uint8_t cdb[16] = { 0x88 };
	double t0, took = -1;
	bool b_on = b_secs > 0, wrote = false;
	struct result r;

	/* The other partial block before: it must stay as it is, but for
	 * the copied bytes. */
	put64(cdb + 2, other_lba);
	put32(cdb + 10, 1);
	send_lun_cdb(&a, l->lun, cdb, 16, SCSI_XFER_READ, NULL, 0, (int)l->bs, &r);
	if (r.status != SCSI_STATUS_GOOD || r.len != (int)l->bs) {
		t->other_bad++;
		return -1;
	}
	memcpy(other, r.data, l->bs);
	for (uint32_t i = 0; i < l->bs; i++) {
		uint64_t o = other_lba * l->bs + i;

		if (o >= l->dst && o < l->dst + l->nbytes)
			other[i] = offsets_byte(LUN_SRC, l->src + (o - l->dst));
	}
	header(list, 0x50, 2, 2 * CSCD, SEG0A, 0);
	cscd_naa(list + HDR, id_src.naa, BS);
	cscd_naa(list + HDR + CSCD, l->naa, l->bs);
	seg0a(list + HDR + 2 * CSCD, 0, 1, l->nbytes, l->src / BS, l->dst / l->bs);
	put16(list + HDR + 2 * CSCD + 28, (uint16_t)(l->src % BS));
	put16(list + HDR + 2 * CSCD + 30, (uint16_t)(l->dst % l->bs));
	ecopy_cdb(cdb, sizeof(list));
	t0 = now();
	ct = send_async(&a, LUN_SRC, cdb, SCSI_XFER_WRITE, &ld, &cp);
	if (!ct) {
		t->copies_bad++;
		return -1;
	}
	wd.data = wbuf;
	while (now() - t0 < 60) {
		if (wt && wp.done) {
			t->writes++;
			if (wp.status == SCSI_STATUS_GOOD) {
				memcpy(last, wbuf, l->bs);
				wrote = true;
			} else {
				t->writes_bad++;
			}
			scsi_free_scsi_task(wt);
			wt = NULL;
		}
		if (cp.done && took < 0)
			took = now() - t0;
		if (b_on && !wt && now() - t0 >= b_secs && (wrote || t->writes_bad))
			b_on = false;
		if (b_on && !wt) {
			race_block(l, lba, ++*k, wbuf);
			memset(cdb, 0, sizeof(cdb));
			cdb[0] = 0x8a;
			put64(cdb + 2, lba);
			put32(cdb + 10, 1);
			wt = send_async(&b, l->lun, cdb, SCSI_XFER_WRITE, &wd, &wp);
			if (!wt) {
				t->writes_bad++;
				b_on = false;
			}
		}
		if (cp.done && !wt && !b_on)
			break;
		if (!service_pair(5))
			break;
	}
	if (!cp.done || cp.status != SCSI_STATUS_GOOD)
		t->copies_bad++;
	scsi_free_scsi_task(ct);
	if (wt) {
		t->writes_bad++;
		scsi_free_scsi_task(wt);
	}
	/* B's block: its last WRITE's bytes everywhere (the copied ones are
	 * the source's in both); the other: as it was, the copy laid in. */
	memset(cdb, 0, sizeof(cdb));
	cdb[0] = 0x88;
	put64(cdb + 2, lba);
	put32(cdb + 10, 1);
	send_lun_cdb(&a, l->lun, cdb, 16, SCSI_XFER_READ, NULL, 0, (int)l->bs, &r);
	if (r.status != SCSI_STATUS_GOOD || r.len != (int)l->bs) {
		t->lost++;
	} else if (wrote) {
		bool lost = false, copied_bad = false;

		for (uint32_t i = 0; i < l->bs; i++) {
			uint64_t o = lba * l->bs + i;
			bool copied = o >= l->dst && o < l->dst + l->nbytes;

			if (r.data[i] != last[i]) {
				lost |= !copied;
				copied_bad |= copied;
			}
		}
		t->lost += lost;
		t->copied_bad += copied_bad;
	}
	put64(cdb + 2, other_lba);
	send_lun_cdb(&a, l->lun, cdb, 16, SCSI_XFER_READ, NULL, 0, (int)l->bs, &r);
	if (r.status != SCSI_STATUS_GOOD || r.len != (int)l->bs || memcmp(r.data, other, l->bs))
		t->other_bad++;
	return took;
}

static void scenario_offsets_race(void)
{
	/* One chunk each (below the lane's span): 512 -> 512, 1000 KiB
	 * and 333 bytes to byte 300 of LUN 1's block 4000 (its last block
	 * partial too); 512 -> 4096, 700 KiB and 1234 bytes to byte 4000
	 * of LUN 5's block 100. */
	const struct race_layout lay[2] = {
		{ LUN_DST, BS, id_dst.naa, 100 * BS + 17, 4000 * BS + 300, (1000u << 10) + 333 },
		{ LUN_BIG, 4096, id_big.naa, 3000 * BS + 5, 100 * 4096 + 4000, (700u << 10) + 1234 },
	};
	struct race_totals t = { 0 };
	double took[2];
	uint32_t k = 0;
	unsigned rounds = 0;

	for (uint32_t b = 0; b < 8192; b += 2048)
		offsets_fill(&a, LUN_SRC, BS, b, 2048);
	/* How long each copy takes alone: B writes for a random part of
	 * that, so that its last WRITE falls between the copy's READ of the
	 * block and its write of it as often as not. */
	for (int i = 0; i < 2; i++) {
		took[i] = race_round(&lay[i], lay[i].dst / lay[i].bs, 0, &k, &t);
		if (took[i] <= 0) {
			pr_check(false, "the copy to LUN %d alone", lay[i].lun);
			return;
		}
	}
	srand(42);
	for (int round = 0; round < 200; round++) {
		const struct race_layout *l = &lay[round % 2];
		uint64_t lba = (round / 2) % 2 ? (l->dst + l->nbytes - 1) / l->bs : l->dst / l->bs;
		double b_secs = took[round % 2] * (0.05 + 0.9 * (double)rand() / RAND_MAX);

		race_round(l, lba, b_secs, &k, &t);
		rounds++;
	}
	pr_check(t.copies_bad == 0, "%u EXTENDED COPYs with partial destination blocks: %u not GOOD",
		 rounds, t.copies_bad);
	pr_check(t.writes > rounds && t.writes_bad == 0,
		 "B's WRITEs of a partial block meanwhile: %u, %u not GOOD", t.writes, t.writes_bad);
	pr_check(t.lost == 0, "B's last WRITE of the block holds its kept bytes after each copy "
		 "(%u of %u lost to the copy's merge)", t.lost, rounds);
	pr_check(t.copied_bad == 0, "the copied bytes are the source's after each copy (%u of %u "
		 "not)", t.copied_bad, rounds);
	pr_check(t.other_bad == 0, "the other partial block keeps its bytes (%u of %u not)",
		 t.other_bad, rounds + 2);
}

static void scenario_abort(void)
{
	/* 126 segments: the most 0x0A ones that fit in 4096 bytes. */
	enum { NSEG = 126 };
	static uint8_t list[HDR + 2 * CSCD + NSEG * SEG0A];
	struct pending ec = { 0 }, st = { 0 }, dup = { 0 }, tmf = { 0 };
	struct scsi_task *ect, *stt = NULL, *dupt = NULL;
	struct iscsi_data d = { .size = sizeof(list), .data = list };
	uint8_t cdb[16];
	unsigned segs = 0;
	double t0, t_abort = 0;
	struct result r;

	/* 126 segments of 256 MiB, nullio to nullio: 31.5 GiB. */
	header(list, 0x44, 0, 2 * CSCD, NSEG * SEG0A, 0);
	cscd_naa(list + HDR, id_null_a.naa, BS);
	cscd_naa(list + HDR + CSCD, id_null_b.naa, BS);
	for (unsigned i = 0; i < NSEG; i++)
		seg0a(list + HDR + 2 * CSCD + i * SEG0A, 0, 1, 256u << 20,
		      (uint64_t)i * (256u << 20) / BS, (uint64_t)i * (256u << 20) / BS);
	ecopy_cdb(cdb, sizeof(list));
	ect = scsi_create_task(16, cdb, SCSI_XFER_WRITE, sizeof(list));
	if (!ect || iscsi_scsi_command_async(a.c, LUN_NULL_A, ect, task_cb, &d, &ec)) {
		pr_check(false, "the long EXTENDED COPY is sent");
		return;
	}
	t0 = now();
	/* COPY STATUS until two segments are done, then a second copy with
	 * the same list id, then ABORT TASK. */
	while (now() - t0 < 60 && !(ec.done && !t_abort)) {
		if (!stt || st.done) {
			if (stt && st.status == SCSI_STATUS_GOOD && st.len >= 12) {
				segs = be16(st.data + 5);
				if (st.data[4] != 0x00 && !t_abort)
					break; /* it ended before it could be aborted */
			}
			if (stt)
				scsi_free_scsi_task(stt);
			if (segs >= 2 && !dupt) {
				ecopy_cdb(cdb, sizeof(list));
				dupt = scsi_create_task(16, cdb, SCSI_XFER_WRITE, sizeof(list));
				iscsi_scsi_command_async(a.c, LUN_NULL_A, dupt, task_cb, &d, &dup);
			}
			if (dupt && dup.done && !t_abort) {
				t_abort = now();
				iscsi_task_mgmt_abort_task_async(a.c, ect, tmf_cb, &tmf);
			}
			memset(&st, 0, sizeof(st));
			rcr_cdb(cdb, 0x00, 0x44);
			stt = scsi_create_task(16, cdb, SCSI_XFER_READ, 1024);
			iscsi_scsi_command_async(a.c, LUN_NULL_A, stt, task_cb, NULL, &st);
		}
		if (t_abort && tmf.done)
			break;
		if (!service(a.c, 10))
			break;
	}
	while (t_abort && !tmf.done && now() - t_abort < 30 && service(a.c, 10))
		;
	while (stt && !st.done && service(a.c, 10))
		;
	pr_check(segs >= 2, "the copy ran: COPY STATUS saw %u segments processed", segs);
	pr_check(dup.done && dup.status == SCSI_STATUS_CHECK_CONDITION && dup.sense_key == 5 &&
			 dup.asc == 0x0016,
		 "a second copy with list id 0x44 meanwhile: status %#x sense %X/%04X "
		 "(5/0016 OPERATION IN PROGRESS)", dup.status, dup.sense_key, dup.asc);
	pr_check(t_abort && tmf.done && tmf.status == SCSI_STATUS_GOOD && tmf.len == 0,
		 "ABORT TASK of the copy: FUNCTION COMPLETE (status %#x, response %d) in %.3f s",
		 tmf.status, tmf.len, t_abort && tmf.done ? now() - t_abort : -1.0);
	pr_check(!ec.done || ec.status == SCSI_STATUS_CANCELLED,
		 "the aborted copy got no status (libiscsi: %#x)", ec.status);
	rcr(&a, LUN_NULL_A, 0x00, 0x44, &r);
	if (expect(&r, "GOOD", "COPY STATUS of the aborted list id 0x44") && r.len >= 12)
		pr_check(r.data[4] == 0x02 && be16(r.data + 5) < NSEG,
			 "the aborted copy ended with errors (%02x, 02) after %u of 126 segments",
			 r.data[4], be16(r.data + 5));
	tur(&a, &r);
	expect(&r, "GOOD", "the session still works after the abort");
	scsi_free_scsi_task(ect);
	if (stt)
		scsi_free_scsi_task(stt);
	if (dupt)
		scsi_free_scsi_task(dupt);
}

/* Sends a long copy on @n asynchronously, to LUN @lun: 126 segments of
 * @seg_bytes from nullio LUN 2 to the LUN @dst names, each to its block
 * 0 (list id @list_id, held); waits until COPY STATUS shows it running
 * (at least one segment done). Returns the task, or NULL. */
static struct scsi_task *start_long_copy(struct nexus *n, int lun, uint8_t list_id,
					 const uint8_t dst[8], uint32_t seg_bytes,
					 struct pending *ec, uint8_t *list, size_t list_len)
{
	static struct iscsi_data d;
	struct scsi_task *t, *st;
	uint8_t cdb[16];
	double t0 = now();

	header(list, list_id, 0, 2 * CSCD, 126 * SEG0A, 0);
	cscd_naa(list + HDR, id_null_a.naa, BS);
	cscd_naa(list + HDR + CSCD, dst, BS);
	for (unsigned i = 0; i < 126; i++)
		seg0a(list + HDR + 2 * CSCD + i * SEG0A, 0, 1, seg_bytes,
		      (uint64_t)i * seg_bytes / BS, 0);
	d.size = list_len;
	d.data = list;
	ecopy_cdb(cdb, (uint32_t)list_len);
	t = scsi_create_task(16, cdb, SCSI_XFER_WRITE, (int)list_len);
	if (!t || iscsi_scsi_command_async(n->c, lun, t, task_cb, &d, ec))
		return NULL;
	while (now() - t0 < 30 && !ec->done) {
		struct pending p = { 0 };

		rcr_cdb(cdb, 0x00, list_id);
		st = scsi_create_task(16, cdb, SCSI_XFER_READ, 1024);
		iscsi_scsi_command_async(n->c, lun, st, task_cb, NULL, &p);
		while (!p.done && service(n->c, 10))
			;
		scsi_free_scsi_task(st);
		if (p.status == SCSI_STATUS_GOOD && p.len >= 12 && p.data[4] == 0x00 &&
		    be16(p.data + 5) >= 1)
			return t;
	}
	return ec->done ? NULL : t;
}

/* Another initiator's task management function @fn (LOGICAL UNIT RESET,
 * CLEAR TASK SET) of LUN @dst_lun while A copies 126 segments of
 * @seg_bytes from nullio LUN 2 to it, the EXTENDED COPY sent to LUN 0
 * (so it is no task of the LUN reset): the function completes, and the
 * copy ends with COPY ABORTED, THIRD PARTY DEVICE FAILURE, whether or
 * not one of its internal commands was on that LUN at the moment (to a
 * nullio LUN they complete at once, so there hardly ever is one). No
 * retry: every run must see it. */
static void cut_mid_copy(const char *what, int fn, int dst_lun, const uint8_t dst[8],
			 uint32_t seg_bytes, uint8_t list_id)
{
	static uint8_t list[HDR + 2 * CSCD + 126 * SEG0A];
	struct pending ec = { 0 }, tmf = { 0 };
	struct scsi_task *t;
	struct result r;
	double t0, t_tmf = 0;

	t = start_long_copy(&a, LUN_SRC, list_id, dst, seg_bytes, &ec, list, sizeof(list));
	pr_check(t != NULL, "a long copy to LUN %d is running (list id %#x)", dst_lun, list_id);
	if (!t)
		return;
	if (iscsi_task_mgmt_async(b.c, dst_lun, (enum iscsi_task_mgmt_funcs)fn, 0xffffffff, 0,
				  tmf_cb, &tmf)) {
		pr_check(false, "B's %s of LUN %d is sent", what, dst_lun);
		return;
	}
	t0 = now();
	while ((!tmf.done || !ec.done) && now() - t0 < 30) {
		if (!service(b.c, 5) || !service(a.c, 5))
			break;
		if (tmf.done && !t_tmf)
			t_tmf = now();
	}
	scsi_free_scsi_task(t);
	collect_all_uas(&a, 6);
	pr_check(tmf.done && tmf.status == SCSI_STATUS_GOOD && tmf.len == 0,
		 "B's %s of LUN %d: FUNCTION COMPLETE (status %#x, response %d) in %.3f s", what,
		 dst_lun, tmf.status, tmf.len, t_tmf ? t_tmf - t0 : -1.0);
	pr_check(ec.done && ec.status == SCSI_STATUS_CHECK_CONDITION && ec.sense_key == 0xa &&
			 ec.asc == 0x0d01,
		 "the copy (sent to LUN 0) cut by the %s ends with status %#x sense %X/%04X "
		 "(A/0D01 COPY ABORTED, THIRD PARTY DEVICE FAILURE)", what, ec.status,
		 ec.sense_key, ec.asc);
	rcr(&a, LUN_SRC, 0x00, list_id, &r);
	if (expect(&r, "GOOD", "COPY STATUS of the copy the function cut") && r.len >= 12)
		pr_check(r.data[4] == 0x02 && be16(r.data + 5) < 126,
			 "it ended with errors (%02x, 02) after %u of 126 segments", r.data[4],
			 be16(r.data + 5));
}

/* Task management of the copy's destination by another initiator, and
 * the loss of the copying session's connection, while a long copy runs;
 * then a held result goes with its session. */
static void scenario_reset(void)
{
	static uint8_t list[HDR + 2 * CSCD + 126 * SEG0A];
	struct pending ec = { 0 };
	struct scsi_task *t;
	struct result r;
	unsigned len;

	/* To the fileio LUN 1 (its WRITEs go through io_uring: often in
	 * flight), then to the nullio LUN 3 (never in flight between two
	 * pump runs), and a CLEAR TASK SET (TST 0: B's clears A's tasks). */
	cut_mid_copy("LUN RESET", ISCSI_TM_LUN_RESET, LUN_DST, id_dst.naa, 32u << 20, 0x51);
	cut_mid_copy("LUN RESET", ISCSI_TM_LUN_RESET, LUN_NULL_B, id_null_b.naa, 256u << 20, 0x52);
	cut_mid_copy("CLEAR TASK SET", ISCSI_TM_CLEAR_TASK_SET, LUN_NULL_B, id_null_b.naa,
		     256u << 20, 0x53);

	/* The copying session's connection goes while a copy runs: the
	 * session ends once the copy has stopped, and a new one works. The
	 * session's four held records go with it (xcopy.sh reads the log). */
	memset(&ec, 0, sizeof(ec));
	t = start_long_copy(&a, LUN_NULL_A, 0x60, id_null_b.naa, 256u << 20, &ec, list,
			    sizeof(list));
	pr_check(t != NULL, "another long copy is running");
	nexus_drop(&a);
	if (t)
		scsi_free_scsi_task(t);
	if (!nexus_login(&a, "A", INI1, t1, 1, 0x11, 1))
		return;
	collect_all_uas(&a, 6);
	tur(&a, &r);
	expect(&r, "GOOD", "A logs in again after dropping its connection mid-copy");
	rcr(&a, LUN_SRC, 0x00, 0x60, &r);
	expect(&r, "CHECK CONDITION 5/24/00",
	       "the new session does not see the old session's list id 0x60");

	/* A held result nobody asked for: a good copy with list id 0x70,
	 * then A logs out and in again with the same initiator name and
	 * ISID (the same I_T nexus name): the list id is unknown. */
	len = one_segment(list, 0x70, 0, id_src.naa, id_dst.naa, 8, 0, 0);
	ecopy(&a, LUN_SRC, list, len, &r);
	expect(&r, "GOOD", "a copy with held list id 0x70");
	nexus_logout(&a);
	if (!nexus_login(&a, "A", INI1, t1, 1, 0x11, 1))
		return;
	collect_all_uas(&a, 6);
	rcr(&a, LUN_SRC, 0x00, 0x70, &r);
	expect(&r, "CHECK CONDITION 5/24/00",
	       "after a logout, the same initiator and ISID ask COPY STATUS of list id 0x70: "
	       "no such list");
	if (r.status == SCSI_STATUS_CHECK_CONDITION)
		expect_pointer(&r, true, 2, -1, "its LIST IDENTIFIER");
}

/* ---- ODX ---- */

#define PT_HDR 16
#define WUT_HDR 536
#define TOKEN_LEN 512

static void odx_cdb(uint8_t *cdb, int sa, uint32_t list_id, uint32_t pll)
{
	memset(cdb, 0, 16);
	cdb[0] = 0x83;
	cdb[1] = (uint8_t)sa;
	put32(cdb + 6, list_id);
	put32(cdb + 10, pll);
}

struct range { uint64_t lba; uint32_t nblocks; };

/* A POPULATE TOKEN list of @n ranges; returns its length. */
static unsigned pt_list(uint8_t *p, uint32_t timeout, const struct range *r, unsigned n)
{
	unsigned len = PT_HDR + 16 * n;

	memset(p, 0, len);
	put16(p, (uint16_t)(len - 2));
	put32(p + 4, timeout);
	put16(p + 14, (uint16_t)(16 * n));
	for (unsigned i = 0; i < n; i++) {
		put64(p + PT_HDR + 16 * i, r[i].lba);
		put32(p + PT_HDR + 16 * i + 8, r[i].nblocks);
	}
	return len;
}

static unsigned wut_list(uint8_t *p, const uint8_t *token, uint64_t offset, bool del,
			 const struct range *r, unsigned n)
{
	unsigned len = WUT_HDR + 16 * n;

	memset(p, 0, len);
	put16(p, (uint16_t)(len - 2));
	p[2] = del ? 0x02 : 0;
	put64(p + 8, offset);
	memcpy(p + 16, token, TOKEN_LEN);
	put16(p + 534, (uint16_t)(16 * n));
	for (unsigned i = 0; i < n; i++) {
		put64(p + WUT_HDR + 16 * i, r[i].lba);
		put32(p + WUT_HDR + 16 * i + 8, r[i].nblocks);
	}
	return len;
}

static void odx_send(struct nexus *n, int lun, int sa, uint32_t list_id, const uint8_t *p,
		     unsigned len, struct result *r)
{
	uint8_t cdb[16];

	odx_cdb(cdb, sa, list_id, len);
	send_lun_cdb(n, lun, cdb, 16, len ? SCSI_XFER_WRITE : SCSI_XFER_NONE, p, (int)len, 0, r);
}

static void rrti(struct nexus *n, int lun, uint32_t list_id, struct result *r)
{
	uint8_t cdb[16] = { 0x84, 0x07 };

	put32(cdb + 2, list_id);
	put32(cdb + 10, 1024);
	send_lun_cdb(n, lun, cdb, 16, SCSI_XFER_READ, NULL, 0, 1024, r);
}

/* POPULATE TOKEN with @list_id, then RECEIVE ROD TOKEN INFORMATION for
 * it: the token into @token. */
static bool populate(struct nexus *n, int lun, uint32_t list_id, uint32_t timeout,
		     const struct range *rg, unsigned nr, uint8_t *token)
{
	uint8_t list[PT_HDR + 16 * 16];
	struct result r;
	uint64_t blocks = 0;
	bool ok;

	for (unsigned i = 0; i < nr; i++)
		blocks += rg[i].nblocks;
	odx_send(n, lun, 0x10, list_id, list, pt_list(list, timeout, rg, nr), &r);
	if (!expect(&r, "GOOD", "POPULATE TOKEN list id %u", list_id))
		return false;
	rrti(n, lun, list_id, &r);
	if (!expect(&r, "GOOD", "RECEIVE ROD TOKEN INFORMATION of list id %u", list_id))
		return false;
	ok = r.len >= 32 + 4 + 2 + TOKEN_LEN && r.data[4] == 0x10 && r.data[5] == 0x01 &&
	     r.data[12] == 0 && r.data[13] == 0 && r.data[15] == 0xf1 &&
	     be32(r.data + 16 + 4) == blocks && be32(r.data + 32) == 2 + TOKEN_LEN;
	pr_check(ok,
		      "RRTI of a POPULATE TOKEN: %d bytes, SA %02x, status %02x, units %02x, "
		      "transfer count %u (%llu), token descriptors length %u",
		      r.len, r.data[4], r.data[5], r.data[15], be32(r.data + 20),
		      (unsigned long long)blocks, be32(r.data + 32));
	if (!ok)
		return false;
	memcpy(token, r.data + 38, TOKEN_LEN);
	ok = be32(token) == 0x00800001 && be16(token + 6) == 0x1f8;
	pr_check(ok, "the token's ROD TYPE is 00800001h (%08x), its length 01F8h (%04x)",
		 be32(token), be16(token + 6));
	return ok;
}

static void wut(struct nexus *n, int lun, uint32_t list_id, const uint8_t *token,
		uint64_t offset, bool del, const struct range *rg, unsigned nr, struct result *r)
{
	uint8_t list[WUT_HDR + 16 * 16];

	odx_send(n, lun, 0x11, list_id, list, wut_list(list, token, offset, del, rg, nr), r);
}

/* RRTI of a WRITE USING TOKEN: status @st, TRANSFER COUNT @blocks. */
static void expect_wut_info(struct nexus *n, int lun, uint32_t list_id, int st,
			    uint64_t blocks)
{
	struct result r;

	rrti(n, lun, list_id, &r);
	pr_check(r.status == SCSI_STATUS_GOOD && r.data[4] == 0x11 && r.data[5] == st &&
			 r.data[15] == 0xf1 && be32(r.data + 20) == blocks,
		 "RRTI of WRITE USING TOKEN list id %u: %s, SA %02x, status %02x (%02x), "
		 "transfer count %u (%llu)",
		 list_id, describe(&r), r.data[4], r.data[5], st, be32(r.data + 20),
		 (unsigned long long)blocks);
}

static void bad_odx(const char *what, int sa, const uint8_t *list, unsigned len,
		    const char *want, int field, int bit)
{
	struct result r;

	odx_send(&a, LUN_DST, sa, 0x99, list, len, &r);
	if (expect(&r, want, "%s", what) && field >= 0)
		expect_pointer(&r, false, (unsigned)field, bit, what);
}

static void scenario_odx(void)
{
	static const struct range src2[] = { { 0, 64 }, { 100, 28 } };
	uint8_t tok[TOKEN_LEN], tok2[TOKEN_LEN], zero[TOKEN_LEN] = { 0 };
	uint8_t list[WUT_HDR + 16 * 17];
	struct result r;
	unsigned len;

	write_blocks(&a, LUN_SRC, 0, 128, 0x41, 0);
	write_blocks(&a, LUN_DST, 0, 600, 0, 0xee);

	/* fileio -> fileio, two source ranges onto one destination range. */
	if (!populate(&a, LUN_SRC, 1, 0, src2, 2, tok))
		return;
	wut(&a, LUN_DST, 2, tok, 0, false, (struct range[]){ { 10, 92 } }, 1, &r);
	expect(&r, "GOOD", "WRITE USING TOKEN of 92 blocks to LUN 1 LBA 10");
	pr_check(blocks_are(&a, LUN_DST, 10, 64, 0x41, 0, 0) &&
			 blocks_are(&a, LUN_DST, 74, 28, 0x41, 100, 0),
		 "LUN 1 LBA 10-101 has source LBA 0-63 and 100-127");
	pr_check(blocks_are(&a, LUN_DST, 9, 1, 0, 0, 0xee) &&
			 blocks_are(&a, LUN_DST, 102, 1, 0, 0, 0xee),
		 "the blocks around are left alone");
	expect_wut_info(&a, LUN_DST, 2, 0x01, 92);

	/* OFFSET INTO ROD 60, two destination ranges across the token's
	 * range boundary. */
	wut(&a, LUN_DST, 3, tok, 60, false, (struct range[]){ { 200, 2 }, { 210, 6 } }, 2, &r);
	expect(&r, "GOOD", "WRITE USING TOKEN from OFFSET INTO ROD 60");
	pr_check(blocks_are(&a, LUN_DST, 200, 2, 0x41, 60, 0) &&
			 blocks_are(&a, LUN_DST, 210, 2, 0x41, 62, 0) &&
			 blocks_are(&a, LUN_DST, 212, 4, 0x41, 100, 0) &&
			 blocks_are(&a, LUN_DST, 202, 8, 0, 0, 0xee),
		 "LUN 1 LBA 200-201, 210-215 have source LBA 60-63, 100-103");

	/* A partial transfer: 200 blocks asked of a 92-block ROD. */
	wut(&a, LUN_DST, 4, tok, 0, false, (struct range[]){ { 300, 200 } }, 1, &r);
	expect(&r, "GOOD", "WRITE USING TOKEN of 200 blocks from a 92-block token");
	pr_check(blocks_are(&a, LUN_DST, 300, 64, 0x41, 0, 0) &&
			 blocks_are(&a, LUN_DST, 364, 28, 0x41, 100, 0) &&
			 blocks_are(&a, LUN_DST, 392, 108, 0, 0, 0xee),
		 "92 blocks copied, the rest of the range left alone");
	expect_wut_info(&a, LUN_DST, 4, 0x01, 92);

	/* The same LUN, another range; and another session (B) uses A's
	 * token. */
	wut(&b, LUN_SRC, 5, tok, 0, false, (struct range[]){ { 1000, 16 } }, 1, &r);
	expect(&r, "GOOD", "B's WRITE USING TOKEN with A's token to LUN 0 LBA 1000");
	pr_check(blocks_are(&a, LUN_SRC, 1000, 16, 0x41, 0, 0), "LUN 0 LBA 1000 has LBA 0-15");

	/* The block device zero ROD token. */
	write_blocks(&a, LUN_DST, 500, 20, 0x42, 0);
	put32(zero, 0xffff0001);
	put16(zero + 6, 0x1f8);
	wut(&a, LUN_DST, 6, zero, 0, false, (struct range[]){ { 502, 16 } }, 1, &r);
	expect(&r, "GOOD", "WRITE USING TOKEN with the block device zero ROD token");
	pr_check(blocks_are(&a, LUN_DST, 502, 16, 0, 0, 0) &&
			 blocks_are(&a, LUN_DST, 500, 2, 0x42, 500, 0) &&
			 blocks_are(&a, LUN_DST, 518, 2, 0x42, 518, 0),
		 "LUN 1 LBA 502-517 are zeros, 500-501 and 518-519 untouched");
	expect_wut_info(&a, LUN_DST, 6, 0x01, 16);

	/* Revocation: B writes LUN 0 next to the token's range (no harm),
	 * then into it. */
	if (!populate(&a, LUN_SRC, 7, 0, (struct range[]){ { 0, 32 } }, 1, tok2))
		return;
	write_blocks(&b, LUN_SRC, 40, 4, 0x43, 0);
	wut(&a, LUN_DST, 8, tok2, 0, false, (struct range[]){ { 600, 8 } }, 1, &r);
	expect(&r, "GOOD", "a token after B wrote LBA 40-43, outside its range");
	write_blocks(&a, LUN_DST, 600, 32, 0, 0xee);
	write_blocks(&b, LUN_SRC, 10, 1, 0x44, 0);
	wut(&a, LUN_DST, 9, tok2, 0, false, (struct range[]){ { 600, 32 } }, 1, &r);
	expect(&r, "CHECK CONDITION A/23/06", "a token after B wrote LBA 10, in its range");
	pr_check(blocks_are(&a, LUN_DST, 600, 32, 0, 0, 0xee), "nothing written");
	expect_wut_info(&a, LUN_DST, 9, 0x02, 0);
	/* The source as it was (these writes revoke the tokens of it). */
	write_blocks(&a, LUN_SRC, 10, 1, 0x41, 0);
	write_blocks(&a, LUN_SRC, 40, 4, 0x41, 0);

	/* Those writes revoked the first token too (its range 0-63). */
	wut(&a, LUN_DST, 18, tok, 0, false, (struct range[]){ { 700, 4 } }, 1, &r);
	expect(&r, "CHECK CONDITION A/23/06", "the first token, after the writes to LBA 10, 40");

	/* DEL_TKN: used once more, then gone. */
	if (!populate(&a, LUN_SRC, 19, 0, src2, 2, tok))
		return;
	wut(&a, LUN_DST, 10, tok, 0, true, (struct range[]){ { 700, 4 } }, 1, &r);
	expect(&r, "GOOD", "WRITE USING TOKEN with DEL_TKN");
	wut(&a, LUN_DST, 11, tok, 0, false, (struct range[]){ { 700, 4 } }, 1, &r);
	expect(&r, "CHECK CONDITION A/23/09", "the token after DEL_TKN (TOKEN DELETED)");

	/* Expiry: an inactivity timeout of 1 s. */
	if (populate(&a, LUN_SRC, 12, 1, (struct range[]){ { 0, 8 } }, 1, tok2)) {
		struct timespec ts = { 2, 200000000 };

		nanosleep(&ts, NULL);
		wut(&a, LUN_DST, 13, tok2, 0, false, (struct range[]){ { 800, 8 } }, 1, &r);
		expect(&r, "CHECK CONDITION A/23/07",
		       "a token 2.2 s after its 1 s timeout (TOKEN EXPIRED)");
	}

	/* Revocation while a copy runs, and a WRITE USING TOKEN onto its
	 * own token's blocks: scenario odx_overlap. */

	/* Another target that maps the source too: A's token used by A's
	 * session there, onto target 2's own LUN. */
	{
		struct nexus other;

		if (populate(&a, LUN_SRC, 20, 0, src2, 2, tok) &&
		    nexus_login(&other, "A@t2", INI1, t2, 2, 0x33, 1)) {
			collect_all_uas(&other, 2);
			write_blocks(&other, 0, 0, 100, 0, 0x5a);
			wut(&other, 0, 21, tok, 0, false, (struct range[]){ { 4, 92 } }, 1, &r);
			expect(&r, "GOOD", "a token of target 1's LUN 0 used through target 2");
			pr_check(blocks_are(&other, 0, 4, 64, 0x41, 0, 0) &&
					 blocks_are(&other, 0, 68, 28, 0x41, 100, 0) &&
					 blocks_are(&other, 0, 0, 4, 0, 0, 0x5a) &&
					 blocks_are(&other, 0, 96, 4, 0, 0, 0x5a),
				 "target 2's LUN 0 LBA 4-95 has the source's LBA 0-63, 100-127");
			nexus_logout(&other);
		}
	}

	/* Masking: the viewer sees only the group's LUN, not the source. */
	if (populate(&a, LUN_SRC, 14, 0, (struct range[]){ { 0, 8 } }, 1, tok2) &&
	    nexus_login(&viewer, "V", VIEWER, t1, 1, 0x44, 1)) {
		collect_all_uas(&viewer, 1);
		write_blocks(&viewer, 0, 0, 8, 0, 0x5b);
		wut(&viewer, 0, 15, tok2, 0, false, (struct range[]){ { 0, 8 } }, 1, &r);
		expect(&r, "CHECK CONDITION A/0D/02",
		       "the viewer (no LUN of the source) uses A's token");
		pr_check(blocks_are(&viewer, 0, 0, 8, 0, 0, 0x5b), "the group's LUN is not written");
		nexus_logout(&viewer);
	}
	/* Reservations: B's Write Exclusive of LUN 1 refuses A's WRITE
	 * USING TOKEN there (its internal WRITEs are A's), not B's. */
	if (populate(&a, LUN_SRC, 24, 0, (struct range[]){ { 0, 16 } }, 1, tok2)) {
		write_blocks(&a, LUN_DST, 900, 16, 0, 0xd0);
		prout_lun(&b, LUN_DST, PRO_REGISTER, 0, 0, 0xb0b, &r);
		expect(&r, "GOOD", "B registers at LUN 1");
		prout_lun(&b, LUN_DST, PRO_RESERVE, WE, 0xb0b, 0, &r);
		expect(&r, "GOOD", "B reserves LUN 1 Write Exclusive");
		wut(&a, LUN_DST, 25, tok2, 0, false, (struct range[]){ { 900, 16 } }, 1, &r);
		expect(&r, "RESERVATION CONFLICT", "A's WRITE USING TOKEN to B's reserved LUN 1");
		pr_check(blocks_are(&b, LUN_DST, 900, 16, 0, 0, 0xd0), "LUN 1 is not written");
		wut(&b, LUN_DST, 26, tok2, 0, false, (struct range[]){ { 900, 16 } }, 1, &r);
		expect(&r, "GOOD", "B, the holder, writes LUN 1 with A's token");
		pr_check(blocks_are(&b, LUN_DST, 900, 16, 0x41, 0, 0), "LUN 1 has LUN 0's data");
		prout_lun(&b, LUN_DST, PRO_CLEAR, 0, 0xb0b, 0, &r);
		expect(&r, "GOOD", "B clears LUN 1's reservation");
	}

	/* A read-only destination. */
	wut(&a, LUN_RO, 16, tok2, 0, false, (struct range[]){ { 0, 8 } }, 1, &r);
	expect(&r, "CHECK CONDITION 7/27/00", "WRITE USING TOKEN to the read-only LUN");

	/* Malformed lists: exact sense, nothing written (LUN 1 LBA 0-31). */
	write_blocks(&a, LUN_DST, 0, 32, 0, 0xee);
	len = pt_list(list, 0, (struct range[]){ { 0, 8 } }, 1);
	bad_odx("POPULATE TOKEN list of 10 bytes", 0x10, list, 10, "CHECK CONDITION 5/1A/00", -1, -1);
	put16(list + 14, 8);
	bad_odx("range descriptor list length 8", 0x10, list, len, "CHECK CONDITION 5/26/00", 14, -1);
	pt_list(list, 0, (struct range[]){ { 0, 8 } }, 1);
	list[2] = 0x02;
	put32(list + 8, 0xffff0001);
	bad_odx("POPULATE TOKEN of ROD type FFFF0001h", 0x10, list, len, "CHECK CONDITION 5/26/00",
		8, -1);
	pt_list(list, 100000, (struct range[]){ { 0, 8 } }, 1);
	bad_odx("inactivity timeout 100000 s", 0x10, list, len, "CHECK CONDITION 5/26/00", 4, -1);
	pt_list(list, 0, (struct range[]){ { 131072 - 4, 8 } }, 1);
	bad_odx("a range beyond the end", 0x10, list, len, "CHECK CONDITION 5/21/00", -1, -1);
	len = pt_list(list, 0, (struct range[]){ { 0, 8 }, { 4, 8 } }, 2);
	bad_odx("overlapping ranges", 0x10, list, len, "CHECK CONDITION 5/26/00", 32, -1);
	len = pt_list(list, 0, (struct range[16]){ { 0, 1 } }, 16);
	put16(list, (uint16_t)(len + 16 - 2));
	put16(list + 14, 17 * 16);
	bad_odx("17 range descriptors", 0x10, list, len + 16, "CHECK CONDITION 5/1A/00", -1, -1);
	pt_list(list, 0, (struct range[]){ { 0, 8 } }, 1);
	put16(list, 10);
	bad_odx("DATA LENGTH shorter than the descriptors", 0x10, list, PT_HDR + 16,
		"CHECK CONDITION 5/1A/00", -1, -1);

	if (!populate(&a, LUN_SRC, 17, 0, (struct range[]){ { 0, 8 } }, 1, tok2))
		return;
	len = wut_list(list, tok2, 8, false, (struct range[]){ { 0, 8 } }, 1);
	bad_odx("OFFSET INTO ROD 8 of an 8-block token", 0x11, list, len, "CHECK CONDITION 5/26/00",
		8, -1);
	wut_list(list, tok2, 0, false, (struct range[]){ { 0, 8 } }, 1);
	list[16 + 200] ^= 1;
	bad_odx("a token with one byte changed", 0x11, list, len, "CHECK CONDITION A/23/04", -1, -1);
	wut_list(list, tok2, 0, false, (struct range[]){ { 0, 8 } }, 1);
	put16(list + 16 + 6, 0x100);
	bad_odx("ROD TOKEN LENGTH 0100h", 0x11, list, len, "CHECK CONDITION A/23/0A", -1, -1);
	wut_list(list, tok2, 0, false, (struct range[]){ { 0, 8 } }, 1);
	put16(list + 534, 0);
	bad_odx("no range descriptors", 0x11, list, len, "CHECK CONDITION 5/26/00", 534, -1);
	wut_list(list, tok2, 0, false, (struct range[]){ { 0, 8 } }, 1);
	list[530] = 1;
	bad_odx("reserved byte 530", 0x11, list, len, "CHECK CONDITION 5/26/00", 530, -1);
	len = wut_list(list, tok2, 0, false, (struct range[]){ { 0, 4 }, { 2, 4 } }, 2);
	bad_odx("overlapping destination ranges", 0x11, list, len, "CHECK CONDITION 5/26/00",
		WUT_HDR + 16, -1);
	len = wut_list(list, tok2, 0, false, (struct range[]){ { 131072 - 4, 8 } }, 1);
	bad_odx("a destination range beyond the end", 0x11, list, len, "CHECK CONDITION 5/21/00",
		-1, -1);
	bad_odx("WRITE USING TOKEN list of 100 bytes", 0x11, list, 100, "CHECK CONDITION 5/1A/00",
		-1, -1);
	pr_check(blocks_are(&a, LUN_DST, 0, 32, 0, 0, 0xee), "no malformed list wrote LUN 1");
	rrti(&a, LUN_DST, 0x12345, &r);
	if (expect(&r, "CHECK CONDITION 5/24/00", "RRTI of an unknown list identifier"))
		expect_pointer(&r, true, 2, -1, "its LIST IDENTIFIER");

	/* VPD 0x8F: Block Device ROD Token Limits and the ROD types. */
	{
		uint8_t cdb[6] = { 0x12, 0x01, 0x8f, 0x02, 0x00, 0x00 };
		bool limits = false, types = false, features = false;

		send_lun_cdb(&a, LUN_SRC, cdb, 6, SCSI_XFER_READ, NULL, 0, 512, &r);
		for (int off = 4; r.status == SCSI_STATUS_GOOD && off + 4 <= r.len;
		     off += 4 + be16(r.data + off + 2)) {
			limits |= be16(r.data + off) == 0x0000 && be16(r.data + off + 10) == 16 &&
				  be32(r.data + off + 16) == 30;
			/* ROD type descriptors are 64 bytes each (SPC-4 7.8.17.11). */
			types |= be16(r.data + off) == 0x0108 && be16(r.data + off + 2) == 4 + 128 &&
				 be32(r.data + off + 8) == 0x00800001 && r.data[off + 12] == 0x03 &&
				 be32(r.data + off + 72) == 0xffff0001 && r.data[off + 76] == 0x02;
			/* ROD Token Features with the block device's features
			 * descriptor (SBC-4): Windows reads it before offloading. */
			features |= be16(r.data + off) == 0x0106 && be16(r.data + off + 2) == 92 &&
				    be32(r.data + off + 24) == 3600 && be16(r.data + off + 46) == 48 &&
				    r.data[off + 48] == 0x00 && be16(r.data + off + 50) == 44 &&
				    be64(r.data + off + 56) == (2u << 20) * 512ull;
		}
		pr_check(limits && types && features,
			 "VPD 0x8F: ROD token limits (16 ranges, 30 s) %d, ROD types %d, "
			 "ROD token features %d", limits, types, features);
	}
}

/* ---- ODX token life (odx_life, odx_zero_thin, odx_resize) ---- */

#define INI3 "iqn.2026-12.test:xcopy-c"

/* Target 2's LUNs (xcopy.sh). */
enum { LUN2_OTHER = 0, LUN2_SRC = 1, LUN2_THIN = 2, LUN2_SHRINK = 3, LUN2_REM = 4 };

/* POPULATE TOKEN alone (its record stays for RRTI). */
static void populate_raw(struct nexus *n, int lun, uint32_t list_id, const struct range *rg,
			 unsigned nr, struct result *r)
{
	uint8_t list[PT_HDR + 16 * 16];

	odx_send(n, lun, 0x10, list_id, list, pt_list(list, 0, rg, nr), r);
}

/* RRTI of @list_id must say INVALID FIELD IN CDB at byte 2: no record. */
static void expect_no_record(struct nexus *n, int lun, uint32_t list_id, const char *why)
{
	struct result r;

	rrti(n, lun, list_id, &r);
	if (expect(&r, "CHECK CONDITION 5/24/00", "RRTI of list id %u: %s", list_id, why))
		expect_pointer(&r, true, 2, -1, "its LIST IDENTIFIER");
}

/* One request to uscstd's management socket ($XCOPY_RPC_SOCKET), a
 * newline-terminated JSON-RPC reply: whether it had a result (the reply
 * into @reply). */
static bool mgmt_rpc(const char *method, const char *device, char *reply, size_t cap)
{
	const char *path = getenv("XCOPY_RPC_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char req[256];
	size_t got = 0;
	int fd;

	reply[0] = 0;
	if (!path || strlen(path) >= sizeof(sa.sun_path))
		return false;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		if (fd >= 0)
			close(fd);
		return false;
	}
	snprintf(req, sizeof(req),
		 "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"%s\",\"params\":{\"device\":\"%s\"}}\n",
		 method, device);
	if (write(fd, req, strlen(req)) != (ssize_t)strlen(req)) {
		close(fd);
		return false;
	}
	while (got + 1 < cap && !memchr(reply, '\n', got)) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t k;

		if (poll(&p, 1, 30000) <= 0)
			break;
		k = read(fd, reply + got, cap - 1 - got);
		if (k <= 0)
			break;
		got += (size_t)k;
		reply[got] = 0;
	}
	close(fd);
	return strstr(reply, "\"result\"") && !strstr(reply, "\"error\"");
}

/* The 512-byte sectors the backing file $XCOPY_WORKDIR/@name occupies. */
static long long file_sectors(const char *name)
{
	char path[512];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", getenv("XCOPY_WORKDIR") ? getenv("XCOPY_WORKDIR") : ".",
		 name);
	return stat(path, &st) ? -1 : (long long)st.st_blocks;
}

/* TEST UNIT READY on @lun until GOOD: the unit attentions, "2A/09 ..." */
static void lun_uas(struct nexus *n, int lun, char *out, size_t cap)
{
	uint8_t cdb[6] = { 0 };
	struct result r;
	size_t at = 0;

	out[0] = 0;
	for (int i = 0; i < 16; i++) {
		send_lun_cdb(n, lun, cdb, 6, SCSI_XFER_NONE, NULL, 0, 0, &r);
		if (r.status != SCSI_STATUS_CHECK_CONDITION || r.sense_key != 6)
			break;
		at += (size_t)snprintf(out + at, cap - at, "%s%02X/%02X", at ? " " : "", r.asc,
				       r.ascq);
	}
}

/* @nblocks of @seed's pattern from @lba, 2048 blocks per WRITE. */
static bool write_many(struct nexus *n, int lun, uint64_t lba, uint32_t nblocks, uint8_t seed)
{
	for (uint32_t done = 0; done < nblocks; done += 2048) {
		uint32_t k = nblocks - done < 2048 ? nblocks - done : 2048;

		if (!write_blocks(n, lun, lba + done, k, seed, 0))
			return false;
	}
	return true;
}

/* A session's end takes its records, not its tokens; one session's
 * records do not crowd out another's. */
static void scenario_odx_life(void)
{
	uint8_t tok_c[TOKEN_LEN], tok_d[TOKEN_LEN], tok_e[TOKEN_LEN];
	struct nexus c, c2;
	struct result r;
	unsigned good = 0, first_bad = 0;

	write_blocks(&a, LUN_SRC, 0, 128, 0x41, 0);
	write_blocks(&a, LUN_DST, 0, 300, 0, 0xee);
	if (!nexus_login(&c, "C", INI3, t1, 1, 0x55, 1))
		return;
	collect_all_uas(&c, 2);
	/* A's record before C's thousand. */
	populate_raw(&a, LUN_SRC, 7, (struct range[]){ { 0, 8 } }, 1, &r);
	expect(&r, "GOOD", "A's POPULATE TOKEN list id 7");
	if (!populate(&c, LUN_SRC, 1, 0, (struct range[]){ { 0, 64 } }, 1, tok_c))
		return;

	/* 1000 POPULATE TOKENs of LBA 200-207, no RRTI: every 32nd is
	 * followed by a write there, which revokes them and frees their
	 * places (at most 64 live tokens per device: without that, the 64th
	 * would get INSUFFICIENT RESOURCES). */
	for (unsigned i = 0; i < 1000; i++) {
		populate_raw(&c, LUN_SRC, 100 + i, (struct range[]){ { 200, 8 } }, 1, &r);
		if (r.status == SCSI_STATUS_GOOD)
			good++;
		else if (!first_bad)
			first_bad = 100 + i;
		if (i % 32 == 31)
			write_blocks(&c, LUN_SRC, 200, 1, 0x41, 0);
	}
	pr_check(good == 1000, "C's 1000 POPULATE TOKENs with revoking writes between: %u GOOD "
		 "(first refused: list id %u, %s)", good, first_bad, first_bad ? describe(&r) : "-");
	/* The 256 newest are kept: 844..1099. */
	expect_no_record(&c, LUN_SRC, 843, "the 257th newest of C's records is gone");
	rrti(&c, LUN_SRC, 844, &r);
	pr_check(r.status == SCSI_STATUS_GOOD && r.data[4] == 0x10 && r.data[5] == 0x01,
		 "RRTI of C's 256th newest record (list id 844): %s, SA %02x, status %02x",
		 describe(&r), r.data[4], r.data[5]);
	rrti(&c, LUN_SRC, 1099, &r);
	pr_check(r.status == SCSI_STATUS_GOOD && r.data[5] == 0x01 && r.len >= 38 + TOKEN_LEN &&
			 be32(r.data + 38) == 0x00800001,
		 "RRTI of C's newest record (list id 1099): %s, a token", describe(&r));
	rrti(&a, LUN_SRC, 7, &r);
	pr_check(r.status == SCSI_STATUS_GOOD && r.data[5] == 0x01,
		 "A's record (list id 7) outlived C's thousand: %s", describe(&r));

	/* Logout: C's 254 records go (xcopy.sh reads the log line), its
	 * token stays. */
	nexus_logout(&c);
	if (!nexus_login(&c, "C'", INI3, t1, 1, 0x55, 1))
		return;
	collect_all_uas(&c, 2);
	expect_no_record(&c, LUN_SRC, 1098, "C's record after its session logged out");
	wut(&a, LUN_DST, 2, tok_c, 0, false, (struct range[]){ { 10, 64 } }, 1, &r);
	expect(&r, "GOOD", "A's WRITE USING TOKEN with C's token, C's session gone");
	pr_check(blocks_are(&a, LUN_DST, 10, 64, 0x41, 0, 0), "LUN 1 LBA 10-73 has LBA 0-63");

	/* Nexus loss: C' made a token and left a record, then its
	 * connection drops. */
	if (!populate(&c, LUN_SRC, 3, 0, (struct range[]){ { 64, 32 } }, 1, tok_d))
		return;
	populate_raw(&c, LUN_SRC, 4, (struct range[]){ { 0, 8 } }, 1, &r);
	expect(&r, "GOOD", "C' POPULATE TOKEN list id 4, not collected");
	nexus_drop(&c);
	if (!nexus_login(&c, "C''", INI3, t1, 1, 0x55, 1))
		return;
	collect_all_uas(&c, 2);
	expect_no_record(&c, LUN_SRC, 4, "C's record after its connection dropped");
	wut(&c, LUN_DST, 5, tok_d, 0, false, (struct range[]){ { 100, 32 } }, 1, &r);
	expect(&r, "GOOD", "the token of the dropped session used by the next one");
	pr_check(blocks_are(&a, LUN_DST, 100, 32, 0x41, 64, 0), "LUN 1 LBA 100-131 has LBA 64-95");

	/* Reinstatement: a login with C''s ISID replaces its session. */
	if (!populate(&c, LUN_SRC, 6, 0, (struct range[]){ { 96, 32 } }, 1, tok_e))
		return;
	populate_raw(&c, LUN_SRC, 8, (struct range[]){ { 0, 8 } }, 1, &r);
	expect(&r, "GOOD", "C'' POPULATE TOKEN list id 8, not collected");
	if (!nexus_login(&c2, "C3", INI3, t1, 1, 0x55, 1))
		return;
	collect_all_uas(&c2, 2);
	expect_no_record(&c2, LUN_SRC, 8, "C's record after its session was reinstated");
	wut(&b, LUN_DST, 9, tok_e, 0, false, (struct range[]){ { 200, 32 } }, 1, &r);
	expect(&r, "GOOD", "B uses the token of the reinstated session");
	pr_check(blocks_are(&a, LUN_DST, 200, 32, 0x41, 96, 0), "LUN 1 LBA 200-231 has LBA 96-127");
	nexus_drop(&c);
	/* Left alive for the daemon's exit (ASan's leak check): C3's and
	 * A's records, tokens of src. */
	populate_raw(&c2, LUN_SRC, 10, (struct range[]){ { 0, 16 } }, 1, &r);
	expect(&r, "GOOD", "C3's POPULATE TOKEN, left for the exit");
	populate_raw(&a, LUN_SRC, 11, (struct range[]){ { 16, 16 } }, 1, &r);
	expect(&r, "GOOD", "A's POPULATE TOKEN, left for the exit");
	nexus_logout(&c2);
}

/* The zero ROD token on a thin LUN deallocates; on a thick one it
 * writes zeros. 8 MiB of data each, all but the first and last block
 * zeroed. */
static void scenario_odx_zero_thin(void)
{
	static const struct { int lun; const char *file; bool thin; } luns[] = {
		{ LUN2_THIN, "thin.img", true },
		{ LUN2_OTHER, "other.img", false },
	};
	uint8_t zero[TOKEN_LEN] = { 0 };
	struct nexus t;
	struct result r;

	put32(zero, 0xffff0001);
	put16(zero + 6, 0x1f8);
	if (!nexus_login(&t, "T@t2", INI1, t2, 2, 0x66, 1))
		return;
	collect_all_uas(&t, 5);
	for (unsigned i = 0; i < 2; i++) {
		int lun = luns[i].lun;
		long long before, after;
		uint8_t rc16[16] = { 0x9e, 0x10, [13] = 32 };

		send_lun_cdb(&t, lun, rc16, 16, SCSI_XFER_READ, NULL, 0, 32, &r);
		pr_check(r.status == SCSI_STATUS_GOOD && (r.data[14] & 0xc0) == (luns[i].thin ? 0xc0 : 0),
			 "READ CAPACITY(16) of %s: LBPME/LBPRZ %02x", luns[i].file, r.data[14] & 0xc0);
		if (!write_many(&t, lun, 0, 16384, 0x51))
			return;
		before = file_sectors(luns[i].file);
		wut(&t, lun, 30 + i, zero, 0, false, (struct range[]){ { 1, 16382 } }, 1, &r);
		expect(&r, "GOOD", "WRITE USING TOKEN, the zero ROD token, onto %s LBA 1-16382",
		       luns[i].file);
		expect_wut_info(&t, lun, 30 + i, 0x01, 16382);
		after = file_sectors(luns[i].file);
		if (luns[i].thin)
			pr_check(before >= 16384 && after <= before - 16000,
				 "%s: %lld sectors before, %lld after: the zeroed blocks were "
				 "deallocated", luns[i].file, before, after);
		else
			pr_check(before >= 16384 && after >= before,
				 "%s: %lld sectors before, %lld after: zeros were written, nothing "
				 "deallocated", luns[i].file, before, after);
		pr_check(blocks_are(&t, lun, 1, 16382, 0, 0, 0) &&
				 blocks_are(&t, lun, 0, 1, 0x51, 0, 0) &&
				 blocks_are(&t, lun, 16383, 1, 0x51, 16383, 0),
			 "%s: LBA 1-16382 read zeros, LBA 0 and 16383 keep their data", luns[i].file);
	}
	nexus_logout(&t);
}

/* Tokens revoked by what changes a device under them: a shrink past
 * their blocks, an eject, FORMAT UNIT. */
static void scenario_odx_resize(void)
{
	uint8_t tok_end[TOKEN_LEN], tok_low[TOKEN_LEN], tok[TOKEN_LEN];
	char reply[1024], uas[128];
	char path[512];
	struct nexus t;
	struct result r;

	if (!nexus_login(&t, "R@t2", INI1, t2, 2, 0x77, 1))
		return;
	collect_all_uas(&t, 5);
	write_blocks(&t, LUN2_OTHER, 0, 128, 0, 0xee);

	/* The shrink: 16384 blocks to 8192. */
	write_blocks(&t, LUN2_SHRINK, 0, 128, 0x61, 0);
	write_blocks(&t, LUN2_SHRINK, 12000, 32, 0x62, 0);
	if (!populate(&t, LUN2_SHRINK, 40, 0, (struct range[]){ { 12000, 32 } }, 1, tok_end) ||
	    !populate(&t, LUN2_SHRINK, 41, 0, (struct range[]){ { 0, 64 } }, 1, tok_low))
		return;
	snprintf(path, sizeof(path), "%s/shrink.img", getenv("XCOPY_WORKDIR"));
	pr_check(truncate(path, 4 << 20) == 0, "shrink.img truncated to 4 MiB");
	pr_check(mgmt_rpc("device.resync_size", "shrink", reply, sizeof(reply)) &&
			 strstr(reply, "\"changed\":true") && strstr(reply, "\"nblocks\":8192"),
		 "device.resync_size shrink: %s", reply);
	lun_uas(&t, LUN2_SHRINK, uas, sizeof(uas));
	pr_check(!strcmp(uas, "2A/09"), "LUN 3's unit attentions: '%s' (2A/09)", uas);
	wut(&t, LUN2_OTHER, 42, tok_end, 0, false, (struct range[]){ { 0, 32 } }, 1, &r);
	expect(&r, "CHECK CONDITION A/23/06", "a token of blocks beyond the new end (TOKEN REVOKED)");
	pr_check(blocks_are(&t, LUN2_OTHER, 0, 32, 0, 0, 0xee), "LUN 0 of target 2 not written");
	wut(&t, LUN2_OTHER, 43, tok_low, 0, false, (struct range[]){ { 0, 64 } }, 1, &r);
	expect(&r, "GOOD", "a token of blocks within the new end");
	pr_check(blocks_are(&t, LUN2_OTHER, 0, 64, 0x61, 0, 0), "LUN 0 of target 2 has its data");

	/* FORMAT UNIT (no parameter list): the medium is rewritten. */
	if (populate(&t, LUN2_SHRINK, 44, 0, (struct range[]){ { 0, 64 } }, 1, tok)) {
		uint8_t fmt[6] = { 0x04 };

		send_lun_cdb(&t, LUN2_SHRINK, fmt, 6, SCSI_XFER_NONE, NULL, 0, 0, &r);
		expect(&r, "GOOD", "FORMAT UNIT of LUN 3");
		wut(&t, LUN2_OTHER, 45, tok, 0, false, (struct range[]){ { 0, 64 } }, 1, &r);
		expect(&r, "CHECK CONDITION A/23/06", "a token after FORMAT UNIT (TOKEN REVOKED)");
	}

	/* An eject by management, then a load. */
	write_blocks(&t, LUN2_REM, 0, 64, 0x63, 0);
	if (populate(&t, LUN2_REM, 46, 0, (struct range[]){ { 0, 64 } }, 1, tok)) {
		pr_check(mgmt_rpc("device.eject", "rem", reply, sizeof(reply)), "device.eject rem: %s",
			 reply);
		pr_check(mgmt_rpc("device.load", "rem", reply, sizeof(reply)), "device.load rem: %s",
			 reply);
		lun_uas(&t, LUN2_REM, uas, sizeof(uas));
		pr_check(!strcmp(uas, "28/00"), "LUN 4's unit attentions: '%s' (28/00)", uas);
		wut(&t, LUN2_OTHER, 47, tok, 0, false, (struct range[]){ { 0, 64 } }, 1, &r);
		expect(&r, "CHECK CONDITION A/23/06", "a token after device.eject (TOKEN REVOKED)");
	}
	/* An eject by START STOP UNIT (LOEJ), then a load. */
	if (populate(&t, LUN2_REM, 48, 0, (struct range[]){ { 0, 64 } }, 1, tok)) {
		uint8_t ssu[6] = { 0x1b, 0, 0, 0, 0x02, 0 };

		send_lun_cdb(&t, LUN2_REM, ssu, 6, SCSI_XFER_NONE, NULL, 0, 0, &r);
		expect(&r, "GOOD", "START STOP UNIT LOEJ=1 START=0 (eject) of LUN 4");
		ssu[4] = 0x03;
		send_lun_cdb(&t, LUN2_REM, ssu, 6, SCSI_XFER_NONE, NULL, 0, 0, &r);
		expect(&r, "GOOD", "START STOP UNIT LOEJ=1 START=1 (load) of LUN 4");
		wut(&t, LUN2_OTHER, 49, tok, 0, false, (struct range[]){ { 64, 64 } }, 1, &r);
		expect(&r, "CHECK CONDITION A/23/06",
		       "a token after START STOP UNIT ejected the medium (TOKEN REVOKED)");
		pr_check(blocks_are(&t, LUN2_OTHER, 64, 64, 0, 0, 0xee), "LUN 0 LBA 64-127 not written");
	}
	/* A token made after all that works. */
	if (populate(&t, LUN2_REM, 50, 0, (struct range[]){ { 0, 64 } }, 1, tok)) {
		wut(&t, LUN2_OTHER, 51, tok, 0, false, (struct range[]){ { 64, 64 } }, 1, &r);
		expect(&r, "GOOD", "a token of the loaded medium");
		pr_check(blocks_are(&t, LUN2_OTHER, 64, 64, 0x63, 0, 0), "LUN 0 LBA 64-127 has it");
	}
	nexus_logout(&t);
}

/* ---- IMMED, COPY OPERATION ABORT, PREEMPT AND ABORT (copy_job.c) ---- */

/* LUN 10 of target 1: a 2 GiB fileio LUN the long copies write, from
 * the nullio LUN 2 (zeros), with a marker block (0xab) every 8 MiB, so
 * that where a stopped copy got to is seen on the medium. */
enum { LUN_BIGDST = 10 };
#define BIGDST_BYTES (2048ull << 20)
#define MARK_EVERY (8u << 20)
#define SEG_MAX (256u << 20)

static struct lu_ids id_bigdst;

/* LUN 10 on @n: its POWER ON (and whatever else is queued) collected,
 * its designators read. */
static bool bigdst_ready(struct nexus *n)
{
	uint8_t cdb[6] = { 0 };
	struct result r;

	for (int i = 0; i < 16; i++) {
		send_lun_cdb(n, LUN_BIGDST, cdb, 6, SCSI_XFER_NONE, NULL, 0, 0, &r);
		if (r.status != SCSI_STATUS_CHECK_CONDITION || r.sense_key != 6)
			break;
	}
	if (!lu_ids(n, LUN_BIGDST, &id_bigdst)) {
		pr_check(false, "%s: LUN 10 answers VPD page 0x83 with an NAA designator", n->label);
		return false;
	}
	return true;
}

static bool mark_bigdst(uint64_t bytes)
{
	for (uint64_t at = 0; at < bytes; at += MARK_EVERY) {
		if (!write_blocks(&a, LUN_BIGDST, at / BS, 1, 0, 0xab))
			return false;
	}
	return true;
}

/* The markers of LUN 10's first @bytes that are not what a copy of
 * zeros with TRANSFER COUNT @written leaves: zeros below, 0xab from
 * there on, but for the two 1 MiB chunks right after it: the count is
 * the prefix all written (copy_job.c job_progress()), and the copy's
 * two lanes may have had those on their way when it stopped (an
 * aborted WRITE may have reached the medium or not). */
static unsigned markers_wrong(uint64_t bytes, uint64_t written)
{
	unsigned bad = 0;

	for (uint64_t at = 0; at < bytes; at += MARK_EVERY) {
		bool below = at + BS <= written;

		if (!below && at < written + (2u << 20))
			continue;
		if (blocks_are(&a, LUN_BIGDST, at / BS, 1, 0, 0, below ? 0 : 0xab))
			continue;
		if (bad++ < 4)
			printf("  LUN 10 byte %llu: not %s\n", (unsigned long long)at,
			       below ? "zeros (copied)" : "0xab (untouched)");
	}
	return bad;
}

/* A LID4 list: @nseg 0x0A segments of @seg_bytes from nullio LUN 2 to
 * LUN 10, one after the other from block 0. */
static unsigned lid4_long_list(uint8_t *p, uint32_t list_id, bool immed, unsigned nseg,
			       uint32_t seg_bytes)
{
	memset(p, 0, HDR4);
	p[0] = 0x01;
	put32(p + 20, list_id);
	if (immed)
		p[15] = 0x01;
	put16(p + 42, 2 * CSCD);
	put16(p + 44, (uint16_t)(nseg * SEG0A));
	cscd_naa(p + HDR4, id_null_a.naa, BS);
	cscd_naa(p + HDR4 + CSCD, id_bigdst.naa, BS);
	for (unsigned i = 0; i < nseg; i++)
		seg0a(p + HDR4 + 2 * CSCD + i * SEG0A, 0, 1, seg_bytes,
		      (uint64_t)i * seg_bytes / BS, (uint64_t)i * seg_bytes / BS);
	return HDR4 + 2 * CSCD + nseg * SEG0A;
}

/* RECEIVE COPY STATUS(LID4), decoded. */
struct status4 {
	bool ok;
	int op;          /* COPY OPERATION STATUS */
	uint32_t delay;  /* ESTIMATED STATUS UPDATE DELAY */
	int cmd_status;  /* EXTENDED COPY COMPLETION STATUS */
	int key, asc;    /* of its sense data (fixed format) */
	uint64_t bytes;  /* TRANSFER COUNT (units 00h: bytes) */
	unsigned segs;
};

static struct status4 status4(struct nexus *n, int lun, uint32_t id)
{
	struct status4 s = { .op = -1 };
	struct result r;

	rcs4(n, lun, id, &r);
	if (r.status != SCSI_STATUS_GOOD || r.len < 32)
		return s;
	s.ok = r.data[15] == 0x00;
	s.op = r.data[5] & 0x7f;
	s.delay = be32(r.data + 8);
	s.cmd_status = r.data[12];
	s.bytes = be64(r.data + 16);
	s.segs = be16(r.data + 24);
	if (r.data[14] >= 14 && r.len >= 32 + 14) {
		s.key = r.data[32 + 2] & 0x0f;
		s.asc = r.data[32 + 12] << 8 | r.data[32 + 13];
	}
	return s;
}

static bool running(const struct status4 *s)
{
	return s->op >= 0x10 && s->op <= 0x12;
}

/* Polls until the copy has ended (or @secs pass). */
static struct status4 wait_end4(struct nexus *n, int lun, uint32_t id, double secs)
{
	double t0 = now();
	struct status4 s;

	do {
		s = status4(n, lun, id);
		if (!running(&s))
			break;
		poll(NULL, 0, 20);
	} while (now() - t0 < secs);
	return s;
}

/* Polls until the copy has written at least @bytes; whether it is still
 * running then. */
static bool wait_progress4(struct nexus *n, int lun, uint32_t id, uint64_t bytes,
			   struct pending *fg)
{
	double t0 = now();

	while (now() - t0 < 30) {
		struct status4 s = status4(n, lun, id);

		if (!running(&s))
			return false;
		if (s.bytes >= bytes)
			return true;
		if (fg && !service(n->c, 5))
			return false;
		if (!fg)
			poll(NULL, 0, 5);
	}
	return false;
}

/* COPY OPERATION ABORT (0x83/0x1C) of @list_id. */
static void coa_cdb(uint8_t *cdb, uint32_t list_id)
{
	memset(cdb, 0, 16);
	cdb[0] = 0x83;
	cdb[1] = 0x1c;
	put32(cdb + 2, list_id);
}

static void coa(struct nexus *n, int lun, uint32_t list_id, struct result *r)
{
	uint8_t cdb[16];

	coa_cdb(cdb, list_id);
	send_lun_cdb(n, lun, cdb, 16, SCSI_XFER_NONE, NULL, 0, 0, r);
}

/* RECEIVE COPY DATA(LID4) (0x84/0x06). */
static void rcd4(struct nexus *n, int lun, uint32_t list_id, struct result *r)
{
	uint8_t cdb[16];

	rcr_cdb(cdb, 0x06, 0);
	put32(cdb + 2, list_id);
	send_lun_cdb(n, lun, cdb, 16, SCSI_XFER_READ, NULL, 0, 1024, r);
}

/* Sends a LID4 list without waiting for its status. */
static struct scsi_task *ecopy4_async(struct nexus *n, int lun, uint8_t *list, unsigned len,
				      struct pending *p)
{
	static struct iscsi_data d;
	struct scsi_task *t;
	uint8_t cdb[16];

	d.size = len;
	d.data = list;
	ecopy_cdb(cdb, len);
	cdb[1] = 0x01;
	t = scsi_create_task(16, cdb, SCSI_XFER_WRITE, (int)len);
	if (t && iscsi_scsi_command_async(n->c, lun, t, task_cb, &d, p)) {
		scsi_free_scsi_task(t);
		return NULL;
	}
	return t;
}

/* REPORT SUPPORTED OPERATION CODES for one opcode and service action:
 * its SUPPORT field (3: as the standard says). */
static int rsoc_support(struct nexus *n, int lun, uint8_t opcode, uint16_t sa)
{
	uint8_t cdb[12] = { 0xa3, 0x0c, 0x02, opcode };
	struct result r;

	put16(cdb + 4, sa);
	put32(cdb + 6, 64);
	send_lun_cdb(n, lun, cdb, 12, SCSI_XFER_READ, NULL, 0, 64, &r);
	return r.status == SCSI_STATUS_GOOD && r.len >= 2 ? r.data[1] & 0x07 : -1;
}

/* Whether VPD page 0x8F's Supported Commands descriptor lists @sa under
 * @opcode. */
static bool vpd_8f_lists(struct nexus *n, uint8_t opcode, uint8_t sa)
{
	uint8_t cdb[6] = { 0x12, 0x01, 0x8f, 0x02, 0x00, 0x00 };
	struct result r;

	send_lun_cdb(n, LUN_SRC, cdb, 6, SCSI_XFER_READ, NULL, 0, 512, &r);
	for (int off = 4; r.status == SCSI_STATUS_GOOD && off + 5 <= r.len;
	     off += 4 + be16(r.data + off + 2)) {
		int end;

		if (be16(r.data + off) != 0x0001)
			continue;
		end = off + 5 + r.data[off + 4];
		for (int c = off + 5; c + 2 <= end && c + 2 <= r.len; c += 2 + r.data[c + 1]) {
			if (r.data[c] != opcode)
				continue;
			for (int i = 0; i < r.data[c + 1]; i++)
				if (r.data[c + 2 + i] == sa)
					return true;
		}
	}
	return false;
}

/* EXTENDED COPY(LID4) with IMMED: GOOD before the copy ends, status from
 * RECEIVE COPY STATUS(LID4) until 01h, the data read back; an IMMED
 * list that cannot be done fails at once; RECEIVE COPY DATA(LID4); the
 * two new service actions in REPORT SUPPORTED OPERATION CODES and VPD
 * 0x8F; the session's end while a background copy runs. */
static void scenario_immed(void)
{
	static uint8_t list[HDR4 + 2 * CSCD + 8 * SEG0A];
	const uint64_t bytes = 256u << 20;
	struct status4 s;
	struct result r;
	unsigned len;
	double t0, t_cmd;

	if (!bigdst_ready(&a) || !bigdst_ready(&b) || !mark_bigdst(bytes + (16u << 20)))
		return;
	len = lid4_long_list(list, 0x1001, true, 1, (uint32_t)bytes);
	t0 = now();
	ecopy4(&a, LUN_NULL_A, list, len, &r);
	t_cmd = now() - t0;
	expect(&r, "GOOD", "EXTENDED COPY(LID4) with IMMED: 256 MiB from nullio LUN 2 to fileio "
			   "LUN 10 (%.3f s)", t_cmd);
	s = status4(&a, LUN_NULL_A, 0x1001);
	pr_check(s.ok && s.op == 0x12 && s.bytes < bytes && s.delay > 0,
		 "right after its GOOD, RECEIVE COPY STATUS(LID4): %02x (12h, running in the "
		 "background), %llu of %llu bytes, ESTIMATED STATUS UPDATE DELAY %u ms",
		 s.op, (unsigned long long)s.bytes, (unsigned long long)bytes, s.delay);
	ecopy4(&a, LUN_NULL_A, list, len, &r);
	expect(&r, "CHECK CONDITION 5/00/16",
	       "a second copy with list id 0x1001 while it runs: OPERATION IN PROGRESS");
	rcd4(&a, LUN_NULL_A, 0x1001, &r);
	if (expect(&r, "GOOD", "RECEIVE COPY DATA(LID4) of the running copy") && r.len >= 36)
		pr_check(be32(r.data) == 32 && r.data[4] == 0x01 &&
				 (running(&(struct status4){ .op = r.data[5] & 0x7f })) &&
				 be32(r.data + 32) == 0,
			 "RECEIVE COPY DATA(LID4): AVAILABLE DATA %u (32), for SA %02x (01), status "
			 "%02x (running), HELD DATA LENGTH %u (0)",
			 be32(r.data), r.data[4], r.data[5], be32(r.data + 32));
	tur(&b, &r);
	expect(&r, "GOOD", "another session is served meanwhile");
	s = wait_end4(&a, LUN_NULL_A, 0x1001, 120);
	pr_check(s.ok && s.op == 0x01 && s.cmd_status == 0 && s.bytes == bytes && s.segs == 1,
		 "the background copy ends: status %02x (01), command status %02x (00), %llu bytes "
		 "(%llu), %u segment(s) (1)", s.op, s.cmd_status, (unsigned long long)s.bytes,
		 (unsigned long long)bytes, s.segs);
	pr_check(markers_wrong(bytes + (16u << 20), bytes) == 0,
		 "LUN 10 holds the copy (zeros) below 256 MiB and its markers beyond");
	rcs4(&a, LUN_NULL_A, 0x1001, &r);
	expect(&r, "CHECK CONDITION 5/24/00", "its record is forgotten once reported ended");

	/* An IMMED list that cannot be done whole is refused before GOOD. */
	len = lid4_long_list(list, 0x1002, true, 1, 1u << 20);
	put64(list + HDR4 + 2 * CSCD + 20, BIGDST_BYTES / BS - 8);
	ecopy4(&a, LUN_NULL_A, list, len, &r);
	if (expect(&r, "CHECK CONDITION A/00/00", "an IMMED copy beyond the end of LUN 10"))
		expect_pointer(&r, false, HDR4 + 2 * CSCD + 20, -1, "the destination LBA");
	s = status4(&a, LUN_NULL_A, 0x1002);
	pr_check(s.op == 0x02, "its record says completed with errors (%02x, 02)", s.op);
	len = lid4_long_list(list, 0, true, 1, 1u << 20);
	list[1] = 3 << 3;
	ecopy4(&a, LUN_NULL_A, list, len, &r);
	if (expect(&r, "CHECK CONDITION 5/26/00", "IMMED with LIST ID USAGE 11b (no list id)"))
		expect_pointer(&r, false, 15, 0, "IMMED");

	/* RECEIVE COPY DATA(LID4) of an ended, held copy; the record stays
	 * for RECEIVE COPY STATUS(LID4). */
	len = lid4_list(list, 0x1003, 0, id_src.naa, id_dst.naa, 8, 0, 0);
	ecopy4(&a, LUN_SRC, list, len, &r);
	expect(&r, "GOOD", "a small LID4 copy with held list id 0x1003");
	rcd4(&a, LUN_SRC, 0x1003, &r);
	if (expect(&r, "GOOD", "RECEIVE COPY DATA(LID4) of list id 0x1003") && r.len >= 36)
		pr_check(r.data[4] == 0x01 && r.data[5] == 0x01 && be32(r.data + 32) == 0 &&
				 be64(r.data + 16) == 8 * BS,
			 "status %02x (01), %llu bytes (4096), HELD DATA LENGTH %u (0)", r.data[5],
			 (unsigned long long)be64(r.data + 16), be32(r.data + 32));
	s = status4(&a, LUN_SRC, 0x1003);
	pr_check(s.op == 0x01, "RECEIVE COPY STATUS(LID4) still has it afterwards (%02x)", s.op);
	rcd4(&a, LUN_SRC, 0x7abc, &r);
	if (expect(&r, "CHECK CONDITION 5/24/00", "RECEIVE COPY DATA(LID4) of an unknown list id"))
		expect_pointer(&r, true, 2, -1, "its LIST IDENTIFIER");

	pr_check(rsoc_support(&a, LUN_SRC, 0x83, 0x1c) == 3,
		 "REPORT SUPPORTED OPERATION CODES: COPY OPERATION ABORT is supported");
	pr_check(rsoc_support(&a, LUN_SRC, 0x84, 0x06) == 3,
		 "REPORT SUPPORTED OPERATION CODES: RECEIVE COPY DATA(LID4) is supported");
	pr_check(vpd_8f_lists(&a, 0x83, 0x1c) && vpd_8f_lists(&a, 0x84, 0x06),
		 "VPD 0x8F Supported Commands lists 83h/1Ch and 84h/06h");

	/* The session ends while its background copy runs: the copy stops
	 * (xcopy.sh finds it terminated in the log), the session goes, a
	 * new login works and LUN 10 no longer changes. */
	mark_bigdst(BIGDST_BYTES);
	len = lid4_long_list(list, 0x1004, true, 8, SEG_MAX);
	ecopy4(&a, LUN_NULL_A, list, len, &r);
	expect(&r, "GOOD", "a 2 GiB background copy, list id 0x1004");
	pr_check(wait_progress4(&a, LUN_NULL_A, 0x1004, 1u << 20, NULL),
		 "it is running (at least 1 MiB written)");
	nexus_logout(&a);
	if (!nexus_login(&a, "A", INI1, t1, 1, 0x11, 1))
		return;
	collect_all_uas(&a, 6);
	bigdst_ready(&a);
	rcs4(&a, LUN_NULL_A, 0x1004, &r);
	expect(&r, "CHECK CONDITION 5/24/00", "the new session does not know list id 0x1004");
	{
		uint8_t seen[BIGDST_BYTES / MARK_EVERY];
		unsigned changed = 0;

		for (unsigned i = 0; i < sizeof(seen); i++)
			seen[i] = blocks_are(&a, LUN_BIGDST, (uint64_t)i * MARK_EVERY / BS, 1, 0, 0,
					     0xab);
		poll(NULL, 0, 300);
		for (unsigned i = 0; i < sizeof(seen); i++)
			changed += seen[i] != blocks_are(&a, LUN_BIGDST,
							 (uint64_t)i * MARK_EVERY / BS, 1, 0, 0,
							 0xab);
		pr_check(changed == 0 && !seen[0] && seen[sizeof(seen) - 1],
			 "LUN 10 no longer changes after the logout (%u marker(s) changed in 300 ms; "
			 "copied from the start, not to the end)", changed);
	}
}

/* COPY OPERATION ABORT of a background copy and of a foreground one:
 * status 60h, the TRANSFER COUNT reached, nothing written beyond it;
 * unknown and ended list ids; the list id usable again. */
static void scenario_abort_op(void)
{
	static uint8_t list[HDR4 + 2 * CSCD + 8 * SEG0A];
	struct pending ec = { 0 }, ab = { 0 };
	struct scsi_task *t, *at;
	uint8_t cdb[16];
	struct status4 s;
	struct result r;
	unsigned len, wrong;
	double t0;

	if (!bigdst_ready(&a) || !bigdst_ready(&b) || !mark_bigdst(BIGDST_BYTES))
		return;
	len = lid4_long_list(list, 0x2001, true, 8, SEG_MAX);
	ecopy4(&a, LUN_NULL_A, list, len, &r);
	expect(&r, "GOOD", "a 2 GiB background copy (IMMED), list id 0x2001");
	pr_check(wait_progress4(&a, LUN_NULL_A, 0x2001, 4u << 20, NULL),
		 "it is running (at least 4 MiB written)");
	t0 = now();
	coa(&a, LUN_NULL_A, 0x2001, &r);
	expect(&r, "GOOD", "COPY OPERATION ABORT of list id 0x2001 (%.3f s)", now() - t0);
	s = status4(&a, LUN_NULL_A, 0x2001);
	pr_check(s.ok && s.op == 0x60 && s.bytes >= (4u << 20) && s.bytes < BIGDST_BYTES,
		 "RECEIVE COPY STATUS(LID4): %02x (60h, terminated) after %llu bytes (of %llu)",
		 s.op, (unsigned long long)s.bytes, (unsigned long long)BIGDST_BYTES);
	wrong = markers_wrong(BIGDST_BYTES, s.bytes);
	pr_check(wrong == 0, "LUN 10 is copied up to the TRANSFER COUNT, untouched beyond "
			     "(%u marker(s) wrong)", wrong);
	poll(NULL, 0, 300);
	wrong = markers_wrong(BIGDST_BYTES, s.bytes);
	pr_check(wrong == 0, "and 300 ms later still (%u marker(s) wrong)", wrong);
	coa(&a, LUN_NULL_A, 0x2001, &r);
	if (expect(&r, "CHECK CONDITION 5/24/00", "COPY OPERATION ABORT of the ended copy"))
		expect_pointer(&r, true, 2, -1, "its LIST IDENTIFIER");
	coa(&a, LUN_NULL_A, 0x7777, &r);
	if (expect(&r, "CHECK CONDITION 5/24/00", "COPY OPERATION ABORT of an unknown list id"))
		expect_pointer(&r, true, 2, -1, "its LIST IDENTIFIER");
	coa(&b, LUN_NULL_A, 0x2001, &r);
	expect(&r, "CHECK CONDITION 5/24/00", "another nexus's list id names nothing for B");
	memset(cdb, 0, sizeof(cdb));
	coa_cdb(cdb, 1);
	cdb[9] = 1;
	send_lun_cdb(&a, LUN_NULL_A, cdb, 16, SCSI_XFER_NONE, NULL, 0, 0, &r);
	if (expect(&r, "CHECK CONDITION 5/24/00", "COPY OPERATION ABORT with reserved byte 9 set"))
		expect_pointer(&r, true, 9, -1, "byte 9");

	/* A foreground copy (no IMMED) and COPY OPERATION ABORT from the same
	 * session: the EXTENDED COPY ends with TASK ABORTED. */
	mark_bigdst(BIGDST_BYTES);
	len = lid4_long_list(list, 0x2002, false, 8, SEG_MAX);
	t = ecopy4_async(&a, LUN_NULL_A, list, len, &ec);
	pr_check(t && wait_progress4(&a, LUN_NULL_A, 0x2002, 4u << 20, &ec),
		 "a 2 GiB foreground copy, list id 0x2002, is running");
	coa_cdb(cdb, 0x2002);
	at = scsi_create_task(16, cdb, SCSI_XFER_NONE, 0);
	t0 = now();
	if (at && !iscsi_scsi_command_async(a.c, LUN_NULL_A, at, task_cb, NULL, &ab)) {
		while ((!ab.done || !ec.done) && now() - t0 < 30 && service(a.c, 10))
			;
	}
	pr_check(ab.done && ab.status == SCSI_STATUS_GOOD,
		 "COPY OPERATION ABORT of the foreground copy: status %#x (GOOD) in %.3f s",
		 ab.status, now() - t0);
	pr_check(ec.done && ec.status == SCSI_STATUS_TASK_ABORTED,
		 "the foreground EXTENDED COPY ends with status %#x (0x40 TASK ABORTED)", ec.status);
	s = status4(&a, LUN_NULL_A, 0x2002);
	pr_check(s.ok && s.op == 0x60 && s.bytes < BIGDST_BYTES,
		 "RECEIVE COPY STATUS(LID4): %02x (60h) after %llu bytes", s.op,
		 (unsigned long long)s.bytes);
	wrong = markers_wrong(BIGDST_BYTES, s.bytes);
	pr_check(wrong == 0, "LUN 10 untouched beyond the TRANSFER COUNT (%u wrong)", wrong);
	if (t)
		scsi_free_scsi_task(t);
	if (at)
		scsi_free_scsi_task(at);

	/* The identifier is free again. */
	len = lid4_list(list, 0x2001, 0, id_src.naa, id_dst.naa, 8, 0, 0);
	ecopy4(&a, LUN_SRC, list, len, &r);
	expect(&r, "GOOD", "a new copy with list id 0x2001");
}

/* B PREEMPT AND ABORTs A's registration at LUN 10 while A copies to it,
 * in the foreground (the EXTENDED COPY sent to LUN 2, so the copy is
 * reached through its device link) and in the background: the copy
 * stops, PREEMPT AND ABORT completes after it, nothing is written
 * beyond the TRANSFER COUNT. */
static void scenario_preempt(void)
{
	static uint8_t list[HDR4 + 2 * CSCD + 8 * SEG0A];

	if (!bigdst_ready(&a) || !bigdst_ready(&b))
		return;
	for (int immed = 0; immed < 2; immed++) {
		const char *how = immed ? "background" : "foreground";
		uint32_t id = 0x3000u + (uint32_t)immed;
		struct pending ec = { 0 };
		struct scsi_task *t = NULL;
		struct status4 s;
		struct result r;
		unsigned len, wrong;
		double t0;

		if (!mark_bigdst(BIGDST_BYTES))
			return;
		prout_lun(&a, LUN_BIGDST, PRO_REGISTER, 0, 0, 0xa1, &r);
		expect(&r, "GOOD", "A registers at LUN 10 (key 0xa1)");
		prout_lun(&b, LUN_BIGDST, PRO_REGISTER, 0, 0, 0xb2, &r);
		expect(&r, "GOOD", "B registers at LUN 10 (key 0xb2)");
		len = lid4_long_list(list, id, immed, 8, SEG_MAX);
		if (immed) {
			ecopy4(&a, LUN_NULL_A, list, len, &r);
			expect(&r, "GOOD", "A's 2 GiB background copy to LUN 10");
		} else {
			t = ecopy4_async(&a, LUN_NULL_A, list, len, &ec);
		}
		if (!wait_progress4(&a, LUN_NULL_A, id, 4u << 20, immed ? NULL : &ec)) {
			pr_check(false, "A's %s copy to LUN 10 is running", how);
			return;
		}
		t0 = now();
		prout_lun(&b, LUN_BIGDST, PRO_PREEMPT_AND_ABORT, WE, 0xb2, 0xa1, &r);
		expect(&r, "GOOD", "B's PREEMPT AND ABORT of key 0xa1 at LUN 10 (%.3f s)",
		       now() - t0);
		if (!immed) {
			while (!ec.done && now() - t0 < 30 && service(a.c, 10))
				;
			pr_check(ec.done && ec.status == SCSI_STATUS_CHECK_CONDITION &&
					 ec.sense_key == 0xa && ec.asc == 0x0d01,
				 "A's foreground EXTENDED COPY ends with status %#x sense %X/%04X "
				 "(A/0D01 COPY ABORTED, THIRD PARTY DEVICE FAILURE)", ec.status,
				 ec.sense_key, ec.asc);
		}
		/* A's REGISTRATIONS PREEMPTED at LUN 10 first: the reads below
		 * are A's. */
		bigdst_ready(&a);
		s = status4(&a, LUN_NULL_A, id);
		pr_check(s.ok && s.op == (immed ? 0x60 : 0x02) && s.bytes < BIGDST_BYTES,
			 "%s copy: RECEIVE COPY STATUS(LID4) %02x (%s) after %llu bytes", how, s.op,
			 immed ? "60h, terminated" : "02h, with the command's COPY ABORTED",
			 (unsigned long long)s.bytes);
		wrong = markers_wrong(BIGDST_BYTES, s.bytes);
		pr_check(wrong == 0, "LUN 10 copied up to the TRANSFER COUNT, untouched beyond "
				     "(%u marker(s) wrong)", wrong);
		poll(NULL, 0, 300);
		wrong = markers_wrong(BIGDST_BYTES, s.bytes);
		pr_check(wrong == 0, "nothing more written 300 ms later (%u wrong)", wrong);
		if (t)
			scsi_free_scsi_task(t);
		prout_lun(&b, LUN_BIGDST, PRO_CLEAR, 0, 0xb2, 0, &r);
		expect(&r, "GOOD", "B clears LUN 10's registrations");
		bigdst_ready(&a);
		bigdst_ready(&b);
	}
}

/* WRITE USING TOKEN with IMMED (the block device zero ROD token to LUN
 * 10, 256 MiB): GOOD before the copy ends, RRTI 12h while it runs, then
 * 01h with its TRANSFER COUNT, the zeros read back; a 2 GiB one stopped
 * by COPY OPERATION ABORT: 60h, nothing written beyond the count (but
 * the chunks on their way); POPULATE TOKEN with IMMED works as
 * without. */
static void scenario_odx_immed(void)
{
	uint8_t list[WUT_HDR + 16 * 16], zero[TOKEN_LEN] = { 0 };
	const uint64_t bytes = 256u << 20;
	struct result r;
	unsigned len, wrong;
	double t0;
	uint64_t blocks;
	int st;

	if (!bigdst_ready(&a) || !mark_bigdst(BIGDST_BYTES))
		return;
	put32(zero, 0xffff0001);
	put16(zero + 6, 0x1f8);
	len = wut_list(list, zero, 0, false, (struct range[]){ { 0, (uint32_t)(bytes / BS) } }, 1);
	list[2] |= 0x01; /* IMMED */
	t0 = now();
	odx_send(&a, LUN_BIGDST, 0x11, 0x4001, list, len, &r);
	expect(&r, "GOOD", "WRITE USING TOKEN with IMMED: 256 MiB of zeros to LUN 10 (%.3f s)",
	       now() - t0);
	rrti(&a, LUN_BIGDST, 0x4001, &r);
	pr_check(r.status == SCSI_STATUS_GOOD && r.len >= 32 && r.data[5] == 0x12 &&
			 be32(r.data + 8) > 0 && be64(r.data + 16) < bytes / BS,
		 "right after its GOOD, RRTI: status %02x (12h, running in the background), %llu "
		 "of %llu blocks", r.len >= 32 ? r.data[5] : 0,
		 (unsigned long long)(r.len >= 32 ? be64(r.data + 16) : 0),
		 (unsigned long long)(bytes / BS));
	do {
		poll(NULL, 0, 20);
		rrti(&a, LUN_BIGDST, 0x4001, &r);
		st = r.status == SCSI_STATUS_GOOD && r.len >= 32 ? r.data[5] : -1;
	} while ((st == 0x11 || st == 0x12) && now() - t0 < 120);
	pr_check(st == 0x01 && be64(r.data + 16) == bytes / BS,
		 "it ends: RRTI status %02x (01), TRANSFER COUNT %llu (%llu)", st,
		 (unsigned long long)be64(r.data + 16), (unsigned long long)(bytes / BS));
	wrong = markers_wrong(bytes + (16u << 20), bytes);
	pr_check(wrong == 0, "LUN 10 has zeros below 256 MiB, its markers beyond (%u wrong)",
		 wrong);

	/* Stopped by COPY OPERATION ABORT. */
	mark_bigdst(BIGDST_BYTES);
	len = wut_list(list, zero, 0, false,
		       (struct range[]){ { 0, (uint32_t)(BIGDST_BYTES / BS) } }, 1);
	list[2] |= 0x01;
	odx_send(&a, LUN_BIGDST, 0x11, 0x4002, list, len, &r);
	expect(&r, "GOOD", "a 2 GiB WRITE USING TOKEN with IMMED, list id 0x4002");
	/* RRTI's TRANSFER COUNT of a running WRITE USING TOKEN stays 0 (the
	 * record gets it at the end): let it run for 100 ms. */
	poll(NULL, 0, 100);
	coa(&a, LUN_BIGDST, 0x4002, &r);
	expect(&r, "GOOD", "COPY OPERATION ABORT of the WRITE USING TOKEN's list id 0x4002");
	rrti(&a, LUN_BIGDST, 0x4002, &r);
	blocks = r.len >= 32 ? be64(r.data + 16) : 0;
	pr_check(r.status == SCSI_STATUS_GOOD && r.len >= 32 && r.data[5] == 0x60 &&
			 blocks < BIGDST_BYTES / BS,
		 "RRTI: status %02x (60h, terminated) after %llu blocks", r.len >= 32 ? r.data[5] : 0,
		 (unsigned long long)blocks);
	wrong = markers_wrong(BIGDST_BYTES, blocks * BS);
	pr_check(wrong == 0, "LUN 10 zeros up to the TRANSFER COUNT, untouched beyond (%u wrong)",
		 wrong);

	/* POPULATE TOKEN with IMMED: as without (nothing runs on). */
	{
		uint8_t pt[PT_HDR + 16];
		unsigned n = pt_list(pt, 0, (struct range[]){ { 0, 8 } }, 1);

		pt[2] |= 0x01;
		odx_send(&a, LUN_SRC, 0x10, 0x4003, pt, n, &r);
		expect(&r, "GOOD", "POPULATE TOKEN with IMMED");
		rrti(&a, LUN_SRC, 0x4003, &r);
		pr_check(r.status == SCSI_STATUS_GOOD && r.len >= 32 + 4 + 2 + TOKEN_LEN &&
				 r.data[5] == 0x01,
			 "its RRTI: status %02x (01) with the token", r.len >= 32 ? r.data[5] : 0);
	}
}

/* Starts a 2 GiB background copy to LUN 10 with @id and waits until it
 * has written 4 MiB. */
static bool bg_copy_running(uint32_t id)
{
	static uint8_t list[HDR4 + 2 * CSCD + 8 * SEG0A];
	unsigned len = lid4_long_list(list, id, true, 8, SEG_MAX);
	struct result r;

	if (!mark_bigdst(BIGDST_BYTES))
		return false;
	ecopy4(&a, LUN_NULL_A, list, len, &r);
	return expect(&r, "GOOD", "a 2 GiB background copy, list id %#x", id) &&
	       wait_progress4(&a, LUN_NULL_A, id, 4u << 20, NULL);
}

/* A's task management function @fn (on @n, to @lun) stops the
 * background copy @id: FUNCTION COMPLETE, then 60h and nothing written
 * beyond its TRANSFER COUNT. */
static void tmf_stops_bg_copy(const char *what, struct nexus *n, int lun, int fn, uint32_t id)
{
	struct pending tmf = { 0 };
	struct status4 s;
	unsigned wrong;
	double t0;

	if (!bg_copy_running(id)) {
		pr_check(false, "the background copy %#x is running before the %s", id, what);
		return;
	}
	t0 = now();
	if (iscsi_task_mgmt_async(n->c, lun, (enum iscsi_task_mgmt_funcs)fn, 0xffffffff, 0, tmf_cb,
				  &tmf)) {
		pr_check(false, "%s is sent", what);
		return;
	}
	while (!tmf.done && now() - t0 < 30 && service(n->c, 10))
		;
	pr_check(tmf.done && tmf.status == SCSI_STATUS_GOOD && tmf.len == 0,
		 "%s: FUNCTION COMPLETE (status %#x, response %d) in %.3f s", what, tmf.status,
		 tmf.len, now() - t0);
	collect_all_uas(&a, 6);
	bigdst_ready(&a);
	s = status4(&a, LUN_NULL_A, id);
	pr_check(s.ok && s.op == 0x60 && s.bytes < BIGDST_BYTES,
		 "the background copy stopped by %s: %02x (60h) after %llu bytes", what, s.op,
		 (unsigned long long)s.bytes);
	wrong = markers_wrong(BIGDST_BYTES, s.bytes);
	pr_check(wrong == 0, "LUN 10 untouched beyond its TRANSFER COUNT (%u wrong)", wrong);
}

/* Task management reaches a background copy: another initiator's LUN
 * RESET of its destination, its own nexus's ABORT TASK SET of the
 * destination and I_T NEXUS RESET; the loss of its connection. */
static void scenario_immed_tmf(void)
{
	if (!bigdst_ready(&a) || !bigdst_ready(&b))
		return;
	tmf_stops_bg_copy("B's LUN RESET of LUN 10", &b, LUN_BIGDST, ISCSI_TM_LUN_RESET, 0x5001);
	bigdst_ready(&b);
	tmf_stops_bg_copy("A's ABORT TASK SET of LUN 10", &a, LUN_BIGDST, ISCSI_TM_ABORT_TASK_SET,
			  0x5002);
	/* RFC 7144's I_T NEXUS RESET (function 11): libiscsi has no name. */
	tmf_stops_bg_copy("A's I_T NEXUS RESET", &a, LUN_NULL_A, 11, 0x5003);

	/* The connection goes while a background copy runs: the session
	 * ends once the copy has stopped, a new login works, LUN 10 no
	 * longer changes. */
	if (!bg_copy_running(0x5004))
		return;
	nexus_drop(&a);
	if (!nexus_login(&a, "A", INI1, t1, 1, 0x11, 1))
		return;
	collect_all_uas(&a, 6);
	bigdst_ready(&a);
	{
		uint8_t seen[BIGDST_BYTES / MARK_EVERY];
		unsigned changed = 0;

		for (unsigned i = 0; i < sizeof(seen); i++)
			seen[i] = blocks_are(&a, LUN_BIGDST, (uint64_t)i * MARK_EVERY / BS, 1, 0, 0,
					     0xab);
		poll(NULL, 0, 300);
		for (unsigned i = 0; i < sizeof(seen); i++)
			changed += seen[i] != blocks_are(&a, LUN_BIGDST,
							 (uint64_t)i * MARK_EVERY / BS, 1, 0, 0,
							 0xab);
		pr_check(changed == 0 && seen[sizeof(seen) - 1],
			 "LUN 10 no longer changes after the connection dropped (%u marker(s) "
			 "changed in 300 ms; not copied to the end)", changed);
	}
}

/* ---- copy_file_range between fileio LUNs (scenario cfr) ---- */

enum { LUN_CFR_SRC = 20, LUN_CFR_XC, LUN_CFR_WUT, LUN_CFR_WT, LUN_CFR_DIO, LUN_CFR_SHM };

#define CFR_BYTES (64u << 20)

/* The whole of file @dir/@name (CFR_BYTES), or NULL. */
static uint8_t *cfr_file(const char *dir, const char *name)
{
	char path[512];
	uint8_t *buf = malloc(CFR_BYTES);
	FILE *f;
	size_t n = 0;

	snprintf(path, sizeof(path), "%s/%s", dir ? dir : ".", name);
	f = fopen(path, "rb");
	if (buf && f)
		n = fread(buf, 1, CFR_BYTES, f);
	if (f)
		fclose(f);
	if (n != CFR_BYTES) {
		pr_check(false, "%s: %zu of %u bytes read", path, n, CFR_BYTES);
		free(buf);
		return NULL;
	}
	return buf;
}

/* Whether @dst (a file's bytes) has @src's bytes [@src_off, + @len) at
 * @dst_off, and zeros (never written: sparse) everywhere else. */
static bool cfr_same(const uint8_t *src, const uint8_t *dst, size_t src_off, size_t dst_off,
		     size_t len)
{
	if (memcmp(src + src_off, dst + dst_off, len))
		return false;
	for (size_t i = 0; i < CFR_BYTES; i++) {
		if ((i < dst_off || i >= dst_off + len) && dst[i])
			return false;
	}
	return true;
}

/* EXTENDED COPY(LID1) of one 0x0A segment: @nbytes from @src_lba of
 * @src to @dst_lba of @dst, sent to the source LUN. */
static void cfr_ecopy(const struct lu_ids *src, const struct lu_ids *dst, uint32_t nbytes,
		      uint64_t src_lba, uint64_t dst_lba, struct result *r)
{
	uint8_t list[HDR + 2 * CSCD + SEG0A];

	header(list, 0x40, 2, 2 * CSCD, SEG0A, 0); /* LIST ID USAGE 10b */
	cscd_naa(list + HDR, src->naa, BS);
	cscd_naa(list + HDR + CSCD, dst->naa, BS);
	seg0a(list + HDR + 2 * CSCD, 0, 1, nbytes, src_lba, dst_lba);
	ecopy(&a, LUN_CFR_SRC, list, sizeof(list), r);
}

/* The copy from LUN 20 to the LUN of @name (file @file in @dir) of @what
 * left its file as @src at @dst_off for @len bytes from @src_off. */
static void cfr_check_file(const uint8_t *src, const char *dir, const char *file,
			   size_t src_off, size_t dst_off, size_t len, const char *what)
{
	uint8_t *dst = cfr_file(dir, file);

	if (!dst)
		return;
	pr_check(cfr_same(src, dst, src_off, dst_off, len),
		 "%s: %s holds the source's %zu bytes from %zu at %zu, zeros elsewhere", what,
		 file, len, src_off, dst_off);
	free(dst);
}

static void scenario_cfr(void)
{
	const char *work = getenv("XCOPY_WORKDIR"), *shm = getenv("XCOPY_CFR_SHM");
	struct lu_ids src, xc, wt, dio, shmid;
	struct range whole = { 0, CFR_BYTES / BS };
	uint8_t token[TOKEN_LEN];
	uint8_t *data;
	struct result r;

	for (int lun = LUN_CFR_SRC; lun <= LUN_CFR_SHM; lun++) {
		uint8_t tur[6] = { 0 };

		for (int i = 0; i < 16; i++) {
			send_lun_cdb(&a, lun, tur, 6, SCSI_XFER_NONE, NULL, 0, 0, &r);
			if (r.status != SCSI_STATUS_CHECK_CONDITION || r.sense_key != 6)
				break;
		}
		for (int i = 0; i < 16; i++) {
			send_lun_cdb(&b, lun, tur, 6, SCSI_XFER_NONE, NULL, 0, 0, &r);
			if (r.status != SCSI_STATUS_CHECK_CONDITION || r.sense_key != 6)
				break;
		}
	}
	if (!lu_ids(&a, LUN_CFR_SRC, &src) || !lu_ids(&a, LUN_CFR_XC, &xc) ||
	    !lu_ids(&a, LUN_CFR_WT, &wt) || !lu_ids(&a, LUN_CFR_DIO, &dio) ||
	    !lu_ids(&a, LUN_CFR_SHM, &shmid)) {
		pr_check(false, "VPD page 0x83 of LUNs 20-25 has an NAA designator");
		return;
	}
	data = cfr_file(work, "cfrsrc.img");
	if (!data || !shm || !*shm) {
		pr_check(false, "the source's bytes and XCOPY_CFR_SHM (%s)", shm ? shm : "unset");
		free(data);
		return;
	}

	/* 64 MiB by EXTENDED COPY, the whole LUN. */
	cfr_ecopy(&src, &xc, CFR_BYTES, 0, 0, &r);
	if (expect(&r, "GOOD", "EXTENDED COPY of 64 MiB fileio -> fileio"))
		cfr_check_file(data, work, "cfrxc.img", 0, 0, CFR_BYTES, "EXTENDED COPY");

	/* 64 MiB by POPULATE TOKEN and WRITE USING TOKEN. */
	if (populate(&a, LUN_CFR_SRC, 0x41, 0, &whole, 1, token)) {
		wut(&a, LUN_CFR_WUT, 0x42, token, 0, false, &whole, 1, &r);
		if (expect(&r, "GOOD", "WRITE USING TOKEN of 64 MiB fileio -> fileio")) {
			expect_wut_info(&a, LUN_CFR_WUT, 0x42, 0x01, CFR_BYTES / BS);
			cfr_check_file(data, work, "cfrwut.img", 0, 0, CFR_BYTES, "WRITE USING TOKEN");
		}
	}

	/* The source's checks are its probe's: under B's Exclusive Access
	 * reservation of the source, A's in-kernel copy gets RESERVATION
	 * CONFLICT (the EXTENDED COPY itself is allowed under every
	 * reservation) and writes nothing; the holder's copy works. */
	prout_lun(&b, LUN_CFR_SRC, PRO_REGISTER, 0, 0, 0xc0c, &r);
	expect(&r, "GOOD", "B registers at LUN 20");
	prout_lun(&b, LUN_CFR_SRC, PRO_RESERVE, EA, 0xc0c, 0, &r);
	expect(&r, "GOOD", "B reserves LUN 20 Exclusive Access");
	cfr_ecopy(&src, &xc, 1u << 20, 4096, 0, &r);
	expect(&r, "RESERVATION CONFLICT", "A copies from B's Exclusive Access LUN 20");
	cfr_check_file(data, work, "cfrxc.img", 0, 0, CFR_BYTES, "nothing written under EA");
	prout_lun(&b, LUN_CFR_SRC, PRO_CLEAR, 0, 0xc0c, 0, &r);
	expect(&r, "GOOD", "B clears LUN 20's reservation");

	/* 8 MiB to a write-through LUN (copy_file_range, then fdatasync), 8
	 * MiB to an O_DIRECT one (READ and WRITE), from an odd place to an
	 * odd place: the blocks around stay zeros. */
	cfr_ecopy(&src, &wt, 8u << 20, 3333, 777, &r);
	if (expect(&r, "GOOD", "EXTENDED COPY of 8 MiB to a write-through LUN"))
		cfr_check_file(data, work, "cfrwt.img", 3333 * BS, 777 * BS, 8u << 20,
			       "write-through");
	cfr_ecopy(&src, &dio, 8u << 20, 3333, 777, &r);
	if (expect(&r, "GOOD", "EXTENDED COPY of 8 MiB to an O_DIRECT LUN"))
		cfr_check_file(data, work, "cfrdio.img", 3333 * BS, 777 * BS, 8u << 20,
			       "O_DIRECT");

	/* To tmpfs: copy_file_range says EXDEV, the chunks are read and
	 * written; the second copy does not ask again (xcopy.sh counts). */
	cfr_ecopy(&src, &shmid, 16u << 20, 0, 0, &r);
	if (expect(&r, "GOOD", "EXTENDED COPY of 16 MiB to a LUN on tmpfs"))
		cfr_check_file(data, shm, "cfrshm.img", 0, 0, 16u << 20, "tmpfs (EXDEV)");
	cfr_ecopy(&src, &shmid, 1u << 20, 65536, 65536, &r);
	if (expect(&r, "GOOD", "EXTENDED COPY of 1 MiB more to the LUN on tmpfs")) {
		uint8_t *dst = cfr_file(shm, "cfrshm.img");

		if (dst) {
			pr_check(!memcmp(data, dst, 16u << 20) &&
					 !memcmp(data + (32u << 20), dst + (32u << 20), 1u << 20),
				 "tmpfs (EXDEV): both copies are in cfrshm.img");
			free(dst);
		}
	}
	free(data);
}

/* ---- WRITE USING TOKEN onto its own token's blocks; ABORT TASK of one
 * (odx_overlap, odx_abort) ---- */

#define OVL_BYTES (16u << 20) /* of LUN 0 (src.img), read from the file */

/* LUN 0's first OVL_BYTES, from its backing file (the page cache: fileio
 * writes through it). */
static uint8_t *lun0_file(void)
{
	const char *dir = getenv("XCOPY_WORKDIR");
	char path[512];
	uint8_t *buf = malloc(OVL_BYTES);
	FILE *f;
	size_t n = 0;

	snprintf(path, sizeof(path), "%s/src.img", dir ? dir : ".");
	f = fopen(path, "rb");
	if (buf && f)
		n = fread(buf, 1, OVL_BYTES, f);
	if (f)
		fclose(f);
	if (n != OVL_BYTES) {
		pr_check(false, "%s: %zu of %u bytes read", path, n, OVL_BYTES);
		free(buf);
		return NULL;
	}
	return buf;
}

/* LUN 0's first OVL_BYTES written so that every block differs from
 * every other (pattern() repeats every 256 blocks, and a move by a
 * multiple of that would go unseen): its LBA in bytes 0-7, @seed in 8,
 * pattern() after. */
static bool ovl_fill(uint8_t seed)
{
	const uint32_t per = 2048;
	uint8_t *buf = malloc((size_t)per * BS), cdb[16];
	struct result r;
	bool ok = buf != NULL;

	for (uint64_t lba = 0; ok && lba < OVL_BYTES / BS; lba += per) {
		for (uint32_t k = 0; k < per; k++) {
			uint8_t *blk = buf + (size_t)k * BS;

			for (unsigned i = 0; i < BS; i++)
				blk[i] = pattern(seed, lba + k, i);
			put64(blk, lba + k);
			blk[8] = seed;
		}
		memset(cdb, 0, sizeof(cdb));
		cdb[0] = 0x8a;
		put64(cdb + 2, lba);
		put32(cdb + 10, per);
		send_lun_cdb(&a, LUN_SRC, cdb, 16, SCSI_XFER_WRITE, buf, (int)(per * BS), 0, &r);
		ok = r.status == SCSI_STATUS_GOOD;
		if (!ok)
			pr_check(false, "WRITE(16) of LUN 0 LBA %llu: %s", (unsigned long long)lba,
				 describe(&r));
	}
	free(buf);
	return ok;
}

/* Whether @after is @before with each of the @n (src, dst, nblocks)
 * moves applied as one point-in-time copy: the blocks of every
 * destination hold what the source held before, all others are as
 * before. */
struct ovl_move { uint64_t src, dst; uint32_t nblocks; };

static bool ovl_same(const uint8_t *before, const uint8_t *after, const struct ovl_move *m,
		     unsigned n, uint64_t *bad_lba)
{
	for (uint64_t lba = 0; lba < OVL_BYTES / BS; lba++) {
		uint64_t from = lba;

		for (unsigned i = 0; i < n; i++) {
			if (lba >= m[i].dst && lba < m[i].dst + m[i].nblocks)
				from = m[i].src + (lba - m[i].dst);
		}
		if (memcmp(after + lba * BS, before + from * BS, BS)) {
			*bad_lba = lba;
			return false;
		}
	}
	return true;
}

/* One WRITE USING TOKEN of LUN 0 onto LUN 0, its token of @src ranges,
 * to the @dst ranges: GOOD, the data a point-in-time copy gives, RRTI
 * 01h with every block, and then the token is revoked (TOKEN REVOKED
 * for a second WRITE USING TOKEN with it). */
static void overlap_round(const char *what, uint32_t id, const struct range *src, unsigned ns,
			  const struct range *dst, unsigned nd, const struct ovl_move *m,
			  unsigned nm)
{
	uint8_t tok[TOKEN_LEN];
	uint8_t *before, *after;
	uint64_t blocks = 0, bad = 0;
	struct result r;

	for (unsigned i = 0; i < nm; i++)
		blocks += m[i].nblocks;
	if (!ovl_fill((uint8_t)(0x50 + id)) || !populate(&a, LUN_SRC, id, 0, src, ns, tok))
		return;
	before = lun0_file();
	wut(&a, LUN_SRC, id + 1, tok, 0, false, dst, nd, &r);
	expect(&r, "GOOD", "%s: WRITE USING TOKEN onto its own token's blocks", what);
	after = lun0_file();
	if (before && after) {
		bool same = ovl_same(before, after, m, nm, &bad);

		pr_check(same, "%s: LUN 0 holds the point-in-time copy of the token's blocks%s%llu",
			 what, same ? "" : "; first wrong block ", same ? 0ull : (unsigned long long)bad);
	}
	free(before);
	free(after);
	expect_wut_info(&a, LUN_SRC, id + 1, 0x01, blocks);
	wut(&a, LUN_DST, id + 2, tok, 0, false, (struct range[]){ { 0, 8 } }, 1, &r);
	expect(&r, "CHECK CONDITION A/23/06",
	       "%s: a second WRITE USING TOKEN with the token (revoked by the first)", what);
}

/* An asynchronous WRITE USING TOKEN of @tok on @n to @lun, @dst. */
static struct scsi_task *wut_async(struct nexus *n, int lun, uint32_t id, const uint8_t *tok,
				   const struct range *dst, unsigned nd, struct pending *p,
				   uint8_t *list, struct iscsi_data *d)
{
	uint8_t cdb[16];
	struct scsi_task *t;
	unsigned len = wut_list(list, tok, 0, false, dst, nd);

	memset(p, 0, sizeof(*p));
	d->data = list;
	d->size = len;
	odx_cdb(cdb, 0x11, id, len);
	t = scsi_create_task(16, cdb, SCSI_XFER_WRITE, len);
	if (!t || iscsi_scsi_command_async(n->c, lun, t, task_cb, d, p)) {
		pr_check(false, "%s: the WRITE USING TOKEN (list id %#x) is sent", n->label, id);
		if (t)
			scsi_free_scsi_task(t);
		return NULL;
	}
	return t;
}

/* A WRITE USING TOKEN of 1 GiB of nullio LUN 2 (to LUN 3, or onto LUN
 * 2 itself from 1024 blocks up when @onto_self) that B's WRITEs of LBA
 * 100 of LUN 2 revoke while it runs: TOKEN REVOKED, RRTI 02h after some
 * of its blocks and not all. A try where the first write came before
 * the copy wrote anything is tried again, up to 5. */
static void revoked_while_running(const char *what, bool onto_self, uint32_t id)
{
	const uint32_t nb = 1u << 21;
	static uint8_t list[WUT_HDR + 16];
	uint8_t tok[TOKEN_LEN];
	struct iscsi_data d;
	struct pending p;
	struct scsi_task *t;
	struct result r;
	uint64_t blocks = 0;
	double t0;

	for (int attempt = 0; attempt < 5; attempt++, id += 4) {
		if (!populate(&a, LUN_NULL_A, id, 0, (struct range[]){ { 0, nb } }, 1, tok))
			return;
		t = wut_async(&a, onto_self ? LUN_NULL_A : LUN_NULL_B, id + 1, tok,
			      (struct range[]){ { onto_self ? 1024 : 0, nb } }, 1, &p, list, &d);
		if (!t)
			return;
		/* 1 GiB of nullio takes some 30 ms: B writes again and again
		 * from 2 ms on, until the copy has ended. */
		t0 = now();
		while (!p.done && now() - t0 < 0.002 && service(a.c, 1))
			;
		while (!p.done && now() - t0 < 120) {
			write_blocks(&b, LUN_NULL_A, 100, 1, 0x61, 0);
			if (!service(a.c, 0))
				break;
		}
		scsi_free_scsi_task(t);
		rrti(&a, LUN_NULL_A, id + 1, &r);
		blocks = r.status == SCSI_STATUS_GOOD && r.len >= 32 ? be64(r.data + 16) : 0;
		if (p.done && p.status == SCSI_STATUS_CHECK_CONDITION && p.sense_key == 0xa &&
		    p.asc == 0x2306 && r.data[5] == 0x02 && blocks > 0 && blocks < nb) {
			pr_check(true, "%s: TOKEN REVOKED after %llu of %u blocks (%.3f s, try %d)",
				 what, (unsigned long long)blocks, nb, now() - t0, attempt + 1);
			return;
		}
		printf("note: %s: try %d: status %#x sense %X/%04X, RRTI %02x after %llu blocks\n",
		       what, attempt + 1, p.status, p.sense_key, p.asc, r.len >= 32 ? r.data[5] : 0,
		       (unsigned long long)blocks);
	}
	pr_check(false, "%s: B's WRITE into the token's blocks revoked the running copy", what);
}

static void scenario_odx_overlap(void)
{
	struct result r;

	/* The destination above the source, overlapping: 4 MiB from LBA 0
	 * to LBA 2048 (from the end down, one chunk at a time). */
	overlap_round("up", 0x500, (struct range[]){ { 0, 8192 } }, 1,
		      (struct range[]){ { 2048, 8192 } }, 1, (struct ovl_move[]){ { 0, 2048, 8192 } },
		      1);
	/* Below it: 4 MiB from LBA 4096 to LBA 1024. */
	overlap_round("down", 0x510, (struct range[]){ { 4096, 8192 } }, 1,
		      (struct range[]){ { 1024, 8192 } }, 1,
		      (struct ovl_move[]){ { 4096, 1024, 8192 } }, 1);
	/* Two pieces, the first of which overwrites the second's source
	 * (LBA 0-1023 to 1536-2559 writes 2048-2559, which 2048-3071 to
	 * 2560-3583 reads): the second runs first. */
	overlap_round("two pieces", 0x520, (struct range[]){ { 0, 1024 }, { 2048, 1024 } }, 2,
		      (struct range[]){ { 1536, 2048 } }, 1,
		      (struct ovl_move[]){ { 0, 1536, 1024 }, { 2048, 2560, 1024 } }, 2);
	/* Same-place: the destination is the token's range itself. */
	overlap_round("in place", 0x530, (struct range[]){ { 100, 4096 } }, 1,
		      (struct range[]){ { 100, 4096 } }, 1, (struct ovl_move[]){ { 100, 100, 4096 } },
		      1);

	/* A swap of two extents: refused before anything is written, and
	 * the token (never claimed) still works. */
	{
		uint8_t tok[TOKEN_LEN];
		uint8_t *before, *after;
		uint64_t bad = 0;

		if (ovl_fill(0x5e) &&
		    populate(&a, LUN_SRC, 0x540, 0, (struct range[]){ { 0, 1024 }, { 1024, 1024 } },
			     2, tok)) {
			before = lun0_file();
			wut(&a, LUN_SRC, 0x541, tok, 0, false,
			    (struct range[]){ { 1024, 1024 }, { 0, 1024 } }, 2, &r);
			expect(&r, "CHECK CONDITION 5/55/03",
			       "a WRITE USING TOKEN that swaps two extents of its own token");
			after = lun0_file();
			if (before && after) {
				bool same = ovl_same(before, after, NULL, 0, &bad);

				pr_check(same, "the swap wrote nothing%s%llu",
					 same ? "" : "; first changed block ",
					 same ? 0ull : (unsigned long long)bad);
			}
			free(after);
			expect_wut_info(&a, LUN_SRC, 0x541, 0x02, 0);
			wut(&a, LUN_DST, 0x542, tok, 0, false, (struct range[]){ { 0, 2048 } }, 1, &r);
			expect(&r, "GOOD", "the token after the refused swap, to LUN 1");
			{
				uint8_t cdb[16] = { 0x88 };
				bool same;

				put64(cdb + 2, 2040);
				put32(cdb + 10, 8);
				send_lun_cdb(&a, LUN_DST, cdb, 16, SCSI_XFER_READ, NULL, 0, 8 * BS, &r);
				same = r.status == SCSI_STATUS_GOOD && r.len == 8 * BS && before &&
				       !memcmp(r.data, before + 2040 * BS, 8 * BS);
				pr_check(same, "LUN 1 LBA 2040-2047 has LUN 0's");
			}
			free(before);
		}
	}

	/* Writes of other commands still revoke: B's WRITE into the
	 * token's blocks while a copy of them runs, to another LUN and onto
	 * the token's own blocks. */
	revoked_while_running("to LUN 3", false, 0x550);
	revoked_while_running("onto its own blocks", true, 0x570);
	tur(&a, &r);
	expect(&r, "GOOD", "the session still works");
}

/* ABORT TASK of a running WRITE USING TOKEN (nullio LUN 2 to 3, 1 GiB):
 * FUNCTION COMPLETE at once, no status for the task, RRTI 60h after
 * some of its blocks, its list identifier free again, the token and
 * both LUNs usable afterwards. */
static void scenario_odx_abort(void)
{
	const uint32_t nb = 1u << 21;
	static uint8_t list[WUT_HDR + 16];
	uint8_t tok[TOKEN_LEN];
	struct iscsi_data d;
	struct pending p, tmf;
	struct scsi_task *t = NULL;
	struct result r;
	uint64_t blocks;
	double t0, t_abort = 0, answered = -1;
	uint32_t id = 0x601;
	int attempt;

	if (!populate(&a, LUN_NULL_A, 0x600, 0, (struct range[]){ { 0, nb } }, 1, tok))
		return;
	/* 1 GiB of nullio takes some 30 ms: ABORT TASK 3 ms after it was
	 * sent; a try where it ended first is made again, up to 5. */
	for (attempt = 0; attempt < 5; attempt++, id++) {
		t = wut_async(&a, LUN_NULL_B, id, tok, (struct range[]){ { 0, nb } }, 1, &p, list,
			      &d);
		if (!t)
			return;
		t0 = now();
		while (!p.done && now() - t0 < 0.003 && service(a.c, 1))
			;
		if (p.done) {
			printf("note: try %d: the WRITE USING TOKEN ended before its ABORT TASK\n",
			       attempt + 1);
			scsi_free_scsi_task(t);
			t = NULL;
			continue;
		}
		memset(&tmf, 0, sizeof(tmf));
		t_abort = now();
		if (iscsi_task_mgmt_abort_task_async(a.c, t, tmf_cb, &tmf)) {
			pr_check(false, "ABORT TASK is sent");
			return;
		}
		while (!tmf.done && now() - t_abort < 30 && service(a.c, 10))
			;
		answered = now() - t_abort;
		break;
	}
	if (!t) {
		pr_check(false, "a WRITE USING TOKEN still running 3 ms after it was sent");
		return;
	}
	pr_check(tmf.done && tmf.status == SCSI_STATUS_GOOD && tmf.len == 0,
		 "ABORT TASK of the WRITE USING TOKEN (list id %#x): FUNCTION COMPLETE (status "
		 "%#x, response %d) in %.3f s", id, tmf.status, tmf.len, answered);
	pr_check(answered >= 0 && answered < 1.0, "answered within 1 s (%.3f s)", answered);
	pr_check(!p.done || p.status == SCSI_STATUS_CANCELLED,
		 "the aborted WRITE USING TOKEN got no status (libiscsi: %#x)", p.status);
	scsi_free_scsi_task(t);
	rrti(&a, LUN_NULL_B, id, &r);
	blocks = r.status == SCSI_STATUS_GOOD && r.len >= 32 ? be64(r.data + 16) : 0;
	pr_check(r.status == SCSI_STATUS_GOOD && r.len >= 32 && r.data[5] == 0x60 &&
			 r.data[12] == 0x40 && blocks < nb,
		 "RRTI of the aborted one: status %02x (60h, terminated), SCSI status %02x (40h), "
		 "after %llu of %u blocks", r.len >= 32 ? r.data[5] : 0,
		 r.len >= 32 ? r.data[12] : 0, (unsigned long long)blocks, nb);
	/* Stopped: its list identifier is free (no OPERATION IN PROGRESS),
	 * the token stands (nothing wrote its blocks), both LUNs serve. */
	wut(&a, LUN_NULL_B, id, tok, 0, false, (struct range[]){ { 0, 2048 } }, 1, &r);
	expect(&r, "GOOD", "a WRITE USING TOKEN with the same list id and token afterwards");
	expect_wut_info(&a, LUN_NULL_B, id, 0x01, 2048);
	tur(&a, &r);
	expect(&r, "GOOD", "the session still works after the abort");
	write_blocks(&a, LUN_SRC, 0, 64, 0x62, 0);
	if (populate(&a, LUN_SRC, 0x610, 0, (struct range[]){ { 0, 64 } }, 1, tok)) {
		wut(&a, LUN_DST, 0x611, tok, 0, false, (struct range[]){ { 64, 64 } }, 1, &r);
		expect(&r, "GOOD", "a fileio WRITE USING TOKEN afterwards");
		pr_check(blocks_are(&a, LUN_DST, 64, 32, 0x62, 0, 0) &&
				 blocks_are(&a, LUN_DST, 96, 32, 0x62, 32, 0),
			 "LUN 1 LBA 64-127 has LUN 0's LBA 0-63");
	}
}

/* ---- the source's range lock across an in-kernel copy (cfr_caw) ---- */

#define CAW_LBA 4096
#define CAW_BLOCKS 32 /* 4 pages; one READ of them fits a result */

static uint8_t caw_fill(int k) { return k ? 0x55 : 0xaa; }

/* B's COMPARE AND WRITE of LUN 0's CAW_BLOCKS at CAW_LBA: all @from to
 * all the other fill, asynchronously. */
static struct scsi_task *caw_async(int from, struct pending *p, uint8_t *buf,
				   struct iscsi_data *d)
{
	uint8_t cdb[16] = { 0x89 };

	put64(cdb + 2, CAW_LBA);
	cdb[13] = CAW_BLOCKS;
	memset(buf, caw_fill(from), CAW_BLOCKS * BS);
	memset(buf + CAW_BLOCKS * BS, caw_fill(!from), CAW_BLOCKS * BS);
	d->data = buf;
	d->size = 2 * CAW_BLOCKS * BS;
	return send_async(&b, LUN_SRC, cdb, SCSI_XFER_WRITE, d, p);
}

/* A copies LUN 0's first 8 MiB to LUN 1 by EXTENDED COPY (fileio to
 * fileio: in-kernel chunks) 20 times while B's COMPARE AND WRITEs flip
 * 32 blocks of it between two fills, one after the other: every copy
 * and every COMPARE AND WRITE GOOD (none miscompares), and each copy's
 * 32 blocks wholly one fill (none sees half of one). xcopy.sh checks in
 * the state dump that chunks met a queued COMPARE AND WRITE and went by
 * READ and WRITE. */
static void scenario_cfr_caw(void)
{
	static uint8_t cawbuf[2 * CAW_BLOCKS * BS], list[HDR + 2 * CSCD + SEG02];
	struct iscsi_data cd, ed;
	struct pending cp, ep;
	struct scsi_task *ct = NULL, *et;
	unsigned len, caws = 0, torn = 0, bad_caws = 0, bad_copies = 0;
	int cur = 0;
	uint8_t cdb[16];
	struct result r;

	if (!write_blocks(&a, LUN_SRC, CAW_LBA, CAW_BLOCKS, 0, caw_fill(0)))
		return;
	len = one_segment(list, 0x70, 0, id_src.naa, id_dst.naa, 16384, 0, 0);
	for (int round = 0; round < 20; round++) {
		double t0 = now();

		memset(&ep, 0, sizeof(ep));
		ed.data = list;
		ed.size = len;
		ecopy_cdb(cdb, len);
		et = scsi_create_task(16, cdb, SCSI_XFER_WRITE, len);
		if (!et || iscsi_scsi_command_async(a.c, LUN_SRC, et, task_cb, &ed, &ep)) {
			pr_check(false, "EXTENDED COPY round %d is sent", round);
			return;
		}
		while (!ep.done && now() - t0 < 60) {
			if (ct && cp.done) {
				if (cp.status == SCSI_STATUS_GOOD)
					cur = !cur;
				else
					bad_caws++;
				caws++;
				scsi_free_scsi_task(ct);
				ct = NULL;
			}
			if (!ct)
				ct = caw_async(cur, &cp, cawbuf, &cd);
			if (!service_pair(5))
				break;
		}
		if (ep.status != SCSI_STATUS_GOOD)
			bad_copies++;
		scsi_free_scsi_task(et);
		/* LUN 1's copy of the 32 blocks: one fill throughout. */
		memset(cdb, 0, sizeof(cdb));
		cdb[0] = 0x88;
		put64(cdb + 2, CAW_LBA);
		put32(cdb + 10, CAW_BLOCKS);
		send_lun_cdb(&a, LUN_DST, cdb, 16, SCSI_XFER_READ, NULL, 0, CAW_BLOCKS * BS, &r);
		if (r.status != SCSI_STATUS_GOOD || r.len != CAW_BLOCKS * BS) {
			torn++;
			continue;
		}
		for (int i = 1; i < CAW_BLOCKS * BS; i++) {
			if (r.data[i] != r.data[0] ||
			    (r.data[0] != caw_fill(0) && r.data[0] != caw_fill(1))) {
				torn++;
				break;
			}
		}
	}
	while (ct && !cp.done && service_pair(10))
		;
	if (ct) {
		caws++;
		bad_caws += cp.status != SCSI_STATUS_GOOD;
		scsi_free_scsi_task(ct);
	}
	pr_check(bad_copies == 0, "20 EXTENDED COPYs of 8 MiB from LUN 0 to LUN 1: %u not GOOD",
		 bad_copies);
	pr_check(caws > 20 && bad_caws == 0,
		 "B's COMPARE AND WRITEs on the copied blocks meanwhile: %u, %u not GOOD", caws,
		 bad_caws);
	pr_check(torn == 0, "each copy has the 32 blocks wholly in one fill (%u of 20 not)", torn);
}

int main(int argc, char **argv)
{
	const char *scenario;

	if (argc != 5) {
		fprintf(stderr, "usage: %s PORTAL TARGET1 TARGET2 SCENARIO\n", argv[0]);
		return 2;
	}
	pr_portal = argv[1];
	t1 = argv[2];
	t2 = argv[3];
	scenario = argv[4];
	if (!login_all())
		return pr_summary("xcopy_client");
	if (!strcmp(scenario, "copy"))
		scenario_copy();
	else if (!strcmp(scenario, "masking"))
		scenario_masking();
	else if (!strcmp(scenario, "reservation"))
		scenario_reservation();
	else if (!strcmp(scenario, "badlist"))
		scenario_badlist();
	else if (!strcmp(scenario, "abort"))
		scenario_abort();
	else if (!strcmp(scenario, "lid4"))
		scenario_lid4();
	else if (!strcmp(scenario, "offsets"))
		scenario_offsets();
	else if (!strcmp(scenario, "offsets_race"))
		scenario_offsets_race();
	else if (!strcmp(scenario, "target_sense"))
		scenario_target_sense();
	else if (!strcmp(scenario, "odx"))
		scenario_odx();
	else if (!strcmp(scenario, "odx_life"))
		scenario_odx_life();
	else if (!strcmp(scenario, "odx_zero_thin"))
		scenario_odx_zero_thin();
	else if (!strcmp(scenario, "odx_resize"))
		scenario_odx_resize();
	else if (!strcmp(scenario, "reset"))
		scenario_reset();
	else if (!strcmp(scenario, "immed"))
		scenario_immed();
	else if (!strcmp(scenario, "abort_op"))
		scenario_abort_op();
	else if (!strcmp(scenario, "preempt"))
		scenario_preempt();
	else if (!strcmp(scenario, "odx_immed"))
		scenario_odx_immed();
	else if (!strcmp(scenario, "odx_overlap"))
		scenario_odx_overlap();
	else if (!strcmp(scenario, "odx_abort"))
		scenario_odx_abort();
	else if (!strcmp(scenario, "cfr_caw"))
		scenario_cfr_caw();
	else if (!strcmp(scenario, "immed_tmf"))
		scenario_immed_tmf();
	else if (!strcmp(scenario, "cfr"))
		scenario_cfr();
	else {
		fprintf(stderr, "unknown scenario %s\n", scenario);
		return 2;
	}
	nexus_logout(&a);
	nexus_logout(&b);
	return pr_summary("xcopy_client");
}
