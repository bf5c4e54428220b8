/* CDB decoding: every READ/WRITE/VERIFY size, the READ(6) length quirk,
 * 64-bit LBAs, the flag bits, WRITE SAME, COMPARE AND WRITE, and refusal of short or foreign
 * CDBs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "scsi/cdb.h"
#include "scsi/scsi.h"

static void test_read6_fields(void **state)
{
	const uint8_t cdb[6] = { READ_6, 0x1f, 0xff, 0xfe, 8, 0 };
	struct scsi_rw_cdb rw;

	assert_true(scsi_cdb_decode_rw(cdb, sizeof(cdb), &rw));
	assert_int_equal(rw.lba, 0x1ffffe);
	assert_int_equal(rw.nblocks, 8);
	assert_false(rw.fua);
	assert_false(rw.dpo);
	assert_int_equal(rw.len_byte, 4);
}

static void test_read6_zero_length_is_256(void **state)
{
	const uint8_t rd[6] = { READ_6, 0, 0, 1, 0, 0 };
	const uint8_t wr[6] = { WRITE_6, 0xe0, 0, 1, 0, 0 }; /* top bits are reserved */
	struct scsi_rw_cdb rw;

	assert_true(scsi_cdb_decode_rw(rd, sizeof(rd), &rw));
	assert_int_equal(rw.nblocks, 256);
	assert_true(scsi_cdb_decode_rw(wr, sizeof(wr), &rw));
	assert_int_equal(rw.nblocks, 256);
	assert_int_equal(rw.lba, 1);
}

static void test_read10_flags(void **state)
{
	uint8_t cdb[10] = { READ_10, 0x18, 0x12, 0x34, 0x56, 0x78, 0x05, 0x01, 0x00, 0 };
	struct scsi_rw_cdb rw;

	assert_true(scsi_cdb_decode_rw(cdb, sizeof(cdb), &rw));
	assert_int_equal(rw.lba, 0x12345678);
	assert_int_equal(rw.nblocks, 256);
	assert_true(rw.dpo);
	assert_true(rw.fua);
	assert_int_equal(rw.group, 5);
	assert_int_equal(rw.protect, 0);
	assert_int_equal(rw.len_byte, 7);

	cdb[1] = 0x10; /* DPO only */
	assert_true(scsi_cdb_decode_rw(cdb, sizeof(cdb), &rw));
	assert_true(rw.dpo);
	assert_false(rw.fua);

	cdb[1] = 0xa0; /* RDPROTECT 5 */
	assert_true(scsi_cdb_decode_rw(cdb, sizeof(cdb), &rw));
	assert_int_equal(rw.protect, 5);
}

static void test_write12_lengths(void **state)
{
	const uint8_t cdb[12] = { WRITE_12, 0x08, 0, 0, 0, 9, 0x00, 0x01, 0x00, 0x00, 0, 0 };
	struct scsi_rw_cdb rw;

	assert_true(scsi_cdb_decode_rw(cdb, sizeof(cdb), &rw));
	assert_int_equal(rw.lba, 9);
	assert_int_equal(rw.nblocks, 0x10000);
	assert_true(rw.fua);
	assert_int_equal(rw.len_byte, 6);
}

static void test_read16_64bit_lba(void **state)
{
	const uint8_t cdb[16] = { READ_16, 0, 0xff, 0xee, 0xdd, 0xcc, 0xbb, 0xaa, 0x99, 0x88,
				  0xde, 0xad, 0xbe, 0xef, 0, 0 };
	struct scsi_rw_cdb rw;

	assert_true(scsi_cdb_decode_rw(cdb, sizeof(cdb), &rw));
	assert_true(rw.lba == 0xffeeddccbbaa9988ull);
	assert_int_equal(rw.nblocks, 0xdeadbeef);
	assert_int_equal(rw.len_byte, 10);
}

