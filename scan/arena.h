/*
 * scan/arena.h - per-thread bump allocator for everything one message needs.
 *
 * A scan thread owns one arena. Parsing and decoding a message allocate from
 * it; scan_arena_reset() releases everything at once before the next message.
 * Chunks are kept across resets, so after warm-up a message costs no malloc.
 *
 * The arena enforces a hard cap (bytes handed out since the last reset).
 * Reaching the cap is not an error of the arena's user: allocation returns
 * NULL and the caller turns that into a `limit` finding.
 *
 * Not thread-safe: one arena per thread.
 */
#ifndef SLUICE_SCAN_ARENA_H
#define SLUICE_SCAN_ARENA_H

#include <stddef.h>

struct scan_arena;

/* Create an arena that hands out at most `cap` bytes between resets.
 * Returns NULL on allocation failure. Caller frees with scan_arena_free(). */
struct scan_arena *scan_arena_create(size_t cap);

/* Free the arena and all its chunks. Accepts NULL. */
void scan_arena_free(struct scan_arena *a);

/* Allocate n bytes aligned to 16. Returns NULL when the cap would be
 * exceeded or memory is exhausted. The memory is uninitialised and lives
 * until the next scan_arena_reset(). */
void *scan_arena_alloc(struct scan_arena *a, size_t n);

/* As scan_arena_alloc(), zero-filled. */
void *scan_arena_zalloc(struct scan_arena *a, size_t n);

/* Copy n bytes of s into the arena and NUL-terminate. NULL as above. */
char *scan_arena_strndup(struct scan_arena *a, const char *s, size_t n);

/* Shrink the most recent allocation `p` (of any size) to n bytes, giving
 * the tail back. Used by decoders that allocate a worst-case output buffer.
 * p must be the last pointer returned; otherwise this is a no-op. */
void scan_arena_shrink_last(struct scan_arena *a, void *p, size_t n);

/* Release everything handed out; keep the chunks for reuse. */
void scan_arena_reset(struct scan_arena *a);

/* Bytes handed out since the last reset / the cap. */
size_t scan_arena_used(const struct scan_arena *a);
size_t scan_arena_cap(const struct scan_arena *a);

/* Change the cap (takes effect for later allocations). */
void scan_arena_set_cap(struct scan_arena *a, size_t cap);

#endif
