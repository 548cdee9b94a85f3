/*
 * arena: region allocator. Memory belongs to a connection or to one command
 * and is released all at once by arena_reset() / arena_free().
 *
 * - arena_alloc() returns zeroed memory aligned for any type; it never
 *   returns NULL (allocation failure aborts the process: clients cannot cause
 *   large allocations because every size is limited before it is allocated).
 * - arena_on_free() registers a cleanup (fd, OpenSSL object, sqlite handle)
 *   run at the next reset or free, newest first.
 * - In the asan build (MK_ASAN) every allocation is its own malloc() so the
 *   sanitizer sees overflows that a chunked arena would hide.
 *
 * An arena is used by one thread at a time.
 */
#ifndef MK_ARENA_H
#define MK_ARENA_H

#include <stdarg.h>
#include <stddef.h>

struct arena;

struct arena *arena_new(size_t block_size);
void arena_free(struct arena **a);
void arena_reset(struct arena *a);
/* A reset that also gives back the block a reset keeps for reuse: for an
 * arena about to sit unused (the command arena of an idle connection). */
void arena_release(struct arena *a);

void *arena_alloc(struct arena *a, size_t n);
void *arena_memdup(struct arena *a, const void *p, size_t n);
/* NUL-terminated copy of the first n bytes of s. */
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_strdup(struct arena *a, const char *s);
char *arena_printf(struct arena *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
char *arena_vprintf(struct arena *a, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

void arena_on_free(struct arena *a, void (*fn)(void *), void *ptr);

/* Bytes handed out since the last reset (for limits and tests). */
size_t arena_used(const struct arena *a);

/* Process-wide allocation helpers that abort on failure. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);

#endif
