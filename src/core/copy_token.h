/* ROD tokens (SPC-4 5.16.6, SBC-4 4.31): the store of the tokens POPULATE
 * TOKEN creates and WRITE USING TOKEN uses (copy_odx.c).
 *
 * A token is the device's, not the nexus's: WRITE USING TOKEN may come
 * from any session, through any target, that has a LUN of the token's
 * source device (copy_odx.c checks that against the session's own LUN
 * table, as CSCD resolution does). So the store is global, under its own
 * mutex (tokens cross reactors).
 *
 * Point in time: a token is "change vulnerable" (ROD type 00800001h):
 * it is revoked when any block of its ranges is written, by any nexus
 * and any command that writes the medium, before WRITE USING TOKEN has
 * read it. The hook is copy_token_note_write(), called from the write
 * range check in PRE_EXEC (cmd.c): with no token anywhere it costs one
 * relaxed load (dev->rod_tokens), else an overlap check under the
 * store's mutex.
 *
 * Lifetime: a token is created by copy_token_create(), found (and its
 * inactivity timer restarted) by copy_token_get(), which takes a
 * reference for the WRITE USING TOKEN that uses it, released by
 * copy_token_put(). It leaves the store when it expires (its inactivity
 * timeout passed with no use: checked lazily, at every lookup and
 * creation), is deleted (DEL_TKN), is revoked (a write to its blocks;
 * its device shrank below them, copy_token_device_resized(); the medium
 * was ejected, scst_dev_revoke_rod_tokens()) or its device is destroyed;
 * its memory goes with the last reference. The session that made it may
 * end long before: a token is not the session's (Windows hands a token
 * to another host of its cluster), so nothing of a session's end
 * touches the store. It holds a reference to its source device, so the pointer
 * compared with a LUN's device is never one of a later device.
 *
 * A WRITE USING TOKEN onto its own token's blocks (a copy within one
 * file, destination and source on one device, overlapping) claims the
 * token first (copy_token_claim()): from then on the token stands for
 * nobody else (copy_token_get() answers TOKEN REVOKED, and a WRITE USING
 * TOKEN already using it stops at its next chunk), the claimant's own
 * internal WRITEs (which carry the claim, cmd->rod_token_claim) do not
 * revoke it while any other write still does, and when the claimant ends
 * (copy_token_claim_end()) the token is revoked: its blocks no longer
 * hold what they held at POPULATE TOKEN. The claimant keeps the point in
 * time by the order it copies in (copy_odx.c, copy_job.c). */
#ifndef USCST_CORE_COPY_TOKEN_H
#define USCST_CORE_COPY_TOKEN_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/list.h"
#include "core/scst.h"

#define COPY_TOKEN_LEN 512
/* ROD TYPE (SPC-4 table 126). */
#define COPY_ROD_TYPE_PIT_DEFAULT 0x00800000u
#define COPY_ROD_TYPE_PIT_CHANGE_VULNERABLE 0x00800001u
#define COPY_ROD_TYPE_BLOCK_ZERO 0xffff0001u
/* Block device range descriptors one POPULATE TOKEN or WRITE USING
 * TOKEN takes (VPD 0x8F, Block Device ROD Token Limits). */
#define COPY_TOKEN_MAX_RANGES 16
/* Blocks one token may represent (MAXIMUM BYTES IN BLOCK ROD in VPD
 * 0x8F is this times the block size). */
#define COPY_TOKEN_MAX_BLOCKS (1u << 21)
/* Inactivity timeouts, seconds. */
#define COPY_TOKEN_DEFAULT_TIMEOUT 30
#define COPY_TOKEN_MAX_TIMEOUT 3600
/* Live tokens per device. */
#define COPY_TOKEN_MAX_PER_DEVICE 64
/* Tokens remembered after they expired or were deleted, to say so. */
#define COPY_TOKEN_TOMBSTONES 64

/* INVALID TOKEN OPERATION (SPC-4 table 52, ASC 23h) and the resource
 * shortages of POPULATE TOKEN (55h). */
enum copy_token_asc {
	ASC_INVALID_TOKEN_OPERATION = 0x2300,
	ASC_TOKEN_UNSUPPORTED_TYPE = 0x2301,
	ASC_TOKEN_UNKNOWN = 0x2304,
	ASC_TOKEN_CORRUPT = 0x2305,
	ASC_TOKEN_REVOKED = 0x2306,
	ASC_TOKEN_EXPIRED = 0x2307,
	ASC_TOKEN_DELETED = 0x2309,
	ASC_INVALID_TOKEN_LENGTH = 0x230a,
	ASC_INSUFFICIENT_RESOURCES_TO_CREATE_ROD_TOKEN = 0x550d,
	/* INSUFFICIENT RESOURCES: a WRITE USING TOKEN whose pieces overwrite
	 * each other's sources in a cycle would need the blocks held. */
	ASC_INSUFFICIENT_RESOURCES_TO_ORDER = 0x5503,
};

