/* Reactor threads: see reactor.h for the rules. */
#include "base/reactor.h"

#include <assert.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "base/buf_pool.h"
#include "base/log.h"

#define RING_ENTRIES 1024
#define EPOLL_BATCH 64

struct run_on_all;

struct reactor {
	unsigned index;
	/* Connections placed here: counted by reactor_pick(), moved by
	 * reactor_load_move(), dropped by reactor_load_drop(); any thread. */
	atomic_int load;
	pthread_t thread;
	struct io_uring ring;
	int epfd;
	/* The epoll set is polled through the ring; this op is its SQE's user
	 * data and re-arms a one-shot poll each time it fires. */
	struct reactor_op epoll_op;
	bool epoll_armed;
	/* Messages from other threads. */
	int eventfd;
	struct reactor_fd eventfd_watch;
	pthread_mutex_t post_lock;
	struct reactor_msg *post_head, *post_tail;
	/* This reactor's part in the reactor_run_on_all() under way (one at a
	 * time, run_on_all_lock): its message and the visit it belongs to. */
	struct reactor_msg visit_msg;
	struct run_on_all *visit;
	/* The 1-second tick. */
	int timerfd;
	struct reactor_fd timer_watch;
	struct list_head ticks;
	/* Work queued by reactor_defer() for the end of this batch. */
	struct list_head deferred;
	/* The epoll events being dispatched. A watch removed while they are
	 * (its owner closed it from an earlier event, a posted function or a
	 * tick) has its later entries cleared, so that nothing is dispatched
	 * to a watch that may already be freed. */
	struct epoll_event *batch;
	int batch_next, batch_len;
	/* The tick on_timer() calls next: a tick removed while the ticks run
	 * moves it on, for the same reason. */
	struct reactor_tick *tick_next;
	/* SQEs handed out whose CQE has not come back. */
	unsigned inflight;
	atomic_bool stopping;
};

static struct reactor *reactors;
static unsigned nreactors;
static atomic_uint next_pick;
static __thread struct reactor *current_reactor;

unsigned reactor_count(void)
{
	return nreactors;
}

struct reactor *reactor_by_index(unsigned i)
{
	return i < nreactors ? &reactors[i] : NULL;
}

unsigned reactor_index(const struct reactor *r)
{
	return r->index;
}

struct reactor *reactor_self(void)
{
	return current_reactor;
}

/* The least loaded reactor, so that connections that left (logged out, or
 * moved to their session's reactor) leave room that the next ones fill;
 * plain round-robin put every session on one reactor when an initiator
 * brought up two-connection sessions one after the other (the second
 * connection's turn was always the other reactor's, and it moved back).
 * The scan starts one reactor further each time, so ties go round-robin. */
struct reactor *reactor_pick(void)
{
	unsigned start = atomic_fetch_add(&next_pick, 1) % nreactors;
	struct reactor *best = &reactors[start];
	int best_load = atomic_load_explicit(&best->load, memory_order_relaxed);

	for (unsigned i = 1; i < nreactors; i++) {
		struct reactor *r = &reactors[(start + i) % nreactors];
		int load = atomic_load_explicit(&r->load, memory_order_relaxed);

		if (load < best_load) {
			best = r;
			best_load = load;
		}
	}
	return best;
}

/* Counted at once, not when the connection starts there: a burst of
 * accepts would otherwise all see the same counts and go to one reactor. */
struct reactor *reactor_place(void)
{
	struct reactor *r = reactor_pick();

	atomic_fetch_add_explicit(&r->load, 1, memory_order_relaxed);
	return r;
}

void reactor_load_move(struct reactor *from, struct reactor *to)
{
	atomic_fetch_sub_explicit(&from->load, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&to->load, 1, memory_order_relaxed);
}

void reactor_load_drop(struct reactor *r)
{
	atomic_fetch_sub_explicit(&r->load, 1, memory_order_relaxed);
}

int reactor_load(const struct reactor *r)
{
	return atomic_load_explicit(&r->load, memory_order_relaxed);
}

struct io_uring_sqe *reactor_get_sqe(struct reactor *r)
{
	struct io_uring_sqe *sqe;