static void test_verify_bytchk(void **state)
{
	uint8_t cdb[16] = { VERIFY_16, 0x02 };
	struct scsi_rw_cdb rw;

	assert_true(scsi_cdb_decode_rw(cdb, sizeof(cdb), &rw));
	assert_int_equal(rw.bytchk, 1);
	cdb[1] = 0x06;
	assert_true(scsi_cdb_decode_rw(cdb, sizeof(cdb), &rw));
	assert_int_equal(rw.bytchk, 3);
	/* VERIFY has no FUA: bit 3 must not read as one. */
	cdb[1] = 0x08;
	assert_true(scsi_cdb_decode_rw(cdb, sizeof(cdb), &rw));
	assert_false(rw.fua);
	/* READ has no BYTCHK. */
	const uint8_t rd[10] = { READ_10, 0x02 };
	assert_true(scsi_cdb_decode_rw(rd, sizeof(rd), &rw));
	assert_int_equal(rw.bytchk, 0);
}

static void test_rw_rejects_short_and_foreign(void **state)
{
	const uint8_t cdb[16] = { READ_16 };
	const uint8_t tur[6] = { TEST_UNIT_READY };
	struct scsi_rw_cdb rw;

	assert_false(scsi_cdb_decode_rw(cdb, 10, &rw));
	assert_false(scsi_cdb_decode_rw(tur, sizeof(tur), &rw));
	assert_false(scsi_cdb_decode_rw(cdb, 0, &rw));
	assert_true(scsi_cdb_is_rw(WRITE_VERIFY_12));
	assert_false(scsi_cdb_is_rw(SYNCHRONIZE_CACHE_10));
}

static void test_group_len(void **state)
{
	assert_int_equal(scsi_cdb_group_len(READ_6), 6);
	assert_int_equal(scsi_cdb_group_len(READ_10), 10);
	assert_int_equal(scsi_cdb_group_len(MODE_SENSE_10), 10);
	assert_int_equal(scsi_cdb_group_len(READ_16), 16);
	assert_int_equal(scsi_cdb_group_len(READ_12), 12);
	assert_int_equal(scsi_cdb_group_len(0x7f), 0);
}

static void test_sync_cache(void **state)
{
	const uint8_t c10[10] = { SYNCHRONIZE_CACHE_10, 0x02, 0, 0, 1, 0, 0, 0x00, 0x10, 0 };
	const uint8_t c16[16] = { SYNCHRONIZE_CACHE_16, 0, 1, 0, 0, 0, 0, 0, 0, 2,
				  0, 0, 0, 0, 0, 0 };
	struct scsi_sync_cache_cdb sc;

	assert_true(scsi_cdb_decode_sync_cache(c10, sizeof(c10), &sc));
	assert_int_equal(sc.lba, 256);
	assert_int_equal(sc.nblocks, 16);
	assert_true(sc.immed);
	assert_true(scsi_cdb_decode_sync_cache(c16, sizeof(c16), &sc));
	assert_true(sc.lba == 0x0100000000000002ull);
	assert_int_equal(sc.nblocks, 0);
	assert_false(sc.immed);
	assert_false(scsi_cdb_decode_sync_cache(c16, 10, &sc));
}

static void test_mode_sense_select(void **state)
{
	const uint8_t ms6[6] = { MODE_SENSE_6, 0x08, 0x48, 0x00, 0xff, 0 };
	const uint8_t ms10[10] = { MODE_SENSE_10, 0x10, 0x3f, 0xff, 0, 0, 0, 0x01, 0x02, 0 };
	const uint8_t sel10[10] = { MODE_SELECT_10, 0x11, 0, 0, 0, 0, 0, 0x00, 0x18, 0 };
	struct scsi_mode_sense_cdb ms;
	struct scsi_mode_select_cdb sel;

	assert_true(scsi_cdb_decode_mode_sense(ms6, sizeof(ms6), &ms));
	assert_true(ms.dbd);
	assert_int_equal(ms.pc, 1);
	assert_int_equal(ms.page, 0x08);
	assert_int_equal(ms.alloc_len, 255);
	assert_false(ms.ten);
	assert_true(scsi_cdb_decode_mode_sense(ms10, sizeof(ms10), &ms));
	assert_true(ms.llbaa);
	assert_false(ms.dbd);
	assert_int_equal(ms.page, 0x3f);
	assert_int_equal(ms.subpage, 0xff);
	assert_int_equal(ms.alloc_len, 0x102);
	assert_true(ms.ten);
	assert_true(scsi_cdb_decode_mode_select(sel10, sizeof(sel10), &sel));
	assert_true(sel.pf);
	assert_true(sel.sp);
	assert_int_equal(sel.param_len, 0x18);
}