struct copy_token_range {
	uint64_t lba;
	uint32_t nblocks;
};

struct copy_token {
	struct list_head entry;      /* the store's list; empty once out of it */
	int refs;                    /* under the store's mutex */
	struct scst_device *dev;     /* referenced */
	uint8_t bytes[COPY_TOKEN_LEN];
	unsigned nranges;
	struct copy_token_range ranges[COPY_TOKEN_MAX_RANGES];
	uint64_t nblocks;            /* sum of the ranges */
	uint32_t timeout_s;
	uint64_t last_use_ns;        /* CLOCK_MONOTONIC */
	/* Revoked (a block of the ranges written since POPULATE TOKEN, the
	 * device shrunk or its medium ejected): out of the store too. */
	atomic_bool revoked;
	/* The claim of the WRITE USING TOKEN writing the token's own blocks
	 * (0: none); set once, under the store's mutex. */
	atomic_uint_fast64_t claim;
};

/* Tokens in the store, all devices (each device counts its own in
 * dev->rod_tokens: the write path's fast test). */
extern atomic_uint copy_tokens_live;

/* A new token of @dev for @ranges (checked by the caller), its 512 bytes
 * made: ROD type, length, an identifier, the creator's designator, the
 * bytes represented and RAND_bytes(). NULL with *too_many set when the
 * device has COPY_TOKEN_MAX_PER_DEVICE live tokens, or with it clear when
 * there is no memory or no randomness. The store holds it; the caller
 * gets no reference. */
struct copy_token *copy_token_create(struct scst_device *dev, const struct copy_token_range *r,
				     unsigned nranges, uint32_t timeout_s, bool *too_many);
/* The token whose 512 bytes are @bytes, referenced, its inactivity timer
 * restarted; NULL when there is none, with *why set to TOKEN EXPIRED,
 * TOKEN DELETED or TOKEN REVOKED for one of the last
 * COPY_TOKEN_TOMBSTONES tokens that left the store so, else TOKEN
 * UNKNOWN. */
struct copy_token *copy_token_get(const uint8_t *bytes, uint16_t *why);
void copy_token_put(struct copy_token *t);
/* One more reference to @t, which the caller holds one of. */
void copy_token_hold(struct copy_token *t);
/* Takes @t out of the store (DEL_TKN). */
void copy_token_delete(struct copy_token *t);

/* @t (referenced by the caller) for a WRITE USING TOKEN that writes its
 * blocks: a claim (never 0), or 0 when @t is revoked, out of the store
 * or claimed already (the caller answers TOKEN REVOKED). */
uint64_t copy_token_claim(struct copy_token *t);
/* The claimant of @claim has ended, however: @t is revoked. */
void copy_token_claim_end(struct copy_token *t, uint64_t claim);
/* Whether @t still stands for its blocks' data as of POPULATE TOKEN for
 * the WRITE USING TOKEN holding @claim (0: none): not revoked, and not
 * claimed by another. Checked after every chunk the job reads. */
static inline bool copy_token_stands(const struct copy_token *t, uint64_t claim)
{
	uint64_t c = atomic_load(&t->claim);

	return !atomic_load(&t->revoked) && (c == 0 || c == claim);
}

/* @dev is being destroyed: its tokens leave the store (the references
 * they hold go once no WRITE USING TOKEN uses them). */
void copy_token_forget_device(struct scst_device *dev);

/* @dev's capacity changed to @nblocks (scst_device_resync_size()): every
 * token with a block at or beyond the new end is revoked; the others
 * still stand for what their blocks hold. */
void copy_token_device_resized(struct scst_device *dev, uint64_t nblocks);

void copy_token_note_write_slow(struct scst_device *dev, uint64_t lba, uint64_t nblocks,
				uint64_t claim);

/* @cmd (in PRE_EXEC, writing the medium) writes @cmd->nblocks from
 * @cmd->lba of its device: every token with a block there is revoked,
 * but the one @claim (cmd->rod_token_claim; 0: none) is the claim of.
 * A command without a block range (nblocks 0: UNMAP, FORMAT UNIT,
 * SANITIZE, WRITE SAME to the end) revokes all of the device's. */
static inline void copy_token_note_write(struct scst_device *dev, uint64_t lba,
					 uint64_t nblocks, uint64_t claim)
{
	if (atomic_load_explicit(&dev->rod_tokens, memory_order_relaxed) == 0)
		return;
	copy_token_note_write_slow(dev, lba, nblocks, claim);
}

#endif
