/* copy_token.c alone: the ROD token store (copy_token.h). Which writes
 * revoke a token and which do not, that a revoked one leaves the store
 * (and is remembered so), revocation by a capacity change and an eject,
 * lookup by all 512 bytes, the token's own bytes, expiry and deletion
 * remembered, the per-device limit, a device's tokens going with it, and
 * a WRITE USING TOKEN's claim of its own token. The device reference is
 * stubbed: a counter. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "base/bytes.h"
#include "core/copy_token.h"

static int dev_refs;

void scst_device_get(struct scst_device *dev)
{
	(void)dev;
	dev_refs++;
}

void scst_device_put(struct scst_device *dev)
{
	(void)dev;
	dev_refs--;
}

static struct scst_device dev_a, dev_b;

static int setup(void **state)
{
	(void)state;
	dev_a.name = "a";
	dev_b.name = "b";
	dev_a.naa_id = 0x6001405123456789ull;
	dev_a.block_size = 512;
	dev_b.naa_id = 0x600140500000000bull;
	dev_b.block_size = 512;
	return 0;
}

static struct copy_token *make(struct scst_device *dev, uint32_t timeout)
{
	static const struct copy_token_range r[] = { { 10, 5 }, { 100, 1 } };
	bool too_many;
	struct copy_token *t = copy_token_create(dev, r, 2, timeout, &too_many);

	assert_non_null(t);
	assert_false(too_many);
	return t;
}

/* Whether @t is out of the store, remembered as revoked (the caller
 * holds a reference: @t's memory is still there). */
static void assert_revoked(struct copy_token *t)
{
	uint16_t why;

	assert_true(atomic_load(&t->revoked));
	assert_null(copy_token_get(t->bytes, &why));
	assert_int_equal(why, ASC_TOKEN_REVOKED);
}

/* The store's reference and one of our own, as a WRITE USING TOKEN
 * holds one: a revoked token leaves the store, ours keeps the memory. */
static struct copy_token *make_held(struct scst_device *dev, uint32_t timeout)
{
	struct copy_token *t = make(dev, timeout);
	uint16_t why;

	assert_ptr_equal(copy_token_get(t->bytes, &why), t);
	return t;
}

static void test_revocation(void **state)
{
	struct copy_token *t;

	(void)state;
	assert_int_equal(atomic_load(&copy_tokens_live), 0);
	t = make_held(&dev_a, 30);
	assert_int_equal(atomic_load(&copy_tokens_live), 1);
	assert_int_equal(atomic_load(&dev_a.rod_tokens), 1);
	assert_int_equal(atomic_load(&dev_b.rod_tokens), 0);
	assert_int_equal(dev_refs, 1);
	/* Next to the ranges, on either side; another device. */
	copy_token_note_write(&dev_a, 0, 10, 0);
	copy_token_note_write(&dev_a, 15, 85, 0);
	copy_token_note_write(&dev_a, 101, 1000, 0);
	copy_token_note_write(&dev_b, 0, 1000, 0);
	assert_false(atomic_load(&t->revoked));
	/* The last block of the first range: out of the store at once (its
	 * place free), the device's count back to 0 (the write path's fast
	 * test), the memory and the device reference ours until put. */
	copy_token_note_write(&dev_a, 14, 1, 0);
	assert_revoked(t);
	assert_int_equal(atomic_load(&copy_tokens_live), 0);
	assert_int_equal(atomic_load(&dev_a.rod_tokens), 0);
	assert_int_equal(dev_refs, 1);
	copy_token_put(t);
	assert_int_equal(dev_refs, 0);

	/* A write spanning a range whole; a write with no range (UNMAP,
	 * FORMAT UNIT) revokes everything of the device. */
	t = make_held(&dev_a, 30);
	copy_token_note_write(&dev_a, 99, 3, 0);
	assert_revoked(t);
	copy_token_put(t);
	t = make_held(&dev_a, 30);
	copy_token_note_write(&dev_a, 5000, 0, 0);
	assert_revoked(t);
	copy_token_put(t);
	assert_int_equal(atomic_load(&copy_tokens_live), 0);
	assert_int_equal(dev_refs, 0);
}

