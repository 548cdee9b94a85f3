/*
 * fdpark over io_uring, by its system calls: three of them and a handful
 * of operations, not worth a library (Debian 12's liburing predates the
 * one operation this needs most).
 *
 * Each ring's submission queue is used by this thread alone and drained
 * by every io_uring_enter, so it never fills; completions are reaped by
 * this thread alone, on the loop (the ring's descriptor is readable when
 * some are waiting) or while an unpark waits for its own.
 */
#include "lib/fdpark.h"
#include "lib/arena.h"

#include <errno.h>
#include <linux/io_uring.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Linux 6.8; newer than Debian 12's kernel headers. */
#define OP_FIXED_FD_INSTALL 54

#define RING_SQ 16
#define RING_CQ 4096
/* The kernel's own ceiling on a fixed-file table (IORING_MAX_FIXED_FILES). */
#define TABLE_MAX (1u << 20)
#define RETRY_MS 20

/* user_data of operations whose completion says nothing to us. */
#define TAG_IGNORE UINT64_MAX
#define TAG_INSTALL (UINT64_MAX - 1)

struct slot {
	fdpark_wake_fn *wake;
	void *arg;
	uint32_t gen;      /* tells a stale poll completion from a live one */
	bool used;
	bool armed;        /* its poll is waiting */
	bool queued;       /* in the wake queue */
	bool wanted;       /* its owner is to be woken: a poll fired, or a kick */
};

struct ring {
	int fd;
	void *map, *sqe_map;
	size_t map_len, sqe_len;
	unsigned *sq_tail, *sq_mask, *sq_array, *sq_flags;
	unsigned *cq_head, *cq_tail, *cq_mask;
	struct io_uring_sqe *sqes;
	struct io_uring_cqe *cqes;
	unsigned queued;          /* written, not yet submitted */
	struct ev_io io;
	struct fdpark *park;
	struct slot *slots;       /* park->per_ring of them */
	uint32_t *free_slots;     /* a stack of slots freed since */
	uint32_t nfree;
	uint32_t fresh;           /* slots from here on were never used */
};

struct fdpark {
	struct ev_loop *loop;
	uint32_t per_ring;
	struct ring **rings;
	uint32_t nrings;
	size_t count;
	/* Slots whose owner is to be woken: polls that fired, kicks, and
	 * wakes whose owner found no descriptor free. */
	uint32_t *wakeq;
	size_t nwake, wake_cap;
	struct ev_timer retry;
	struct ev_defer dispatch;
};

static int uring_setup(unsigned entries, struct io_uring_params *p)
{
	return (int)syscall(__NR_io_uring_setup, entries, p);
}

static int uring_enter(int fd, unsigned submit, unsigned min_complete, unsigned flags)
{
	return (int)syscall(__NR_io_uring_enter, fd, submit, min_complete, flags, NULL, 0);
}

static int uring_register(int fd, unsigned op, void *arg, unsigned n)
{
	return (int)syscall(__NR_io_uring_register, fd, op, arg, n);
}

static uint64_t slot_tag(uint32_t slot, uint32_t gen)
{
	return (uint64_t)gen << 32 | slot;
}

static struct slot *slot_of(struct fdpark *p, uint32_t slot, struct ring **r_out,
                            uint32_t *local_out)
{
	uint32_t ri = slot / p->per_ring;
	if (ri >= p->nrings)
		return NULL;
	*r_out = p->rings[ri];
	*local_out = slot % p->per_ring;
	return &p->rings[ri]->slots[*local_out];
}

/* --- submission and completion --- */

static struct io_uring_sqe *sqe_get(struct ring *r)
{
	unsigned tail = *r->sq_tail;
	unsigned idx = tail & *r->sq_mask;
	struct io_uring_sqe *q = &r->sqes[idx];
	memset(q, 0, sizeof(*q));
	r->sq_array[idx] = idx;
	__atomic_store_n(r->sq_tail, tail + 1, __ATOMIC_RELEASE);
	r->queued++;
	return q;
}

