/* copy_offset.c alone: 0x0A segments with byte offsets, chunk by chunk,
 * against devices in memory. Each chunk is run the way copy_job.c runs
 * it (source blocks read at the buffer's start, the partial destination
 * blocks into their slots, merged, the whole blocks written, each
 * partial one by a COMPARE AND WRITE of its slot), and the result must
 * be memmove()'s, every byte around the copied range unchanged; or,
 * where "another writer" rewrote a partial block between its READ and
 * its COMPARE AND WRITE, that writer's kept bytes and the copy's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/copy_offset.h"
#include "scsi/scsi.h"

#define DEV_BYTES (256u << 10)
#define CAP (32u << 10)

static uint8_t src_dev[DEV_BYTES], dst_dev[DEV_BYTES], want[DEV_BYTES];
static uint8_t buf[CAP] __attribute__((aligned(4096)));

static void fill(uint8_t *p, size_t n, unsigned seed)
{
	srand(seed);
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)rand();
}

/* COMPARE AND WRITE of edge @i of @c into @dst, as vdisk does it: the
 * slot's first half against the medium, then its second half written;
 * false (nothing written) on a difference. */
static bool caw(uint8_t *dst, uint32_t dbs, const struct copy_offset_chunk *c, unsigned i)
{
	uint8_t *slot = copy_offset_edge_slot(buf, CAP, dbs, i), *blk = dst + c->edge_lba[i] * dbs;

	if (memcmp(blk, slot, dbs))
		return false;
	memcpy(blk, slot + dbs, dbs);
	return true;
}

/* Another writer's WRITE of the whole block @lba of @dst between the
 * copy's READ of it and its COMPARE AND WRITE: new bytes everywhere;
 * in @want, the bytes outside the copied range [@d, @d + @len) are its
 * (the copy's COMPARE AND WRITE comes after, so the copied ones stay
 * the copy's). */
static void other_writer(uint8_t *dst, uint8_t *want, uint32_t dbs, uint64_t lba, uint64_t d,
			 uint64_t len)
{
	for (uint64_t o = lba * dbs; o < (lba + 1) * dbs; o++) {
		dst[o] = (uint8_t)rand();
		if (want && (o < d || o >= d + len))
			want[o] = dst[o];
	}
}

/* Copies @len bytes from @sb (block size @sbs) at byte @s of @src to
 * byte @d of @dst (@dbs), in chunks as copy_job.c does, one at a time;
 * @src may be @dst. Checks the chunks' invariants on the way. With
 * @want, another writer rewrites some partial blocks between their READ
 * and their COMPARE AND WRITE (other_writer()). */
static void run(uint8_t *src, uint32_t sbs, uint64_t s, uint8_t *dst, uint32_t dbs, uint64_t d,
		uint64_t len, bool backward, uint8_t *want)
{
	struct copy_offset_span span = {
		.src_byte = s, .dst_byte = d, .len = len, .sbs = sbs, .dbs = dbs,
		.backward = backward,
	};
	uint32_t max = copy_offset_max_span(CAP, sbs, dbs);
	size_t edge = copy_offset_edge_at(CAP, dbs), stride = copy_offset_edge_stride(dbs);
	uint64_t issued = 0, nchunks = 0;

	while (issued < len) {
		struct copy_offset_chunk c;

		copy_offset_next_chunk(&span, issued, max, &c);
		nchunks++;
		/* Contiguous, in the order asked for. */
		assert_int_equal(c.at, backward ? len - issued - c.len : issued);
		assert_true(c.len > 0 && (uint64_t)c.dst_nblocks * dbs <= max);
		assert_true((uint64_t)c.src_nblocks * sbs <= edge);
		/* Only the step's first chunk starts, and its last ends, inside
		 * a block. */
		assert_true(!c.head || c.at == 0);
		assert_true(!c.tail || c.at + c.len == len);
		assert_int_equal(c.dst_lba, (d + c.at) / dbs);
		assert_int_equal(c.src_lba, (s + c.at) / sbs);
		assert_int_equal(c.nedges, (unsigned)c.head + c.tail - (c.head && c.tail &&
									 c.dst_nblocks == 1));
		/* The edges, whole blocks and partial ones, make the span. */
		assert_int_equal(c.whole_nblocks + c.nedges, c.dst_nblocks);
		assert_int_equal(c.whole_lba, c.dst_lba + c.head);
		assert_true(stride >= 2 * dbs && stride % 4096 == 0);
		for (unsigned i = 0; i < c.nedges; i++)
			memcpy(buf + edge + i * stride, dst + c.edge_lba[i] * dbs, dbs);
		memcpy(buf, src + c.src_lba * sbs, (size_t)c.src_nblocks * sbs);
		copy_offset_merge(&c, buf, CAP, dbs);
		for (unsigned i = 0; i < c.nedges; i++)
			assert_memory_equal(copy_offset_edge_slot(buf, CAP, dbs, i) + dbs,
					    buf + (c.edge_lba[i] - c.dst_lba) * dbs, dbs);
		for (unsigned i = 0; i < c.nedges; i++) {
			unsigned tries = 0;

			if (want && rand() % 3 == 0)
				other_writer(dst, want, dbs, c.edge_lba[i], d, len);
			while (!caw(dst, dbs, &c, i)) {
				/* Read again, merge again: copy_job.c. */
				assert_true(want && ++tries == 1);
				memcpy(copy_offset_edge_slot(buf, CAP, dbs, i),
				       dst + c.edge_lba[i] * dbs, dbs);
				copy_offset_keep(&c, buf, CAP, dbs, i);
			}
		}
		memcpy(dst + c.whole_lba * dbs, buf + (c.whole_lba - c.dst_lba) * dbs,
		       (size_t)c.whole_nblocks * dbs);
		issued += c.len;
	}
	assert_int_equal(issued, len);
	assert_true(nchunks >= (len + max - 1) / max);
}

