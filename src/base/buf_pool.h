/* Data buffers for commands: 4 KiB aligned (O_DIRECT), recycled per
 * thread. A command's buffer is allocated and freed on its reactor, so
 * each thread keeps its own free lists and no lock is taken. Without
 * recycling, every large buffer is a fresh mapping the kernel must fault
 * in page by page and tear down again. */
#ifndef USCST_BASE_BUF_POOL_H
#define USCST_BASE_BUF_POOL_H

#include <stddef.h>

#define BUF_POOL_ALIGN 4096

/* A buffer of at least @len bytes (len > 0); *cap receives its real size,
 * to be passed back to buf_pool_free(). NULL when out of memory. */
void *buf_pool_alloc(size_t len, size_t *cap);
void buf_pool_free(void *buf, size_t cap);

/* Frees what the calling thread keeps cached (at thread exit). */
void buf_pool_drain(void);

#endif