/* Submit what is queued; wait for min_complete completions. */
static int submit(struct ring *r, unsigned min_complete)
{
	unsigned flags = min_complete > 0 ? IORING_ENTER_GETEVENTS : 0;
	for (;;) {
		int n = uring_enter(r->fd, r->queued, min_complete, flags);
		if (n >= 0) {
			r->queued -= (unsigned)n < r->queued ? (unsigned)n : r->queued;
			if (r->queued == 0)
				return 0;
			continue;
		}
		if (errno != EINTR)
			return -1;
	}
}

static void wake_queue(struct fdpark *p, uint32_t slot, struct slot *s)
{
	if (s->queued)
		return;
	if (p->nwake == p->wake_cap) {
		p->wake_cap = p->wake_cap ? p->wake_cap * 2 : 64;
		p->wakeq = xrealloc(p->wakeq, p->wake_cap * sizeof(*p->wakeq));
	}
	p->wakeq[p->nwake++] = slot;
	s->queued = true;
	ev_defer(p->loop, &p->dispatch);
}

static void completed(struct ring *r, uint64_t tag)
{
	struct fdpark *p = r->park;
	uint32_t slot = (uint32_t)tag, local;
	struct ring *rr;
	struct slot *s = slot_of(p, slot, &rr, &local);
	if (s == NULL || rr != r || !s->used || s->gen != (uint32_t)(tag >> 32) || !s->armed)
		return;  /* a poll cancelled by an unpark or a drop */
	s->armed = false;
	s->wanted = true;
	wake_queue(p, slot, s);
}

/* Take every completion waiting; *install gets the result of an install
 * among them. */
static void reap(struct ring *r, int64_t *install)
{
	for (;;) {
		unsigned head = *r->cq_head;
		unsigned tail = __atomic_load_n(r->cq_tail, __ATOMIC_ACQUIRE);
		for (; head != tail; head++) {
			const struct io_uring_cqe *e = &r->cqes[head & *r->cq_mask];
			if (e->user_data == TAG_INSTALL) {
				if (install != NULL)
					*install = e->res;
			} else if (e->user_data != TAG_IGNORE) {
				completed(r, e->user_data);
			}
		}
		__atomic_store_n(r->cq_head, head, __ATOMIC_RELEASE);
		/* Completions that found the queue full wait in the kernel
		 * (IORING_FEAT_NODROP) until asked for. */
		if (!(__atomic_load_n(r->sq_flags, __ATOMIC_ACQUIRE) & IORING_SQ_CQ_OVERFLOW))
			return;
		if (uring_enter(r->fd, 0, 0, IORING_ENTER_GETEVENTS) < 0 && errno != EINTR)
			return;
	}
}

static void ring_readable(struct ev_loop *loop, struct ev_io *io, unsigned revents)
{
	(void)loop;
	(void)revents;
	reap(io->data, NULL);
}

/* Wake the owners queued. One whose slot is still parked after its wake
 * found no descriptor: it, and those after it (each failed try is a
 * system call, and 100,000 clients may hang up at once), are woken
 * again later. */
static void dispatch(struct ev_loop *loop, struct ev_defer *d)
{
	(void)loop;
	struct fdpark *p = d->data;
	size_t n = p->nwake;
	uint32_t *q = p->wakeq;
	p->wakeq = NULL;
	p->nwake = p->wake_cap = 0;
	size_t again = 0;
	bool starved = false;   /* a wake found no descriptor: the rest wait */
	for (size_t i = 0; i < n; i++) {
		struct ring *r;
		uint32_t local;
		struct slot *s = slot_of(p, q[i], &r, &local);
		s->queued = false;
		if (!s->used)
			continue;
		uint32_t gen = s->gen;
		if (!starved)
			s->wake(s->arg);
		if (s->used && s->gen == gen && s->wanted && !s->queued) {
			s->queued = true;   /* kept in q for the retry below */
			q[again++] = q[i];
			starved = true;
		}
	}
	if (again == 0) {
		free(q);
		return;
	}
	/* Wakes queued meanwhile go after the ones left over. */
	size_t total = again + p->nwake;
	uint32_t *all = xmalloc(total * sizeof(*all));
	memcpy(all, q, again * sizeof(*all));
	if (p->nwake > 0)
		memcpy(all + again, p->wakeq, p->nwake * sizeof(*all));
	free(q);
	free(p->wakeq);
	p->wakeq = all;
	p->nwake = p->wake_cap = total;
	/* Not again in this loop pass: the retry timer comes back to them. */
	ev_defer_cancel(p->loop, &p->dispatch);
	if (!ev_timer_active(&p->retry))
		ev_timer_start(p->loop, &p->retry, RETRY_MS);
}