static void test_two_devices(void **state)
{
	static const uint32_t sizes[] = { 512, 4096 };

	(void)state;
	for (unsigned i = 0; i < 300; i++) {
		uint32_t sbs = sizes[i & 1], dbs = sizes[(i >> 1) & 1];
		uint64_t len = (uint64_t)rand() % (3 * CAP) + 1;
		uint64_t s = (uint64_t)rand() % (DEV_BYTES - len), d = (uint64_t)rand() % (DEV_BYTES - len);

		if (i % 7 == 0)
			len = 1 + i % 3; /* within one block */
		if (i % 11 == 0)
			d = d / dbs * dbs; /* no head */
		fill(src_dev, DEV_BYTES, i);
		fill(dst_dev, DEV_BYTES, i + 1000);
		memcpy(want, dst_dev, DEV_BYTES);
		memcpy(want + d, src_dev + s, len);
		run(src_dev, sbs, s, dst_dev, dbs, d, len, (i >> 2) & 1, i % 5 == 0 ? want : NULL);
		assert_memory_equal(dst_dev, want, DEV_BYTES);
	}
}

/* One device, source and destination overlapping: chunks one at a time,
 * from the end down when the destination is above (copy_job.c's
 * backward), give memmove(). */
static void test_overlapping(void **state)
{
	(void)state;
	for (unsigned i = 0; i < 150; i++) {
		uint32_t bs = i & 1 ? 4096 : 512;
		uint64_t len = (uint64_t)rand() % (3 * CAP) + 1;
		uint64_t s = (uint64_t)rand() % (DEV_BYTES - len - 8192);
		uint64_t d = s + (uint64_t)rand() % 8192;

		if (i & 2) {
			uint64_t t = s;

			s = d;
			d = t;
		}
		fill(dst_dev, DEV_BYTES, i + 5000);
		memcpy(want, dst_dev, DEV_BYTES);
		memmove(want + d, want + s, len);
		run(dst_dev, bs, s, dst_dev, bs, d, len, d > s && d < s + len, i % 3 == 0 ? want : NULL);
		assert_memory_equal(dst_dev, want, DEV_BYTES);
	}
}

static void test_check(void **state)
{
	struct scsi_sense sense;

	(void)state;
	assert_true(copy_offset_check(511, 4095, 512, 4096, 100, &sense));
	assert_false(copy_offset_check(512, 0, 512, 512, 100, &sense));
	assert_int_equal(sense.key, SK_ILLEGAL_REQUEST);
	assert_int_equal(sense.asc, ASC_INVALID_FIELD_IN_PARAMETER_LIST);
	assert_true(sense.has_field_pointer && !sense.in_cdb);
	assert_int_equal(sense.byte, 128);
	assert_false(copy_offset_check(0, 4096, 512, 4096, 100, &sense));
	assert_int_equal(sense.byte, 130);
	assert_int_equal(copy_offset_blocks(0, 0, 512), 0);
	assert_int_equal(copy_offset_blocks(511, 1, 512), 1);
	assert_int_equal(copy_offset_blocks(511, 2, 512), 2);
	assert_int_equal(copy_offset_blocks(0, 4096, 4096), 1);
	/* A 1 MiB lane buffer: the edge area is its last 8 KiB (two slots
	 * of 4 KiB for 512-byte blocks, of 8 KiB for 4096-byte ones), a span
	 * leaves room for two partial source blocks below it. */
	assert_int_equal(copy_offset_edge_at(1u << 20, 512), (1u << 20) - 8192);
	assert_int_equal(copy_offset_edge_at(1u << 20, 4096), (1u << 20) - 16384);
	assert_int_equal(copy_offset_max_span(1u << 20, 4096, 512), (1u << 20) - 8192 - 8192);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_two_devices),
		cmocka_unit_test(test_overlapping),
		cmocka_unit_test(test_check),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
