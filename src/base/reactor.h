/* Reactors: the threads everything runs on.
 *
 * Each reactor is one thread that owns one io_uring (backing-store I/O and
 * other asynchronous operations) and one epoll set (socket readiness, posted
 * messages, a 1-second tick). The epoll fd is itself polled through the ring,
 * so a reactor blocks in exactly one place: io_uring_submit_and_wait().
 *
 * Rules every user follows:
 *  - an object that lives on a reactor (a connection, its session, its
 *    commands) is touched only from that reactor's thread;
 *  - to act on another reactor's object, reactor_send() it a message
 *    whose node lives in the object concerned (so sending cannot fail);
 *  - callbacks never block: no sleeping, no blocking I/O, no lock held
 *    across an operation that waits.
 */
#ifndef USCST_BASE_REACTOR_H
#define USCST_BASE_REACTOR_H

#include <liburing.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/list.h"

struct reactor;

/* An asynchronous operation on a reactor's io_uring. Embed it in the object
 * the operation is for, fill an SQE from reactor_get_sqe() and pass the op
 * to io_uring_sqe_set_data(). @done runs on the same reactor with the CQE's
 * result (bytes transferred or -errno). */
struct reactor_op {
	void (*done)(struct reactor_op *op, int res);
};

/* A file descriptor watched for readiness, level-triggered (epoll). */
struct reactor_fd {
	int fd;
	struct reactor *reactor;
	/* Runs on the reactor with the EPOLL* bits that are ready. */
	void (*on_ready)(struct reactor_fd *w, uint32_t events);
};

/* Something to be called once a second on a reactor (timeouts, NOP-In). */
struct reactor_tick {
	struct list_head entry;
	void (*on_tick)(struct reactor_tick *t);
};

/* Work to do once the events and completions being handled now are done,
 * before the reactor waits again: lets a connection send the responses of
 * many commands with one system call without delaying any of them. */
struct reactor_deferred {
	struct list_head entry;
	void (*fn)(struct reactor_deferred *d);
	bool queued;
};

/* Starts @n reactor threads (n >= 1). Returns 0 or -errno. */
int reactors_start(unsigned n);
/* Asks every reactor to finish: runs the messages already sent, waits for
 * its in-flight ring operations, then exits; joins the threads. */
void reactors_stop(void);

unsigned reactor_count(void);
struct reactor *reactor_by_index(unsigned i);
unsigned reactor_index(const struct reactor *r);
/* The reactor the calling thread is, or NULL on a non-reactor thread. */
struct reactor *reactor_self(void);
/* The reactor with the fewest connections placed on it, ties taken in
 * turn: where to put new work that should spread. */
struct reactor *reactor_pick(void);
/* Where a new connection goes: reactor_pick(), and the connection counted
 * there. Its owner tells the count when it moves (reactor_load_move()) and
 * when it closes (reactor_load_drop()). A connection started without
 * reactor_place() (the fuzz harness's) makes its reactor's count go below
 * the others', which only the differences matter for. docs/scale.md. */
struct reactor *reactor_place(void);
void reactor_load_move(struct reactor *from, struct reactor *to);
void reactor_load_drop(struct reactor *r);
/* The count, for the state dump. */
int reactor_load(const struct reactor *r);

/* A message to a reactor that cannot fail to be sent: the node lives in
 * the object it is about (SPDK-style embedded message), so sending needs
 * no allocation. Until fn has started, the node belongs to the reactor
 * queue: the sender must not send it again or free it. */
struct reactor_msg {
	struct reactor_msg *next;
	void (*fn)(struct reactor_msg *m);
};

/* Runs fn(m) on @r's thread, soon, in the order sent. Callable from any
 * thread, including @r itself (then fn runs on a later loop iteration,
 * never re-entrantly). fn finds its object with container_of(). */
void reactor_send(struct reactor *r, struct reactor_msg *m, void (*fn)(struct reactor_msg *m));

/* Calls fn(arg) once on every reactor and returns after all have run it.
 * Must not be called from a reactor thread. Calls from several threads take
 * turns (each reactor has one message node for it). */
void reactor_run_on_all(void (*fn)(void *arg), void *arg);

/* An SQE on @r's ring; never NULL (submits pending SQEs if the ring is full).
 * Caller must be on @r's thread. The reactor counts in-flight operations, so
 * every SQE obtained here must carry a struct reactor_op as its user data. */
struct io_uring_sqe *reactor_get_sqe(struct reactor *r);

/* Readiness watches; caller on @r's thread. events are EPOLLIN/EPOLLOUT.
 * Once reactor_fd_remove() returns, the watch gets no further call, not
 * even for an event of the batch being dispatched, so its owner may free
 * it at once (from any callback of that reactor). */
int reactor_fd_add(struct reactor *r, struct reactor_fd *w, int fd, uint32_t events);
int reactor_fd_modify(struct reactor_fd *w, uint32_t events);
void reactor_fd_remove(struct reactor_fd *w);

/* Runs d->fn(d) once on @r after the current batch (a @d already queued
 * stays queued once); caller on @r's thread. @d must stay valid until its
 * fn has run. */
void reactor_defer(struct reactor *r, struct reactor_deferred *d);
/* Takes @d off its reactor's queue if it is queued (its owner is going
 * away); on the reactor it was deferred on. */
void reactor_deferred_cancel(struct reactor_deferred *d);

/* Once-a-second callbacks; caller on @r's thread. A tick may remove
 * itself or another tick from its callback; a removed tick is not called
 * again, and may be freed at once. */
void reactor_tick_add(struct reactor *r, struct reactor_tick *t);
void reactor_tick_remove(struct reactor_tick *t);

#endif