static void retry_cb(struct ev_loop *loop, struct ev_timer *t)
{
	struct fdpark *p = t->data;
	dispatch(loop, &p->dispatch);
}

/* --- rings --- */

static void ring_free(struct fdpark *p, struct ring *r)
{
	if (r == NULL)
		return;
	if (r->io.events != 0)
		ev_io_stop(p->loop, &r->io);
	if (r->sqe_map != NULL && r->sqe_map != MAP_FAILED)
		munmap(r->sqe_map, r->sqe_len);
	if (r->map != NULL && r->map != MAP_FAILED)
		munmap(r->map, r->map_len);
	if (r->fd >= 0)
		close(r->fd);   /* cancels its polls, closes its sockets */
	free(r->slots);
	free(r->free_slots);
	free(r);
}

static bool install_supported(int ring_fd)
{
	size_t len = sizeof(struct io_uring_probe) + 256 * sizeof(struct io_uring_probe_op);
	struct io_uring_probe *pr = xcalloc(1, len);
	bool ok = uring_register(ring_fd, IORING_REGISTER_PROBE, pr, 256) == 0 &&
	          pr->last_op >= OP_FIXED_FD_INSTALL &&
	          (pr->ops[OP_FIXED_FD_INSTALL].flags & IO_URING_OP_SUPPORTED) &&
	          (pr->ops[IORING_OP_FILES_UPDATE].flags & IO_URING_OP_SUPPORTED);
	free(pr);
	return ok;
}

static struct ring *ring_new(struct fdpark *p)
{
	struct io_uring_params prm;
	memset(&prm, 0, sizeof(prm));
	prm.flags = IORING_SETUP_CQSIZE | IORING_SETUP_CLAMP;
	prm.cq_entries = RING_CQ;
	struct ring *r = xcalloc(1, sizeof(*r));
	r->park = p;
	r->fd = uring_setup(RING_SQ, &prm);
	if (r->fd < 0)
		goto fail;
	if (!(prm.features & IORING_FEAT_SINGLE_MMAP) || !(prm.features & IORING_FEAT_NODROP) ||
	    !install_supported(r->fd)) {
		errno = ENOSYS;
		goto fail;
	}
	size_t sq_len = prm.sq_off.array + prm.sq_entries * sizeof(unsigned);
	size_t cq_len = prm.cq_off.cqes + prm.cq_entries * sizeof(struct io_uring_cqe);
	r->map_len = sq_len > cq_len ? sq_len : cq_len;
	r->map = mmap(NULL, r->map_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
	              r->fd, IORING_OFF_SQ_RING);
	if (r->map == MAP_FAILED)
		goto fail;
	r->sqe_len = prm.sq_entries * sizeof(struct io_uring_sqe);
	r->sqe_map = mmap(NULL, r->sqe_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
	                  r->fd, IORING_OFF_SQES);
	if (r->sqe_map == MAP_FAILED)
		goto fail;
	char *m = r->map;
	r->sq_tail = (unsigned *)(m + prm.sq_off.tail);
	r->sq_mask = (unsigned *)(m + prm.sq_off.ring_mask);
	r->sq_array = (unsigned *)(m + prm.sq_off.array);
	r->sq_flags = (unsigned *)(m + prm.sq_off.flags);
	r->cq_head = (unsigned *)(m + prm.cq_off.head);
	r->cq_tail = (unsigned *)(m + prm.cq_off.tail);
	r->cq_mask = (unsigned *)(m + prm.cq_off.ring_mask);
	r->cqes = (struct io_uring_cqe *)(m + prm.cq_off.cqes);
	r->sqes = r->sqe_map;