static void test_start_stop_and_capacity(void **state)
{
	const uint8_t ss[6] = { START_STOP_UNIT, 0x01, 0, 0x0f, 0x37, 0 };
	const uint8_t rc10[10] = { READ_CAPACITY_10, 0, 0, 0, 0, 7, 0, 0, 1, 0 };
	const uint8_t rc16[16] = { SERVICE_ACTION_IN_16, SAI_READ_CAPACITY_16, 0, 0, 0, 0, 0,
				   0, 0, 0, 0, 0, 0, 32, 0, 0 };
	struct scsi_start_stop_cdb s;
	struct scsi_read_capacity10_cdb r;
	uint32_t alloc;

	assert_true(scsi_cdb_decode_start_stop(ss, sizeof(ss), &s));
	assert_true(s.immed);
	assert_int_equal(s.pc_modifier, 0xf);
	assert_int_equal(s.power_condition, 3);
	assert_true(s.no_flush);
	assert_true(s.loej);
	assert_true(s.start);
	assert_true(scsi_cdb_decode_read_capacity10(rc10, sizeof(rc10), &r));
	assert_int_equal(r.lba, 7);
	assert_true(r.pmi);
	assert_true(scsi_cdb_sai16_alloc_len(rc16, sizeof(rc16), &alloc));
	assert_int_equal(alloc, 32);
	assert_false(scsi_cdb_sai16_alloc_len(rc16, 12, &alloc));
}

static void test_write_same10(void **state)
{
	/* WRPROTECT 0, ANCHOR, UNMAP; LBA 0x01020304; group 3; 0x0102 blocks */
	uint8_t cdb[10] = { WRITE_SAME_10, 0x18, 0x01, 0x02, 0x03, 0x04, 0x03, 0x01, 0x02, 0 };
	struct scsi_write_same_cdb ws;

	assert_true(scsi_cdb_decode_write_same(cdb, sizeof(cdb), &ws));
	assert_int_equal(ws.lba, 0x01020304);
	assert_int_equal(ws.nblocks, 0x0102);
	assert_int_equal(ws.group, 3);
	assert_true(ws.anchor);
	assert_true(ws.unmap);
	assert_false(ws.ndob);
	assert_false(ws.lbdata_pbdata);
	assert_int_equal(ws.protect, 0);
	assert_int_equal(ws.lba_byte, 2);
	assert_int_equal(ws.len_byte, 7);
	assert_int_equal(ws.flags_byte, 1);

	/* WRPROTECT 5, LBDATA; bit 0 of WRITE SAME(10) is reserved, not NDOB */
	cdb[1] = 0xa3;
	assert_true(scsi_cdb_decode_write_same(cdb, sizeof(cdb), &ws));
	assert_int_equal(ws.protect, 5);
	assert_false(ws.anchor);
	assert_false(ws.unmap);
	assert_false(ws.ndob);
	assert_true(ws.lbdata_pbdata);

	cdb[1] = 0x04; /* PBDATA */
	assert_true(scsi_cdb_decode_write_same(cdb, sizeof(cdb), &ws));
	assert_true(ws.lbdata_pbdata);
	assert_false(scsi_cdb_decode_write_same(cdb, 9, &ws));
}

