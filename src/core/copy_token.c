/* The ROD token store (copy_token.h says what a token is and how it
 * lives). One list under one mutex: a handful of live tokens per device
 * at most (COPY_TOKEN_MAX_PER_DEVICE), and the write path enters here
 * only while some token exists. */
#include <assert.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "base/bytes.h"
#include "base/log.h"
#include "core/copy_params.h"
#include "core/copy_token.h"

atomic_uint copy_tokens_live;

static pthread_mutex_t store_lock = PTHREAD_MUTEX_INITIALIZER;
static struct list_head store = LIST_HEAD_INIT(store);
static uint64_t next_id = 1;
/* The last tokens that expired or were deleted, oldest overwritten. */
static struct {
	uint8_t bytes[COPY_TOKEN_LEN];
	uint16_t asc;
} tombstones[COPY_TOKEN_TOMBSTONES];
static unsigned next_tombstone;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void release_locked(struct copy_token *t)
{
	assert(t->refs > 0);
	if (--t->refs == 0) {
		scst_device_put(t->dev);
		free(t);
	}
}

/* Out of the store, remembered as @asc (0: not); the store's reference
 * goes. */
static void remove_locked(struct copy_token *t, uint16_t asc)
{
	if (list_empty(&t->entry))
		return;
	if (asc) {
		unsigned i = next_tombstone++ % COPY_TOKEN_TOMBSTONES;

		memcpy(tombstones[i].bytes, t->bytes, COPY_TOKEN_LEN);
		tombstones[i].asc = asc;
	}
	list_del(&t->entry);
	list_init(&t->entry);
	atomic_fetch_sub(&copy_tokens_live, 1);
	atomic_fetch_sub(&t->dev->rod_tokens, 1);
	release_locked(t);
}

static void expire_locked(uint64_t now)
{
	struct copy_token *t, *n;

	list_for_each_entry_safe(t, n, &store, entry) {
		if (now - t->last_use_ns > (uint64_t)t->timeout_s * 1000000000u)
			remove_locked(t, ASC_TOKEN_EXPIRED);
	}
}

/* The token's 512 bytes (SPC-4 5.16.6.2): ROD TYPE, ROD TOKEN LENGTH
 * 01F8h, then what the copy manager likes: an 8-byte identifier, the
 * creator logical unit descriptor (an Identification CSCD descriptor
 * with the NAA designator), NUMBER OF BYTES REPRESENTED, and random
 * bytes so that a token cannot be guessed from another. */
static bool make_bytes(struct copy_token *t, uint64_t id)
{
	uint8_t *b = t->bytes;

	memset(b, 0, COPY_TOKEN_LEN);
	put_be32(b, COPY_ROD_TYPE_PIT_CHANGE_VULNERABLE);
	put_be16(b + 6, COPY_TOKEN_LEN - 8);
	put_be64(b + 8, id);
	b[16] = COPY_CSCD_IDENTIFICATION;
	b[17] = TYPE_DISK;
	b[20] = 0x01; /* code set binary */
	b[21] = 0x03; /* association LU, NAA */
	b[23] = 8;
	put_be64(b + 24, t->dev->naa_id);
	put_be32(b + 16 + 28, t->dev->block_size); /* DISK BLOCK LENGTH at 29 (3 bytes) */
	b[16 + 28] = 0;
	put_be64(b + 56, t->nblocks * t->dev->block_size);
	return RAND_bytes(b + 128, COPY_TOKEN_LEN - 128) == 1;
}

struct copy_token *copy_token_create(struct scst_device *dev, const struct copy_token_range *r,
				     unsigned nranges, uint32_t timeout_s, bool *too_many)
{
	struct copy_token *t, *o;
	unsigned n = 0;
	uint64_t now = now_ns();

	assert(nranges <= COPY_TOKEN_MAX_RANGES);
	*too_many = false;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	list_init(&t->entry);
	t->refs = 1;
	t->dev = dev;
	t->nranges = nranges;
	memcpy(t->ranges, r, nranges * sizeof(*r));
	for (unsigned i = 0; i < nranges; i++)
		t->nblocks += r[i].nblocks;
	t->timeout_s = timeout_s;
	t->last_use_ns = now;
	pthread_mutex_lock(&store_lock);
	expire_locked(now);
	list_for_each_entry(o, &store, entry)
		n += o->dev == dev;
	if (n >= COPY_TOKEN_MAX_PER_DEVICE) {
		pthread_mutex_unlock(&store_lock);
		free(t);
		*too_many = true;
		return NULL;
	}
	if (!make_bytes(t, next_id++)) {
		pthread_mutex_unlock(&store_lock);
		log_error("copy manager: RAND_bytes failed: no ROD token made");
		free(t);
		return NULL;
	}
	scst_device_get(dev);
	list_add_tail(&t->entry, &store);
	atomic_fetch_add(&copy_tokens_live, 1);
	atomic_fetch_add(&dev->rod_tokens, 1);
	pthread_mutex_unlock(&store_lock);
	return t;
}

struct copy_token *copy_token_get(const uint8_t *bytes, uint16_t *why)
{
	struct copy_token *t, *found = NULL;
	uint64_t now = now_ns();