/* A capacity change revokes the tokens with a block at or past the new
 * end only; an eject (scst_dev_revoke_rod_tokens()) all of the device's. */
static void test_resize_and_eject(void **state)
{
	struct copy_token *t, *u, *other;

	(void)state;
	t = make_held(&dev_a, 30);  /* blocks 10-14 and 100 */
	other = make_held(&dev_b, 30);
	copy_token_device_resized(&dev_a, 101); /* 100 is the last block */
	assert_false(atomic_load(&t->revoked));
	copy_token_device_resized(&dev_a, 1000); /* grown */
	assert_false(atomic_load(&t->revoked));
	copy_token_device_resized(&dev_a, 100);
	assert_revoked(t);
	assert_false(atomic_load(&other->revoked));
	copy_token_put(t);

	t = make_held(&dev_a, 30);
	u = make_held(&dev_a, 30);
	scst_dev_revoke_rod_tokens(&dev_a, "a test");
	assert_revoked(t);
	assert_revoked(u);
	assert_false(atomic_load(&other->revoked));
	assert_int_equal(atomic_load(&dev_a.rod_tokens), 0);
	assert_int_equal(atomic_load(&dev_b.rod_tokens), 1);
	copy_token_put(t);
	copy_token_put(u);
	copy_token_put(other);
	copy_token_forget_device(&dev_b);
	assert_int_equal(atomic_load(&copy_tokens_live), 0);
	assert_int_equal(dev_refs, 0);
}

static void test_bytes_and_lookup(void **state)
{
	struct copy_token *t, *u, *g;
	uint8_t b[COPY_TOKEN_LEN];
	uint16_t why;

	(void)state;
	t = make(&dev_a, 30);
	u = make(&dev_a, 30);
	assert_int_equal(get_be32(t->bytes), COPY_ROD_TYPE_PIT_CHANGE_VULNERABLE);
	assert_int_equal(get_be16(t->bytes + 6), 0x1f8);
	assert_int_equal(t->bytes[16], 0xe4);
	assert_true(get_be64(t->bytes + 24) == dev_a.naa_id);
	assert_true(get_be64(t->bytes + 56) == 6 * 512);
	/* Two tokens of the same ranges differ (identifier, random part). */
	assert_memory_not_equal(t->bytes + 128, u->bytes + 128, COPY_TOKEN_LEN - 128);
	g = copy_token_get(t->bytes, &why);
	assert_ptr_equal(g, t);
	copy_token_put(g);
	memcpy(b, t->bytes, sizeof(b));
	b[511] ^= 1;
	assert_null(copy_token_get(b, &why));
	assert_int_equal(why, ASC_TOKEN_UNKNOWN);
	/* Deleted: gone, and remembered as deleted; a reference taken
	 * before keeps the memory (and the device) until it is put. */
	g = copy_token_get(u->bytes, &why);
	copy_token_delete(u);
	assert_int_equal(dev_refs, 2);
	memcpy(b, g->bytes, sizeof(b));
	copy_token_put(g);
	assert_int_equal(dev_refs, 1);
	assert_null(copy_token_get(b, &why));
	assert_int_equal(why, ASC_TOKEN_DELETED);
	copy_token_forget_device(&dev_a);
	assert_int_equal(dev_refs, 0);
}

static void test_expiry(void **state)
{
	struct timespec ts = { 1, 100000000 };
	struct copy_token *t;
	uint8_t b[COPY_TOKEN_LEN];
	uint16_t why;

	(void)state;
	t = make(&dev_a, 1);
	memcpy(b, t->bytes, sizeof(b));
	nanosleep(&ts, NULL);
	assert_null(copy_token_get(b, &why));
	assert_int_equal(why, ASC_TOKEN_EXPIRED);
	assert_int_equal(atomic_load(&copy_tokens_live), 0);
	assert_int_equal(dev_refs, 0);
}