static void test_write_same16(void **state)
{
	const uint8_t cdb[16] = { WRITE_SAME_16, 0x09, 0x80, 0, 0, 0, 0, 0, 0, 0x01,
				  0xff, 0xff, 0xff, 0xfe, 0x1f, 0 };
	const uint8_t wr16[16] = { WRITE_16 };
	struct scsi_write_same_cdb ws;

	assert_true(scsi_cdb_decode_write_same(cdb, sizeof(cdb), &ws));
	assert_true(ws.lba == 0x8000000000000001ull);
	assert_int_equal(ws.nblocks, 0xfffffffe);
	assert_int_equal(ws.group, 0x1f);
	assert_true(ws.unmap);
	assert_true(ws.ndob);
	assert_false(ws.anchor);
	assert_int_equal(ws.len_byte, 10);
	assert_false(scsi_cdb_decode_write_same(cdb, 15, &ws));
	assert_false(scsi_cdb_decode_write_same(wr16, sizeof(wr16), &ws));
	/* A WRITE SAME(10) opcode is not taken as a 16-byte one. */
	assert_false(scsi_cdb_decode_write_same((const uint8_t[]){ WRITE_SAME_10, 0 }, 2, &ws));
}

static void test_compare_and_write(void **state)
{
	/* WRPROTECT 0, DPO, FUA; LBA 0x0102030405060708; 0x80 blocks; group 7 */
	uint8_t cdb[16] = { COMPARE_AND_WRITE, 0x18, 1, 2, 3, 4, 5, 6, 7, 8,
			    0xaa, 0xbb, 0xcc, 0x80, 0x07, 0 };
	struct scsi_caw_cdb caw;

	assert_true(scsi_cdb_decode_compare_and_write(cdb, sizeof(cdb), &caw));
	assert_true(caw.lba == 0x0102030405060708ull);
	/* Bytes 10..12 are reserved: NUMBER OF LOGICAL BLOCKS is byte 13. */
	assert_int_equal(caw.nblocks, 0x80);
	assert_int_equal(caw.group, 7);
	assert_true(caw.dpo);
	assert_true(caw.fua);
	assert_int_equal(caw.protect, 0);
	assert_int_equal(caw.lba_byte, 2);
	assert_int_equal(caw.len_byte, 13);
	assert_int_equal(caw.flags_byte, 1);

	cdb[1] = 0x60; /* WRPROTECT 3, no DPO, no FUA */
	cdb[13] = 0;
	assert_true(scsi_cdb_decode_compare_and_write(cdb, sizeof(cdb), &caw));
	assert_int_equal(caw.protect, 3);
	assert_false(caw.dpo);
	assert_false(caw.fua);
	assert_int_equal(caw.nblocks, 0);

	assert_false(scsi_cdb_decode_compare_and_write(cdb, 15, &caw));
	cdb[0] = WRITE_16;
	assert_false(scsi_cdb_decode_compare_and_write(cdb, sizeof(cdb), &caw));
}

static void test_orwrite_and_write_atomic(void **state)
{
	/* ORPROTECT 5, DPO, FUA, the obsolete bit 1; LBA 0x0102030405060708;
	 * 0x00010203 blocks; group 9. */
	uint8_t orw[16] = { ORWRITE_16, 0xba, 1, 2, 3, 4, 5, 6, 7, 8, 0, 1, 2, 3, 0x09, 0 };
	/* WRPROTECT 0, FUA; bytes 10..11 reserved; 0x0304 blocks. */
	uint8_t wa[16] = { WRITE_ATOMIC_16, 0x08, 0, 0, 0, 0, 0, 0, 0, 0x20, 0xff, 0xff,
			   3, 4, 0, 0 };
	struct scsi_rw_cdb rw;

	assert_true(scsi_cdb_decode_orwrite16(orw, sizeof(orw), &rw));
	assert_true(rw.lba == 0x0102030405060708ull);
	assert_int_equal(rw.nblocks, 0x00010203);
	assert_int_equal(rw.protect, 5);
	assert_true(rw.dpo);
	assert_true(rw.fua);
	assert_int_equal(rw.group, 9);
	assert_int_equal(rw.flags_byte, 1);
	assert_int_equal(rw.len_byte, 10);
	assert_false(scsi_cdb_decode_orwrite16(orw, 15, &rw));
	assert_false(scsi_cdb_decode_orwrite16(wa, sizeof(wa), &rw));

	assert_true(scsi_cdb_decode_write_atomic16(wa, sizeof(wa), &rw));
	assert_true(rw.lba == 0x20);
	/* TRANSFER LENGTH is bytes 12..13 only. */
	assert_int_equal(rw.nblocks, 0x0304);
	assert_int_equal(rw.protect, 0);
	assert_false(rw.dpo);
	assert_true(rw.fua);
	assert_int_equal(rw.len_byte, 12);
	assert_false(scsi_cdb_decode_write_atomic16(wa, 15, &rw));
	assert_false(scsi_cdb_decode_write_atomic16(orw, sizeof(orw), &rw));
}

