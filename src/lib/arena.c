#include "lib/arena.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_ALIGN 16

struct arena_block {
	struct arena_block *next;
	size_t size, used;
	_Alignas(ARENA_ALIGN) unsigned char data[];
};

struct arena_cleanup {
	struct arena_cleanup *next;
	void (*fn)(void *);
	void *ptr;
};

struct arena {
	struct arena_block *blocks;
	struct arena_cleanup *cleanups;
	size_t block_size;
	size_t used;
};

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (p == NULL) {
		fputs("mailkeep: out of memory\n", stderr);
		abort();
	}
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (p == NULL) {
		fputs("mailkeep: out of memory\n", stderr);
		abort();
	}
	return p;
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (q == NULL) {
		fputs("mailkeep: out of memory\n", stderr);
		abort();
	}
	return q;
}

char *xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	return memcpy(xmalloc(n), s, n);
}

struct arena *arena_new(size_t block_size)
{
	struct arena *a = xcalloc(1, sizeof(*a));
	a->block_size = block_size < 1024 ? 1024 : block_size;
	return a;
}

static void run_cleanups(struct arena *a)
{
	while (a->cleanups != NULL) {
		struct arena_cleanup *c = a->cleanups;
		a->cleanups = c->next;
		c->fn(c->ptr);
	}
}

static void free_blocks(struct arena_block *b)
{
	while (b != NULL) {
		struct arena_block *next = b->next;
		free(b);
		b = next;
	}
}

void arena_reset(struct arena *a)
{
	run_cleanups(a);
#ifdef MK_ASAN
	free_blocks(a->blocks);
	a->blocks = NULL;
#else
	/* Keep the first (oldest) block for reuse: most commands fit in it. */
	struct arena_block *b = a->blocks, *keep = NULL;
	while (b != NULL) {
		struct arena_block *next = b->next;
		if (next == NULL && b->size == a->block_size) {
			keep = b;
			keep->used = 0;
		} else {
			free(b);
		}
		b = next;
	}
	a->blocks = keep;
#endif
	a->used = 0;
}

void arena_release(struct arena *a)
{
	arena_reset(a);
	free_blocks(a->blocks);
	a->blocks = NULL;
}

void arena_free(struct arena **ap)
{
	if (*ap == NULL)
		return;
	struct arena *a = *ap;
	run_cleanups(a);
	free_blocks(a->blocks);
	free(a);
	*ap = NULL;
}

void *arena_alloc(struct arena *a, size_t n)
{
	size_t need = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
	if (need < n)
		abort();
	a->used += n;
#ifdef MK_ASAN
	struct arena_block *b = xmalloc(sizeof(*b) + n);
	b->size = b->used = n;
	b->next = a->blocks;
	a->blocks = b;
	memset(b->data, 0, n);
	return b->data;
#else
	struct arena_block *b = a->blocks;
	if (b == NULL || b->size - b->used < need) {
		size_t size = need > a->block_size ? need : a->block_size;
		struct arena_block *nb = xmalloc(sizeof(*nb) + size);
		nb->size = size;
		nb->used = 0;
		if (b != NULL && size > a->block_size) {
			/* Oversized: insert behind the current block so the
			 * current one keeps serving small allocations. */
			nb->next = b->next;
			b->next = nb;
		} else {
			nb->next = b;
			a->blocks = nb;
		}
		b = nb;
	}
	void *p = b->data + b->used;
	b->used += need;
	memset(p, 0, n);
	return p;
#endif
}

void *arena_memdup(struct arena *a, const void *p, size_t n)
{
	void *q = arena_alloc(a, n);
	if (n > 0)
		memcpy(q, p, n);
	return q;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *q = arena_alloc(a, n + 1);
	if (n > 0)
		memcpy(q, s, n);
	q[n] = '\0';
	return q;
}

char *arena_strdup(struct arena *a, const char *s)
{
	return arena_strndup(a, s, strlen(s));
}

char *arena_vprintf(struct arena *a, const char *fmt, va_list ap)
{
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		n = 0;
	char *s = arena_alloc(a, (size_t)n + 1);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	return s;
}

char *arena_printf(struct arena *a, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = arena_vprintf(a, fmt, ap);
	va_end(ap);
	return s;
}

void arena_on_free(struct arena *a, void (*fn)(void *), void *ptr)
{
	struct arena_cleanup *c = arena_alloc(a, sizeof(*c));
	c->fn = fn;
	c->ptr = ptr;
	c->next = a->cleanups;
	a->cleanups = c;
}

size_t arena_used(const struct arena *a)
{
	return a->used;
}