	pthread_mutex_lock(&store_lock);
	expire_locked(now);
	*why = ASC_TOKEN_UNKNOWN;
	list_for_each_entry(t, &store, entry) {
		if (!memcmp(t->bytes, bytes, COPY_TOKEN_LEN)) {
			/* Claimed: a WRITE USING TOKEN is overwriting its
			 * blocks, so it stands for nothing any more. */
			if (atomic_load(&t->claim)) {
				*why = ASC_TOKEN_REVOKED;
				break;
			}
			found = t;
			t->refs++;
			t->last_use_ns = now;
			break;
		}
	}
	for (unsigned i = 0; !found && *why == ASC_TOKEN_UNKNOWN && i < COPY_TOKEN_TOMBSTONES;
	     i++) {
		if (tombstones[i].asc && !memcmp(tombstones[i].bytes, bytes, COPY_TOKEN_LEN))
			*why = tombstones[i].asc;
	}
	pthread_mutex_unlock(&store_lock);
	return found;
}

void copy_token_put(struct copy_token *t)
{
	pthread_mutex_lock(&store_lock);
	release_locked(t);
	pthread_mutex_unlock(&store_lock);
}

void copy_token_hold(struct copy_token *t)
{
	pthread_mutex_lock(&store_lock);
	assert(t->refs > 0);
	t->refs++;
	pthread_mutex_unlock(&store_lock);
}

void copy_token_delete(struct copy_token *t)
{
	pthread_mutex_lock(&store_lock);
	remove_locked(t, ASC_TOKEN_DELETED);
	pthread_mutex_unlock(&store_lock);
}

uint64_t copy_token_claim(struct copy_token *t)
{
	static uint64_t next_claim = 1;
	uint64_t claim = 0;

	pthread_mutex_lock(&store_lock);
	assert(t->refs > 0);
	if (!list_empty(&t->entry) && !atomic_load(&t->revoked) && !atomic_load(&t->claim)) {
		claim = next_claim++;
		atomic_store(&t->claim, claim);
	}
	pthread_mutex_unlock(&store_lock);
	return claim;
}

static void revoke_locked(struct copy_token *t);

void copy_token_claim_end(struct copy_token *t, uint64_t claim)
{
	pthread_mutex_lock(&store_lock);
	assert(claim && atomic_load(&t->claim) == claim);
	revoke_locked(t);
	pthread_mutex_unlock(&store_lock);
}

void copy_token_forget_device(struct scst_device *dev)
{
	struct copy_token *t, *n;

	pthread_mutex_lock(&store_lock);
	list_for_each_entry_safe(t, n, &store, entry) {
		if (t->dev == dev)
			remove_locked(t, 0);
	}
	pthread_mutex_unlock(&store_lock);
}

/* @t no longer stands for its blocks: it leaves the store at once, so
 * that it holds none of its device's COPY_TOKEN_MAX_PER_DEVICE places,
 * remembered as revoked (a WRITE USING TOKEN naming it gets TOKEN
 * REVOKED); one that a WRITE USING TOKEN holds sees the flag after its
 * next chunk read. */
static void revoke_locked(struct copy_token *t)
{
	atomic_store(&t->revoked, true);
	remove_locked(t, ASC_TOKEN_REVOKED);
}

void copy_token_note_write_slow(struct scst_device *dev, uint64_t lba, uint64_t nblocks,
				uint64_t claim)
{
	struct copy_token *t, *n;

	pthread_mutex_lock(&store_lock);
	list_for_each_entry_safe(t, n, &store, entry) {
		/* The claimant's own writes: it copies in an order that reads
		 * every block before writing it (copy_odx.c). */
		if (t->dev != dev || (claim && atomic_load(&t->claim) == claim))
			continue;
		for (unsigned i = 0; i < t->nranges; i++) {
			const struct copy_token_range *r = &t->ranges[i];

			if (nblocks == 0 || (lba < r->lba + r->nblocks && r->lba < lba + nblocks)) {
				revoke_locked(t);
				break;
			}
		}
	}
	pthread_mutex_unlock(&store_lock);
}

void copy_token_device_resized(struct scst_device *dev, uint64_t nblocks)
{
	struct copy_token *t, *n;
	unsigned revoked = 0;

	pthread_mutex_lock(&store_lock);
	list_for_each_entry_safe(t, n, &store, entry) {
		if (t->dev != dev)
			continue;
		for (unsigned i = 0; i < t->nranges; i++) {
			if (t->ranges[i].lba + t->ranges[i].nblocks > nblocks) {
				revoke_locked(t);
				revoked++;
				break;
			}
		}
	}
	pthread_mutex_unlock(&store_lock);
	if (revoked)
		log_info("device %s: %u ROD token(s) revoked: their blocks are beyond its new "
			 "end (%llu blocks)", dev->name, revoked, (unsigned long long)nblocks);
}

void scst_dev_revoke_rod_tokens(struct scst_device *dev, const char *why)
{
	struct copy_token *t, *n;
	unsigned revoked = 0;

	if (atomic_load(&dev->rod_tokens) == 0)
		return;
	pthread_mutex_lock(&store_lock);
	list_for_each_entry_safe(t, n, &store, entry) {
		if (t->dev == dev) {
			revoke_locked(t);
			revoked++;
		}
	}
	pthread_mutex_unlock(&store_lock);
	if (revoked)
		log_info("device %s: %u ROD token(s) revoked: %s", dev->name, revoked, why);
}
