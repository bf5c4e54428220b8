/* Block device with offset to block device with offset segments (0x0A,
 * SPC-4 6.4.6.7): NUMBER OF BYTES from byte SOURCE BYTE OFFSET of the
 * source LBA to byte DESTINATION BYTE OFFSET of the destination LBA, any
 * count, any two block sizes. The geometry of such a copy, pure: which
 * blocks each chunk reads and writes, which destination blocks are only
 * partly written (read first and merged, so that the bytes around the
 * copied range keep what they hold) and how the bytes move inside the
 * lane's buffer. copy_job.c issues the internal commands.
 *
 * A chunk's destination span is whole blocks and only the step's first
 * and last chunk may have a partial block (its head, its tail), so no two
 * chunks of a step write the same block and two lanes may run side by
 * side. Inside a lane buffer of @cap bytes: the source blocks are read at
 * offset 0, the destination's partial blocks into the edge area at the
 * end (copy_offset_edge_at()), each in a slot of its own at a 4 KiB
 * boundary for O_DIRECT backends; then the source bytes move to where
 * they go in the destination span (memmove) and the partial blocks'
 * kept bytes are copied around them. The span's whole blocks are
 * written from the buffer; each partial block is written by a COMPARE
 * AND WRITE whose Data-Out is its slot: the block as it was read, then
 * the block to write (copy_offset_keep() puts it there), so that a
 * write of the kept bytes by anyone else between the READ and the
 * write is never undone: the COMPARE AND WRITE miscompares, and the
 * block is read and merged again. */
#ifndef USCST_CORE_COPY_OFFSET_H
#define USCST_CORE_COPY_OFFSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scsi/sense.h"

/* A segment resolved to bytes of its two devices. */
struct copy_offset_span {
	uint64_t src_byte, dst_byte; /* lba * block size + byte offset */
	uint64_t len;                /* NUMBER OF BYTES */
	uint32_t sbs, dbs;           /* block sizes */
	bool backward;               /* chunks from the end down */
};

/* One chunk: @len bytes from @at in the step's bytes. */
struct copy_offset_chunk {
	uint64_t at;
	uint32_t len;
	uint64_t src_lba;      /* the source blocks read */
	uint32_t src_nblocks;
	uint32_t src_skip;     /* bytes of the first source block before the chunk's */
	uint64_t dst_lba;      /* the destination blocks written */
	uint32_t dst_nblocks;
	uint32_t dst_skip;     /* bytes of the first destination block kept */
	bool head, tail;       /* first / last destination block partly written */
	/* The destination blocks written whole (between the partial ones;
	 * none when every block of the span is partial). */
	uint64_t whole_lba;
	uint32_t whole_nblocks;
	/* Destination blocks read before the write: the partial ones, one
	 * when head and tail are the same block. Edge 0 is the head's when
	 * there is a head, else the tail's. */
	unsigned nedges;
	uint64_t edge_lba[2];
};

/* Whether the offsets fit their blocks (the CSCD descriptors' DISK
 * BLOCK LENGTH, checked to be the LUNs'); false with @sense ILLEGAL
 * REQUEST, INVALID FIELD IN PARAMETER LIST at the descriptor's byte 28
 * (source) or 30 (destination), @seg_off being the descriptor's offset
 * in the parameter list. */
bool copy_offset_check(uint16_t src_off, uint16_t dst_off, uint32_t sbs, uint32_t dbs,
		       size_t seg_off, struct scsi_sense *sense);

/* Blocks of size @bs that @len bytes from byte @off of a block touch
 * (0 for no bytes). */
uint64_t copy_offset_blocks(uint32_t off, uint64_t len, uint32_t bs);

/* Where the edge area starts in a lane buffer of @cap bytes, the
 * distance between its two slots (each 2 * @dbs bytes: the block as
 * read, then as it is to be written), and the longest destination span
 * (bytes, whole blocks) a chunk may have so that its source blocks and
 * its span fit below it. @cap is at least 64 KiB and both block sizes
 * at most 4096 (asserted). */
size_t copy_offset_edge_at(size_t cap, uint32_t dbs);
size_t copy_offset_edge_stride(uint32_t dbs);
uint32_t copy_offset_max_span(size_t cap, uint32_t sbs, uint32_t dbs);

/* Edge @i's slot in @buf: the READ of its block goes to its first
 * @dbs bytes; after copy_offset_keep() all 2 * @dbs bytes are the
 * COMPARE AND WRITE's Data-Out. */
uint8_t *copy_offset_edge_slot(uint8_t *buf, size_t cap, uint32_t dbs, unsigned i);

/* The chunk that starts once @issued bytes of @s have been handed out
 * (forward: from the start; backward: from the end), with a destination
 * span of at most @max_span bytes. @issued < s->len. */
void copy_offset_next_chunk(const struct copy_offset_span *s, uint64_t issued,
			    uint32_t max_span, struct copy_offset_chunk *c);

/* @buf holds the chunk's source blocks at 0 and its edges in their
 * slots: makes buf[0, dst_nblocks * dbs) the blocks to write, and each
 * slot the Data-Out of its COMPARE AND WRITE (copy_offset_keep()). */
void copy_offset_merge(const struct copy_offset_chunk *c, uint8_t *buf, size_t cap,
		       uint32_t dbs);

/* Edge @i's block read again into the first half of its slot (its
 * COMPARE AND WRITE miscompared: someone wrote the block meanwhile), or
 * for the first time by copy_offset_merge(): its kept bytes into the
 * span, around the chunk's bytes (which stay as merged: the source is
 * not read again, so a copy within one device is still memmove()'s
 * even after its other edge was written), and the block to write into
 * the second half of the slot. */
void copy_offset_keep(const struct copy_offset_chunk *c, uint8_t *buf, size_t cap, uint32_t dbs,
		      unsigned i);

#endif