static void test_limit(void **state)
{
	static const struct copy_token_range r[] = { { 0, 1 } };
	bool too_many;

	(void)state;
	for (unsigned i = 0; i < COPY_TOKEN_MAX_PER_DEVICE; i++)
		assert_non_null(copy_token_create(&dev_a, r, 1, 30, &too_many));
	assert_null(copy_token_create(&dev_a, r, 1, 30, &too_many));
	assert_true(too_many);
	/* A revoked token leaves its place: one more may be made. */
	copy_token_note_write(&dev_a, 0, 1, 0);
	assert_int_equal(atomic_load(&dev_a.rod_tokens), 0);
	for (unsigned i = 0; i < COPY_TOKEN_MAX_PER_DEVICE; i++)
		assert_non_null(copy_token_create(&dev_a, r, 1, 30, &too_many));
	assert_null(copy_token_create(&dev_a, r, 1, 30, &too_many));
	/* Another device has its own count. */
	assert_non_null(copy_token_create(&dev_b, r, 1, 30, &too_many));
	copy_token_forget_device(&dev_a);
	copy_token_forget_device(&dev_b);
	assert_int_equal(atomic_load(&copy_tokens_live), 0);
	assert_int_equal(atomic_load(&dev_a.rod_tokens), 0);
	assert_int_equal(atomic_load(&dev_b.rod_tokens), 0);
	assert_int_equal(dev_refs, 0);
}

/* A claim (a WRITE USING TOKEN onto the token's own blocks): its own
 * writes spare the token, everybody else's revoke it; meanwhile the
 * token stands for nobody else (lookup says TOKEN REVOKED, a second
 * claim fails, a holder without the claim sees it fall); the claim's end
 * revokes it. */
static void test_claim(void **state)
{
	struct copy_token *t;
	uint64_t claim;
	uint16_t why;

	(void)state;
	t = make_held(&dev_a, 30);
	assert_true(copy_token_stands(t, 0));
	claim = copy_token_claim(t);
	assert_int_not_equal(claim, 0);
	assert_int_equal(copy_token_claim(t), 0);
	assert_true(copy_token_stands(t, claim));
	assert_false(copy_token_stands(t, 0));
	assert_false(copy_token_stands(t, claim + 1));
	assert_null(copy_token_get(t->bytes, &why));
	assert_int_equal(why, ASC_TOKEN_REVOKED);
	/* Its own writes into the ranges: still there, still its. */
	copy_token_note_write(&dev_a, 10, 5, claim);
	copy_token_note_write(&dev_a, 5000, 0, claim);
	assert_false(atomic_load(&t->revoked));
	assert_int_equal(atomic_load(&dev_a.rod_tokens), 1);
	assert_true(copy_token_stands(t, claim));
	copy_token_claim_end(t, claim);
	assert_revoked(t);
	assert_false(copy_token_stands(t, claim));
	copy_token_put(t);

	/* Another's write revokes a claimed token; a revoked one cannot be
	 * claimed. */
	t = make_held(&dev_a, 30);
	claim = copy_token_claim(t);
	copy_token_note_write(&dev_a, 100, 1, claim + 1);
	assert_revoked(t);
	assert_false(copy_token_stands(t, claim));
	copy_token_claim_end(t, claim);
	copy_token_put(t);
	t = make_held(&dev_a, 30);
	copy_token_note_write(&dev_a, 100, 1, 0);
	assert_int_equal(copy_token_claim(t), 0);
	copy_token_put(t);
	assert_int_equal(atomic_load(&copy_tokens_live), 0);
	assert_int_equal(dev_refs, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_revocation),
		cmocka_unit_test(test_resize_and_eject),
		cmocka_unit_test(test_bytes_and_lookup),
		cmocka_unit_test(test_expiry),
		cmocka_unit_test(test_limit),
		cmocka_unit_test(test_claim),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
