/* Intrusive doubly linked list: an object embeds a struct list_head and can
 * sit on a list without a separate allocation. Not thread-safe: the owner of
 * the list holds whatever lock protects it. */
#ifndef USCST_BASE_LIST_H
#define USCST_BASE_LIST_H

#include <stdbool.h>
#include <stddef.h>

struct list_head {
	struct list_head *next, *prev;
};

#define LIST_HEAD_INIT(name) { &(name), &(name) }

#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

static inline void list_init(struct list_head *h)
{
	h->next = h;
	h->prev = h;
}

static inline bool list_empty(const struct list_head *h)
{
	return h->next == h;
}

static inline void list_insert_between(struct list_head *n, struct list_head *prev,
				       struct list_head *next)
{
	next->prev = n;
	n->next = next;
	n->prev = prev;
	prev->next = n;
}

static inline void list_add_tail(struct list_head *n, struct list_head *h)
{
	list_insert_between(n, h->prev, h);
}

static inline void list_add_head(struct list_head *n, struct list_head *h)
{
	list_insert_between(n, h, h->next);
}

/* Unlinks @n and leaves it pointing at itself, so a second list_del() and a
 * list_empty() on the entry are both safe. */
static inline void list_del(struct list_head *n)
{
	n->next->prev = n->prev;
	n->prev->next = n->next;
	list_init(n);
}

#define list_entry(ptr, type, member) container_of(ptr, type, member)
#define list_first_entry(h, type, member) list_entry((h)->next, type, member)

#define list_for_each_entry(pos, h, member)                                   \
	for (pos = list_entry((h)->next, __typeof__(*pos), member);           \
	     &pos->member != (h);                                             \
	     pos = list_entry(pos->member.next, __typeof__(*pos), member))

#define list_for_each_entry_safe(pos, tmp, h, member)                         \
	for (pos = list_entry((h)->next, __typeof__(*pos), member),           \
	     tmp = list_entry(pos->member.next, __typeof__(*pos), member);    \
	     &pos->member != (h);                                             \
	     pos = tmp, tmp = list_entry(tmp->member.next, __typeof__(*tmp), member))

#endif
