#include "base/buf_pool.h"

#include <stdbool.h>
#include <stdlib.h>

/* Size classes are powers of two from 4 KiB to 16 MiB; larger buffers are
 * rare (the largest transfer a handler accepts is a few MiB) and go
 * straight to the allocator. */
#define MIN_SHIFT 12
#define MAX_SHIFT 24
#define NCLASSES (MAX_SHIFT - MIN_SHIFT + 1)
#define MAX_CACHED_PER_CLASS 16
#define MAX_CACHED_BYTES (16u << 20)

struct buf_cache {
	void *free[NCLASSES][MAX_CACHED_PER_CLASS];
	unsigned nfree[NCLASSES];
	size_t bytes;
};

static __thread struct buf_cache cache;

static int size_class(size_t len)
{
	int c = 0;

	while (((size_t)1 << (MIN_SHIFT + c)) < len)
		c++;
	return c;
}

void *buf_pool_alloc(size_t len, size_t *cap)
{
	int c = size_class(len);
	void *buf;

	if (c < NCLASSES) {
		*cap = (size_t)1 << (MIN_SHIFT + c);
		if (cache.nfree[c]) {
			cache.bytes -= *cap;
			return cache.free[c][--cache.nfree[c]];
		}
	} else {
		*cap = (len + BUF_POOL_ALIGN - 1) & ~(size_t)(BUF_POOL_ALIGN - 1);
	}
	if (posix_memalign(&buf, BUF_POOL_ALIGN, *cap))
		return NULL;
	return buf;
}

void buf_pool_free(void *buf, size_t cap)
{
	int c;

	if (!buf)
		return;
	c = size_class(cap);
	if (c < NCLASSES && ((size_t)1 << (MIN_SHIFT + c)) == cap &&
	    cache.nfree[c] < MAX_CACHED_PER_CLASS && cache.bytes + cap <= MAX_CACHED_BYTES) {
		cache.free[c][cache.nfree[c]++] = buf;
		cache.bytes += cap;
		return;
	}
	free(buf);
}

void buf_pool_drain(void)
{
	for (int c = 0; c < NCLASSES; c++) {
		while (cache.nfree[c])
			free(cache.free[c][--cache.nfree[c]]);
	}
	cache.bytes = 0;
}
