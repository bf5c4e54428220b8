/* The geometry of 0x0A segments with byte offsets: copy_offset.h. */
#include <assert.h>
#include <string.h>

#include "base/buf_pool.h"
#include "core/copy_offset.h"

bool copy_offset_check(uint16_t src_off, uint16_t dst_off, uint32_t sbs, uint32_t dbs,
		       size_t seg_off, struct scsi_sense *sense)
{
	/* An offset names a byte within its first block: one at or beyond
	 * the block's end names a byte of another block, which the LBA
	 * field is there to name. */
	if (src_off >= sbs) {
		*sense = scsi_sense_invalid_param_field((uint16_t)(seg_off + 28), -1);
		return false;
	}
	if (dst_off >= dbs) {
		*sense = scsi_sense_invalid_param_field((uint16_t)(seg_off + 30), -1);
		return false;
	}
	return true;
}

uint64_t copy_offset_blocks(uint32_t off, uint64_t len, uint32_t bs)
{
	assert(bs > 0 && off < bs);
	return len ? (off + len + bs - 1) / bs : 0;
}

size_t copy_offset_edge_stride(uint32_t dbs)
{
	return (2 * (size_t)dbs + BUF_POOL_ALIGN - 1) / BUF_POOL_ALIGN * BUF_POOL_ALIGN;
}

uint8_t *copy_offset_edge_slot(uint8_t *buf, size_t cap, uint32_t dbs, unsigned i)
{
	assert(i < 2);
	return buf + copy_offset_edge_at(cap, dbs) + i * copy_offset_edge_stride(dbs);
}

size_t copy_offset_edge_at(size_t cap, uint32_t dbs)
{
	assert(cap >= 2 * copy_offset_edge_stride(dbs));
	return cap - 2 * copy_offset_edge_stride(dbs);
}

uint32_t copy_offset_max_span(size_t cap, uint32_t sbs, uint32_t dbs)
{
	size_t below = copy_offset_edge_at(cap, dbs);

	/* The source blocks of a span of n bytes are at most n + 2 * sbs
	 * bytes (a partial block at either end). */
	assert(sbs && dbs && below >= 2 * (size_t)sbs + dbs && cap <= UINT32_MAX);
	return (uint32_t)((below - 2 * (size_t)sbs) / dbs * dbs);
}

void copy_offset_next_chunk(const struct copy_offset_span *s, uint64_t issued,
			    uint32_t max_span, struct copy_offset_chunk *c)
{
	uint64_t x, y, d, dst_end = s->dst_byte + s->len, src;

	assert(issued < s->len && max_span >= s->dbs && max_span % s->dbs == 0);
	memset(c, 0, sizeof(*c));
	if (!s->backward) {
		/* From the block holding the next byte, as far as the span
		 * reaches; the end falls on a block boundary unless it is the
		 * step's end. */
		x = issued;
		d = (s->dst_byte + x) / s->dbs * s->dbs + max_span;
		y = (d < dst_end ? d : dst_end) - s->dst_byte;
	} else {
		/* Down from the end of what is left: the chunk starts on a
		 * block boundary unless it is the step's start. */
		uint64_t top, base = s->dst_byte / s->dbs * s->dbs;

		y = s->len - issued;
		top = (s->dst_byte + y + s->dbs - 1) / s->dbs * s->dbs;
		x = top - base > max_span ? top - max_span - s->dst_byte : 0;
	}
	c->at = x;
	c->len = (uint32_t)(y - x);
	d = s->dst_byte + x;
	c->dst_lba = d / s->dbs;
	c->dst_skip = (uint32_t)(d % s->dbs);
	c->dst_nblocks = (uint32_t)copy_offset_blocks(c->dst_skip, c->len, s->dbs);
	src = s->src_byte + x;
	c->src_lba = src / s->sbs;
	c->src_skip = (uint32_t)(src % s->sbs);
	c->src_nblocks = (uint32_t)copy_offset_blocks(c->src_skip, c->len, s->sbs);
	c->head = c->dst_skip != 0;
	c->tail = (c->dst_skip + c->len) % s->dbs != 0;
	if (c->head)
		c->edge_lba[c->nedges++] = c->dst_lba;
	if (c->tail && !(c->head && c->dst_nblocks == 1))
		c->edge_lba[c->nedges++] = c->dst_lba + c->dst_nblocks - 1;
	c->whole_lba = c->dst_lba + c->head;
	c->whole_nblocks = c->dst_nblocks - c->nedges;
	assert((uint64_t)c->dst_nblocks * s->dbs <= max_span && c->len > 0);
}

void copy_offset_merge(const struct copy_offset_chunk *c, uint8_t *buf, size_t cap,
		       uint32_t dbs)
{
	/* The source bytes to where they land in the span (the ranges may
	 * overlap either way), then the kept bytes of the partial blocks
	 * around them. */
	memmove(buf + c->dst_skip, buf + c->src_skip, c->len);
	for (unsigned i = 0; i < c->nedges; i++)
		copy_offset_keep(c, buf, cap, dbs, i);
}

void copy_offset_keep(const struct copy_offset_chunk *c, uint8_t *buf, size_t cap, uint32_t dbs,
		      unsigned i)
{
	uint8_t *slot = copy_offset_edge_slot(buf, cap, dbs, i);
	uint64_t k = c->edge_lba[i] - c->dst_lba;
	uint8_t *blk = buf + k * dbs;
	/* Where the chunk's bytes end in this block. */
	size_t end = (size_t)c->dst_skip + c->len - (size_t)(c->dst_nblocks - 1) * dbs;

	assert(i < c->nedges && k < c->dst_nblocks);
	if (c->head && k == 0)
		memcpy(blk, slot, c->dst_skip);
	if (c->tail && k == c->dst_nblocks - 1)
		memcpy(blk + end, slot + end, dbs - end);
	memcpy(slot + dbs, blk, dbs);
}
