/* scan/arena.c - see arena.h. */
#include "scan/arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_ALIGN 16
#define ARENA_MIN_CHUNK (256u * 1024u)

struct arena_chunk {
	struct arena_chunk *next;
	size_t size; /* usable bytes after the header */
	size_t used;
	_Alignas(ARENA_ALIGN) unsigned char data[];
};

struct scan_arena {
	struct arena_chunk *head; /* chunk being filled */
	struct arena_chunk *all;  /* every chunk, for reset and free */
	size_t used;              /* bytes handed out since reset */
	size_t cap;
	void *last;               /* last allocation, for shrink_last */
	size_t last_size;
};

struct scan_arena *scan_arena_create(size_t cap)
{
	struct scan_arena *a = calloc(1, sizeof(*a));
	if (a == NULL)
		return NULL;
	a->cap = cap;
	return a;
}

void scan_arena_free(struct scan_arena *a)
{
	if (a == NULL)
		return;
	struct arena_chunk *c = a->all;
	while (c != NULL) {
		struct arena_chunk *next = c->next;
		free(c);
		c = next;
	}
	free(a);
}

static size_t round_up(size_t n)
{
	return (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
}

/* Find a chunk with room for n bytes, reusing kept chunks first. */
static struct arena_chunk *chunk_with_room(struct scan_arena *a, size_t n)
{
	if (a->head != NULL && a->head->size - a->head->used >= n)
		return a->head;
	for (struct arena_chunk *c = a->all; c != NULL; c = c->next)
		if (c->size - c->used >= n) {
			a->head = c;
			return c;
		}
	size_t size = n > ARENA_MIN_CHUNK ? n : ARENA_MIN_CHUNK;
	struct arena_chunk *c = malloc(sizeof(*c) + size);
	if (c == NULL)
		return NULL;
	c->size = size;
	c->used = 0;
	c->next = a->all;
	a->all = c;
	a->head = c;
	return c;
}

void *scan_arena_alloc(struct scan_arena *a, size_t n)
{
	if (n == 0)
		n = 1;
	if (n > SIZE_MAX / 2)
		return NULL;
	size_t need = round_up(n);
	if (need > a->cap || a->used > a->cap - need)
		return NULL;
	struct arena_chunk *c = chunk_with_room(a, need);
	if (c == NULL)
		return NULL;
	void *p = c->data + c->used;
	c->used += need;
	a->used += need;
	a->last = p;
	a->last_size = need;
	return p;
}

void *scan_arena_zalloc(struct scan_arena *a, size_t n)
{
	void *p = scan_arena_alloc(a, n);
	if (p != NULL)
		memset(p, 0, n);
	return p;
}

char *scan_arena_strndup(struct scan_arena *a, const char *s, size_t n)
{
	char *p = scan_arena_alloc(a, n + 1);
	if (p == NULL)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

void scan_arena_shrink_last(struct scan_arena *a, void *p, size_t n)
{
	if (p == NULL || p != a->last || a->head == NULL)
		return;
	struct arena_chunk *c = a->head;
	unsigned char *up = p;
	if (up < c->data || up + a->last_size != c->data + c->used)
		return;
	size_t keep = round_up(n ? n : 1);
	if (keep >= a->last_size)
		return;
	size_t give = a->last_size - keep;
	c->used -= give;
	a->used -= give;
	a->last_size = keep;
}

void scan_arena_reset(struct scan_arena *a)
{
	for (struct arena_chunk *c = a->all; c != NULL; c = c->next)
		c->used = 0;
	a->head = a->all;
	a->used = 0;
	a->last = NULL;
	a->last_size = 0;
}

size_t scan_arena_used(const struct scan_arena *a)
{
	return a->used;
}

size_t scan_arena_cap(const struct scan_arena *a)
{
	return a->cap;
}

void scan_arena_set_cap(struct scan_arena *a, size_t cap)
{
	a->cap = cap;
}