	while (!(sqe = io_uring_get_sqe(&r->ring)))
		io_uring_submit(&r->ring);
	r->inflight++;
	return sqe;
}

static int watch_add(struct reactor *r, struct reactor_fd *w, int fd, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = w };

	w->fd = fd;
	w->reactor = r;
	return epoll_ctl(r->epfd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

int reactor_fd_add(struct reactor *r, struct reactor_fd *w, int fd, uint32_t events)
{
	assert(current_reactor == r);
	return watch_add(r, w, fd, events);
}

int reactor_fd_modify(struct reactor_fd *w, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = w };

	assert(w->reactor && current_reactor == w->reactor);
	return epoll_ctl(w->reactor->epfd, EPOLL_CTL_MOD, w->fd, &ev) ? -errno : 0;
}

void reactor_fd_remove(struct reactor_fd *w)
{
	struct reactor *r = w->reactor;

	if (!r)
		return;
	assert(current_reactor == r);
	epoll_ctl(r->epfd, EPOLL_CTL_DEL, w->fd, NULL);
	/* Events of this batch not yet dispatched must not reach it. */
	for (int i = r->batch_next; r->batch && i < r->batch_len; i++)
		if (r->batch[i].data.ptr == w)
			r->batch[i].data.ptr = NULL;
	w->reactor = NULL;
}

void reactor_defer(struct reactor *r, struct reactor_deferred *d)
{
	assert(current_reactor == r);
	if (d->queued)
		return;
	d->queued = true;
	list_add_tail(&d->entry, &r->deferred);
}

void reactor_deferred_cancel(struct reactor_deferred *d)
{
	assert(current_reactor);
	if (!d->queued)
		return;
	list_del(&d->entry);
	list_init(&d->entry);
	d->queued = false;
}

static void run_deferred(struct reactor *r)
{
	while (!list_empty(&r->deferred)) {
		struct reactor_deferred *d =
			list_first_entry(&r->deferred, struct reactor_deferred, entry);

		list_del(&d->entry);
		d->queued = false;
		d->fn(d);
	}
}

void reactor_tick_add(struct reactor *r, struct reactor_tick *t)
{
	assert(current_reactor == r);
	list_add_tail(&t->entry, &r->ticks);
}

void reactor_tick_remove(struct reactor_tick *t)
{
	struct reactor *r = current_reactor;

	assert(r);
	if (r->tick_next == t)
		r->tick_next = t->entry.next == &r->ticks
				       ? NULL
				       : list_entry(t->entry.next, struct reactor_tick, entry);
	list_del(&t->entry);
}

/* Makes @r's eventfd readable, so that a reactor asleep in the ring wakes
 * up. The counter saturating (EAGAIN) still leaves it readable. */