/* ORWRITE(32) as sg_write_x --or --32 builds it (BMOP 3, PGP 5, the
 * generations 7 and 9, FUA, LBA 5, 2 blocks); the service action and
 * CONTROL byte of a variable-length CDB. */
static void test_orwrite32_and_variable_length(void **state)
{
	uint8_t c[32] = { 0x7f, 0x00, 0x03, 0x05, 0, 0, 0x1f, 0x18, 0x00, 0x0e, 0xb8, 0,
			  0, 0, 0, 0, 0, 0, 0, 0x05, 0, 0, 0, 0x07, 0, 0, 0, 0x09,
			  0, 0, 0, 0x02 };
	uint8_t rsoc[12] = { MAINTENANCE_IN, 0x0c, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
	struct scsi_orwrite32_cdb o;

	(void)state;
	assert_true(scsi_cdb_decode_orwrite32(c, sizeof(c), &o));
	assert_int_equal(o.bmop, 3);
	assert_int_equal(o.pgp, 5);
	assert_int_equal(o.additional_len, 0x18);
	assert_int_equal(o.expected_generation, 7);
	assert_int_equal(o.new_generation, 9);
	assert_true(o.rw.lba == 5);
	assert_int_equal(o.rw.nblocks, 2);
	assert_int_equal(o.rw.protect, 5);
	assert_true(o.rw.dpo);
	assert_true(o.rw.fua);
	assert_int_equal(o.rw.group, 0x1f);
	assert_int_equal(o.rw.flags_byte, 10);
	assert_int_equal(o.rw.lba_byte, 12);
	assert_int_equal(o.rw.len_byte, 28);
	assert_false(scsi_cdb_decode_orwrite32(c, 31, &o));
	c[9] = 0x0d; /* another variable-length command */
	assert_false(scsi_cdb_decode_orwrite32(c, sizeof(c), &o));
	assert_int_equal(scsi_cdb_service_action(c, sizeof(c)), 0x000d);
	assert_int_equal(scsi_cdb_service_action(c, 9), 0);
	assert_int_equal(scsi_cdb_service_action(rsoc, sizeof(rsoc)), 0x0c);
	assert_int_equal(scsi_cdb_service_action_byte(VARIABLE_LENGTH_CMD), 8);
	assert_int_equal(scsi_cdb_service_action_byte(MAINTENANCE_IN), 1);
	/* CONTROL: byte 1 of a variable-length CDB, not its last (where
	 * ORWRITE(32) has TRANSFER LENGTH). */
	assert_int_equal(scsi_cdb_control_byte(VARIABLE_LENGTH_CMD, 32), 1);
	assert_int_equal(scsi_cdb_control_byte(MAINTENANCE_IN, 12), 11);
	assert_int_equal(scsi_cdb_control_byte(READ_10, 10), 9);
	assert_int_equal(scsi_cdb_control_byte(READ_16, 16), 15);
	assert_int_equal(scsi_cdb_control_byte(TEST_UNIT_READY, 6), 5);
}

static void test_prefetch(void **state)
{
	uint8_t p10[10] = { PRE_FETCH_10, 0x02, 0x11, 0x22, 0x33, 0x44, 0x05, 0x01, 0x02, 0 };
	uint8_t p16[16] = { PRE_FETCH_16, 0x00, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 0, 0x1f, 0 };
	struct scsi_prefetch_cdb pf;

	assert_true(scsi_cdb_decode_prefetch(p10, sizeof(p10), &pf));
	assert_true(pf.lba == 0x11223344);
	assert_int_equal(pf.nblocks, 0x0102);
	assert_true(pf.immed);
	assert_int_equal(pf.group, 5);
	assert_int_equal(pf.len_byte, 7);
	assert_true(scsi_cdb_decode_prefetch(p16, sizeof(p16), &pf));
	assert_true(pf.lba == 0x0000000100000002ull);
	assert_int_equal(pf.nblocks, 0);
	assert_false(pf.immed);
	assert_int_equal(pf.group, 0x1f);
	assert_int_equal(pf.len_byte, 10);
	assert_false(scsi_cdb_decode_prefetch(p16, 15, &pf));
	assert_false(scsi_cdb_decode_prefetch(p10, 9, &pf));
	p10[0] = READ_10;
	assert_false(scsi_cdb_decode_prefetch(p10, sizeof(p10), &pf));
}

static void test_read_defect_data(void **state)
{
	/* (10): flags in byte 2, ALLOCATION LENGTH bytes 7..8. */
	uint8_t r10[10] = { READ_DEFECT_DATA_10, 0, 0x1d, 0, 0, 0, 0, 0x01, 0x02, 0 };
	/* (12): flags in byte 1, INDEX 2..5, ALLOCATION LENGTH 6..9. */
	uint8_t r12[12] = { READ_DEFECT_DATA_12, 0x0b, 0, 0, 0, 7, 0, 1, 0, 0, 0, 0 };
	struct scsi_read_defect_cdb rd;

	assert_true(scsi_cdb_decode_read_defect_data(r10, sizeof(r10), &rd));
	assert_true(rd.req_plist);
	assert_true(rd.req_glist);
	assert_int_equal(rd.format, 5);
	assert_int_equal(rd.alloc_len, 0x0102);
	assert_false(rd.twelve);
	assert_int_equal(rd.flags_byte, 2);
	assert_true(scsi_cdb_decode_read_defect_data(r12, sizeof(r12), &rd));
	assert_false(rd.req_plist);
	assert_true(rd.req_glist);
	assert_int_equal(rd.format, 3);
	assert_int_equal(rd.index, 7);
	assert_int_equal(rd.alloc_len, 0x00010000);
	assert_true(rd.twelve);
	assert_int_equal(rd.flags_byte, 1);
	assert_false(scsi_cdb_decode_read_defect_data(r12, 11, &rd));
	assert_false(scsi_cdb_decode_read_defect_data(r10, 9, &rd));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read6_fields),
		cmocka_unit_test(test_read6_zero_length_is_256),
		cmocka_unit_test(test_read10_flags),
		cmocka_unit_test(test_write12_lengths),
		cmocka_unit_test(test_read16_64bit_lba),
		cmocka_unit_test(test_verify_bytchk),
		cmocka_unit_test(test_rw_rejects_short_and_foreign),
		cmocka_unit_test(test_group_len),
		cmocka_unit_test(test_sync_cache),
		cmocka_unit_test(test_mode_sense_select),
		cmocka_unit_test(test_start_stop_and_capacity),
		cmocka_unit_test(test_write_same10),
		cmocka_unit_test(test_write_same16),
		cmocka_unit_test(test_compare_and_write),
		cmocka_unit_test(test_orwrite_and_write_atomic),
		cmocka_unit_test(test_orwrite32_and_variable_length),
		cmocka_unit_test(test_prefetch),
		cmocka_unit_test(test_read_defect_data),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