	struct io_uring_rsrc_register reg;
	memset(&reg, 0, sizeof(reg));
	reg.nr = p->per_ring;
	reg.flags = IORING_RSRC_REGISTER_SPARSE;
	if (uring_register(r->fd, IORING_REGISTER_FILES2, &reg, sizeof(reg)) < 0)
		goto fail;
	/* Untouched pages of these cost nothing until slots are used. */
	r->slots = xcalloc(p->per_ring, sizeof(*r->slots));
	r->free_slots = xmalloc(p->per_ring * sizeof(*r->free_slots));
	r->io.fd = r->fd;
	r->io.cb = ring_readable;
	r->io.data = r;
	if (ev_io_set(p->loop, &r->io, EV_READ) < 0)
		goto fail;
	return r;
fail:;
	int e = errno;
	ring_free(p, r);
	errno = e;
	return NULL;
}

static struct ring *ring_add(struct fdpark *p)
{
	struct ring *r = ring_new(p);
	if (r == NULL)
		return NULL;
	p->rings = xrealloc(p->rings, (p->nrings + 1) * sizeof(*p->rings));
	p->rings[p->nrings++] = r;
	return r;
}

/* A ring with a free slot: the last one, or a new one. */
static struct ring *ring_with_room(struct fdpark *p, uint32_t *ri_out)
{
	for (uint32_t i = p->nrings; i > 0; i--)
		if (p->rings[i - 1]->nfree > 0 || p->rings[i - 1]->fresh < p->per_ring) {
			*ri_out = i - 1;
			return p->rings[i - 1];
		}
	if ((uint64_t)(p->nrings + 1) * p->per_ring > UINT32_MAX) {
		errno = ENOSPC;
		return NULL;
	}
	*ri_out = p->nrings;
	return ring_add(p);
}

/* --- public --- */

struct fdpark *fdpark_new(struct ev_loop *loop)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return NULL;
	struct fdpark *p = xcalloc(1, sizeof(*p));
	p->loop = loop;
	/* A table may be as large as the (soft) limit, no larger. */
	p->per_ring = rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > TABLE_MAX ? TABLE_MAX
	                                                                       : (uint32_t)rl.rlim_cur;
	p->retry.cb = retry_cb;
	p->retry.data = p;
	p->dispatch.cb = dispatch;
	p->dispatch.data = p;
	/* The first ring now: this is where the kernel says whether it can. */
	uint32_t ri;
	if (p->per_ring < 16 || ring_with_room(p, &ri) == NULL) {
		int e = p->per_ring < 16 ? EINVAL : errno;
		fdpark_free(&p);
		errno = e;
		return NULL;
	}
	return p;
}

void fdpark_free(struct fdpark **pp)
{
	struct fdpark *p = *pp;
	if (p == NULL)
		return;
	for (uint32_t i = 0; i < p->nrings; i++)
		ring_free(p, p->rings[i]);
	free(p->rings);
	ev_timer_stop(p->loop, &p->retry);
	ev_defer_cancel(p->loop, &p->dispatch);
	free(p->wakeq);
	free(p);
	*pp = NULL;
}