static void wake(struct reactor *r)
{
	uint64_t one = 1;

	if (write(r->eventfd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_error("reactor %u: eventfd write: %s", r->index, strerror(errno));
}

void reactor_send(struct reactor *r, struct reactor_msg *m, void (*fn)(struct reactor_msg *m))
{
	m->fn = fn;
	m->next = NULL;
	pthread_mutex_lock(&r->post_lock);
	if (r->post_tail)
		r->post_tail->next = m;
	else
		r->post_head = m;
	r->post_tail = m;
	pthread_mutex_unlock(&r->post_lock);
	wake(r);
}

static void run_posted(struct reactor *r)
{
	struct reactor_msg *m, *next;

	pthread_mutex_lock(&r->post_lock);
	m = r->post_head;
	r->post_head = r->post_tail = NULL;
	pthread_mutex_unlock(&r->post_lock);
	for (; m; m = next) {
		next = m->next;
		m->fn(m);
	}
}

static void on_eventfd(struct reactor_fd *w, uint32_t events)
{
	struct reactor *r = container_of(w, struct reactor, eventfd_watch);
	uint64_t n;

	if (read(r->eventfd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		log_error("reactor %u: eventfd read: %s", r->index, strerror(errno));
	run_posted(r);
}

static void on_timer(struct reactor_fd *w, uint32_t events)
{
	struct reactor *r = container_of(w, struct reactor, timer_watch);
	uint64_t n;

	if (read(r->timerfd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		return;
	if (list_empty(&r->ticks))
		return;
	/* A tick may remove itself or another tick (closing a connection);
	 * reactor_tick_remove() keeps tick_next valid. Ticks added now wait
	 * for the next second only if they land after the cursor. */
	r->tick_next = list_first_entry(&r->ticks, struct reactor_tick, entry);
	while (r->tick_next) {
		struct reactor_tick *t = r->tick_next;

		r->tick_next = t->entry.next == &r->ticks
				       ? NULL
				       : list_entry(t->entry.next, struct reactor_tick, entry);
		t->on_tick(t);
	}
}

/* One reactor_run_on_all(), on its caller's stack until every reactor has
 * run fn. */
struct run_on_all {
	void (*fn)(void *arg);
	void *arg;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned remaining;
};

/* Each reactor has one visit_msg, so visits take turns. */
static pthread_mutex_t run_on_all_lock = PTHREAD_MUTEX_INITIALIZER;

static void run_on_all_one(struct reactor_msg *m)
{
	struct reactor *r = container_of(m, struct reactor, visit_msg);
	struct run_on_all *ra = r->visit;

	assert(r == current_reactor && ra);
	r->visit = NULL;
	ra->fn(ra->arg);
	/* The last thing this reactor does with @ra: its caller may return
	 * (and ra go out of scope) as soon as the lock is released. */
	pthread_mutex_lock(&ra->lock);
	if (--ra->remaining == 0)
		pthread_cond_signal(&ra->cond);
	pthread_mutex_unlock(&ra->lock);
}

void reactor_run_on_all(void (*fn)(void *arg), void *arg)
{
	struct run_on_all ra = { .fn = fn, .arg = arg, .remaining = nreactors };

	assert(!current_reactor);
	pthread_mutex_lock(&run_on_all_lock);
	pthread_mutex_init(&ra.lock, NULL);
	pthread_cond_init(&ra.cond, NULL);
	for (unsigned i = 0; i < nreactors; i++) {
		assert(!reactors[i].visit);
		reactors[i].visit = &ra;
		reactor_send(&reactors[i], &reactors[i].visit_msg, run_on_all_one);
	}
	pthread_mutex_lock(&ra.lock);
	while (ra.remaining)
		pthread_cond_wait(&ra.cond, &ra.lock);
	pthread_mutex_unlock(&ra.lock);
	pthread_cond_destroy(&ra.cond);
	pthread_mutex_destroy(&ra.lock);
	pthread_mutex_unlock(&run_on_all_lock);
}

static void dispatch_epoll(struct reactor *r)
{
	struct epoll_event evs[EPOLL_BATCH];
	int n;

	do {
		n = epoll_wait(r->epfd, evs, EPOLL_BATCH, 0);
		r->batch = evs;
		r->batch_len = n < 0 ? 0 : n;
		for (r->batch_next = 0; r->batch_next < r->batch_len;) {
			struct epoll_event *ev = &evs[r->batch_next++];
			struct reactor_fd *w = ev->data.ptr;

			if (w)
				w->on_ready(w, ev->events);
		}
		r->batch = NULL;
		r->batch_len = r->batch_next = 0;
	} while (n == EPOLL_BATCH);
}

static void on_epoll_ready(struct reactor_op *op, int res)
{
	struct reactor *r = container_of(op, struct reactor, epoll_op);

	r->epoll_armed = false;
	dispatch_epoll(r);
}

static void arm_epoll(struct reactor *r)
{
	struct io_uring_sqe *sqe;

	if (r->epoll_armed)
		return;
	/* A one-shot poll checks readiness when it is armed, so a level that
	 * stays high after dispatch (a socket with more to read) fires again
	 * at once: level-triggered semantics without multishot's edge. */
	sqe = reactor_get_sqe(r);
	io_uring_prep_poll_add(sqe, r->epfd, POLLIN);
	io_uring_sqe_set_data(sqe, &r->epoll_op);
	r->epoll_armed = true;
}

static void reap_completions(struct reactor *r)
{
	struct io_uring_cqe *cqe;
	unsigned head, n = 0;
	/* Completion callbacks may queue new SQEs and so reenter the ring; copy
	 * the CQEs out first. */
	struct {
		struct reactor_op *op;
		int res;
	} done[256];

	io_uring_for_each_cqe(&r->ring, head, cqe) {
		done[n].op = io_uring_cqe_get_data(cqe);
		done[n].res = cqe->res;
		if (++n == 256)
			break;
	}
	io_uring_cq_advance(&r->ring, n);
	r->inflight -= n;
	for (unsigned i = 0; i < n; i++)
		done[i].op->done(done[i].op, done[i].res);
	run_deferred(r);
}

static void *reactor_main(void *arg)
{
	struct reactor *r = arg;

	current_reactor = r;
	for (;;) {
		if (atomic_load(&r->stopping) && r->inflight <= (r->epoll_armed ? 1u : 0u))
			break;
		arm_epoll(r);
		int ret = io_uring_submit_and_wait(&r->ring, 1);

		if (ret < 0 && ret != -EINTR && ret != -EAGAIN && ret != -EBUSY) {
			log_error("reactor %u: io_uring_submit_and_wait: %s", r->index, strerror(-ret));
			break;
		}
		reap_completions(r);
	}
	run_posted(r);
	run_deferred(r);
	buf_pool_drain();
	return NULL;
}

static int reactor_init(struct reactor *r, unsigned index)
{
	struct itimerspec one_second = { .it_interval = { 1, 0 }, .it_value = { 1, 0 } };
	int ret;

	memset(r, 0, sizeof(*r));
	r->index = index;
	list_init(&r->ticks);
	list_init(&r->deferred);
	pthread_mutex_init(&r->post_lock, NULL);
	r->epoll_op.done = on_epoll_ready;
	ret = io_uring_queue_init(RING_ENTRIES, &r->ring, 0);
	if (ret < 0)
		return ret;
	r->epfd = epoll_create1(EPOLL_CLOEXEC);
	r->eventfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	r->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (r->epfd < 0 || r->eventfd < 0 || r->timerfd < 0)
		return -errno;
	timerfd_settime(r->timerfd, 0, &one_second, NULL);
	r->eventfd_watch.on_ready = on_eventfd;
	r->timer_watch.on_ready = on_timer;
	/* Before the thread runs: nothing else can touch the set yet. */
	if ((ret = watch_add(r, &r->eventfd_watch, r->eventfd, EPOLLIN)) ||
	    (ret = watch_add(r, &r->timer_watch, r->timerfd, EPOLLIN)))
		return ret;
	return 0;
}

int reactors_start(unsigned n)
{
	int ret;

	if (n == 0)
		return -EINVAL;
	reactors = calloc(n, sizeof(*reactors));
	if (!reactors)
		return -ENOMEM;
	nreactors = n;
	for (unsigned i = 0; i < n; i++) {
		ret = reactor_init(&reactors[i], i);
		if (ret) {
			log_error("reactor %u: init: %s", i, strerror(-ret));
			return ret;
		}
	}
	for (unsigned i = 0; i < n; i++) {
		ret = pthread_create(&reactors[i].thread, NULL, reactor_main, &reactors[i]);
		if (ret)
			return -ret;
	}
	return 0;
}

void reactors_stop(void)
{
	/* A reactor asleep in the ring notices stopping once woken; one busy
	 * with completions sees it at the top of its loop. */
	for (unsigned i = 0; i < nreactors; i++) {
		atomic_store(&reactors[i].stopping, true);
		wake(&reactors[i]);
	}
	for (unsigned i = 0; i < nreactors; i++) {
		struct reactor *r = &reactors[i];

		pthread_join(r->thread, NULL);
		io_uring_queue_exit(&r->ring);
		close(r->epfd);
		close(r->eventfd);
		close(r->timerfd);
		pthread_mutex_destroy(&r->post_lock);
	}
	free(reactors);
	reactors = NULL;
	nreactors = 0;
}