int fdpark_park(struct fdpark *p, int fd, fdpark_wake_fn *wake, void *arg, uint32_t *slot_r)
{
	uint32_t ri;
	struct ring *r = ring_with_room(p, &ri);
	if (r == NULL)
		return -1;
	uint32_t local = r->nfree > 0 ? r->free_slots[r->nfree - 1] : r->fresh;
	int32_t fds[1] = { fd };
	struct io_uring_files_update up = { .offset = local, .fds = (uint64_t)(uintptr_t)fds };
	if (uring_register(r->fd, IORING_REGISTER_FILES_UPDATE, &up, 1) != 1)
		return -1;
	struct slot *s = &r->slots[local];
	struct io_uring_sqe *q = sqe_get(r);
	q->opcode = IORING_OP_POLL_ADD;
	q->flags = IOSQE_FIXED_FILE;
	q->fd = (int32_t)local;
	q->poll32_events = POLLIN | POLLRDHUP;
	q->user_data = slot_tag(ri * p->per_ring + local, s->gen);
	if (submit(r, 0) < 0) {
		int e = errno;
		fds[0] = -1;
		uring_register(r->fd, IORING_REGISTER_FILES_UPDATE, &up, 1);
		errno = e;
		return -1;
	}
	if (r->nfree > 0)
		r->nfree--;
	else
		r->fresh++;
	s->wake = wake;
	s->arg = arg;
	s->used = s->armed = true;
	s->queued = s->wanted = false;
	p->count++;
	close(fd);
	*slot_r = ri * p->per_ring + local;
	/* The next ring takes a descriptor too: made while one was just
	 * freed, before this one is full. */
	if (ri + 1 == p->nrings && r->nfree + (p->per_ring - r->fresh) <= p->per_ring / 16 &&
	    (uint64_t)(p->nrings + 1) * p->per_ring <= UINT32_MAX)
		ring_add(p);
	return 0;
}

static void slot_release(struct fdpark *p, struct ring *r, uint32_t local, struct slot *s)
{
	s->used = s->armed = s->wanted = false;
	s->gen++;
	r->free_slots[r->nfree++] = local;
	p->count--;
}

/* Queue the slot's removal from the table, and its poll's if armed. */
static void queue_release(struct ring *r, uint32_t local, uint32_t slot, const struct slot *s,
                          bool linked)
{
	static int32_t none = -1;
	struct io_uring_sqe *q = sqe_get(r);
	q->opcode = IORING_OP_FILES_UPDATE;
	q->addr = (uint64_t)(uintptr_t)&none;
	q->len = 1;
	q->off = local;
	q->user_data = TAG_IGNORE;
	if (!s->armed)
		return;
	if (linked)
		q->flags = IOSQE_IO_LINK;
	q = sqe_get(r);
	q->opcode = IORING_OP_POLL_REMOVE;
	q->addr = slot_tag(slot, s->gen);
	q->user_data = TAG_IGNORE;
}

int fdpark_unpark(struct fdpark *p, uint32_t slot)
{
	struct ring *r;
	uint32_t local;
	struct slot *s = slot_of(p, slot, &r, &local);
	if (s == NULL || !s->used) {
		errno = EBADF;
		return -1;
	}
	/* Install, then (only if that worked: linked) leave the table and
	 * cancel the poll. */
	struct io_uring_sqe *q = sqe_get(r);
	q->opcode = OP_FIXED_FD_INSTALL;
	q->flags = IOSQE_FIXED_FILE | IOSQE_IO_LINK;
	q->fd = (int32_t)local;
	q->user_data = TAG_INSTALL;
	queue_release(r, local, slot, s, true);
	int64_t res = INT64_MIN;
	if (submit(r, 1) < 0)
		return -1;
	/* The install runs as it is submitted: its completion is there. */
	for (int tries = 0; res == INT64_MIN && tries < 100; tries++) {
		reap(r, &res);
		if (res == INT64_MIN && uring_enter(r->fd, 0, 1, IORING_ENTER_GETEVENTS) < 0 &&
		    errno != EINTR)
			return -1;
	}
	if (res == INT64_MIN) {
		errno = EIO;
		return -1;
	}
	if (res < 0) {
		errno = (int)-res;
		return -1;
	}
	slot_release(p, r, local, s);
	return (int)res;
}

void fdpark_kick(struct fdpark *p, uint32_t slot)
{
	struct ring *r;
	uint32_t local;
	struct slot *s = slot_of(p, slot, &r, &local);
	if (s != NULL && s->used) {
		s->wanted = true;
		wake_queue(p, slot, s);
	}
}

void fdpark_drop(struct fdpark *p, uint32_t slot)
{
	struct ring *r;
	uint32_t local;
	struct slot *s = slot_of(p, slot, &r, &local);
	if (s == NULL || !s->used)
		return;
	queue_release(r, local, slot, s, false);
	submit(r, 0);
	slot_release(p, r, local, s);
}

size_t fdpark_count(const struct fdpark *p)
{
	return p->count;
}
