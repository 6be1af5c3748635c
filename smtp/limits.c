/*
 * smtp/limits.c - per-lcore connection caps (see limits.h): a chained hash
 * of address records in one array, an LRU list of the idle ones, integer
 * token buckets.
 */
#include "smtp/limits.h"

#include <assert.h>
#include <stdbool.h>
#include <stdlib.h>

#define NIL UINT32_MAX
#define TOKEN 60000000ull  /* one connection = rate * 60 s in us units */

struct rec {
	uint32_t addr;
	uint32_t conns;
	uint64_t tokens;   /* units of 1/TOKEN connection */
	uint64_t last_us;
	uint32_t hnext;    /* hash chain */
	uint32_t prev, next; /* LRU (idle) or free list (next only) */
	bool used;
};

struct smtp_conn_limits {
	unsigned max_total, max_per_addr, rate;
	unsigned total;
	uint64_t seed;
	uint32_t nslots, mask;
	uint32_t *bucket;
	struct rec *r;
	uint32_t free;            /* free records, via next */
	uint32_t lru_head, lru_tail; /* idle records, oldest first */
};

static uint32_t hash(const struct smtp_conn_limits *l, uint32_t addr)
{
	uint64_t x = ((uint64_t)addr ^ l->seed) * 0x9e3779b97f4a7c15ull;
	x ^= x >> 29;
	x *= 0xbf58476d1ce4e5b9ull ^ (l->seed >> 7);
	return (uint32_t)(x >> 32) & l->mask;
}

struct smtp_conn_limits *smtp_conn_limits_create(unsigned max_total,
						 unsigned max_per_addr,
						 unsigned rate,
						 unsigned slots,
						 uint64_t seed)
{
	struct smtp_conn_limits *l = calloc(1, sizeof *l);
	if (l == NULL || slots == 0)
		goto fail;
	uint32_t nb = 1;
	while (nb < slots && nb < (1u << 30))
		nb <<= 1;
	l->max_total = max_total;
	l->max_per_addr = max_per_addr;
	l->rate = rate;
	l->seed = seed;
	l->nslots = slots;
	l->mask = nb - 1;
	l->bucket = malloc(nb * sizeof *l->bucket);
	l->r = calloc(slots, sizeof *l->r);
	if (l->bucket == NULL || l->r == NULL)
		goto fail;
	for (uint32_t i = 0; i < nb; i++)
		l->bucket[i] = NIL;
	for (uint32_t i = 0; i < slots; i++)
		l->r[i].next = i + 1 < slots ? i + 1 : NIL;
	l->free = 0;
	l->lru_head = l->lru_tail = NIL;
	return l;
fail:
	smtp_conn_limits_free(l);
	return NULL;
}

void smtp_conn_limits_free(struct smtp_conn_limits *l)
{
	if (l == NULL)
		return;
	free(l->bucket);
	free(l->r);
	free(l);
}

static uint32_t find(const struct smtp_conn_limits *l, uint32_t addr)
{
	for (uint32_t i = l->bucket[hash(l, addr)]; i != NIL; i = l->r[i].hnext)
		if (l->r[i].addr == addr)
			return i;
	return NIL;
}

static void lru_unlink(struct smtp_conn_limits *l, uint32_t i)
{
	struct rec *e = &l->r[i];
	if (e->prev != NIL)
		l->r[e->prev].next = e->next;
	else
		l->lru_head = e->next;
	if (e->next != NIL)
		l->r[e->next].prev = e->prev;
	else
		l->lru_tail = e->prev;
	e->prev = e->next = NIL;
}

static void lru_append(struct smtp_conn_limits *l, uint32_t i)
{
	struct rec *e = &l->r[i];
	e->next = NIL;
	e->prev = l->lru_tail;
	if (l->lru_tail != NIL)
		l->r[l->lru_tail].next = i;
	else
		l->lru_head = i;
	l->lru_tail = i;
}

static void unhash(struct smtp_conn_limits *l, uint32_t i)
{
	uint32_t *pp = &l->bucket[hash(l, l->r[i].addr)];
	while (*pp != i)
		pp = &l->r[*pp].hnext;
	*pp = l->r[i].hnext;
}

static uint32_t take(struct smtp_conn_limits *l, uint32_t addr, uint64_t now)
{
	uint32_t i = l->free;
	if (i != NIL) {
		l->free = l->r[i].next;
	} else if ((i = l->lru_head) != NIL) {
		lru_unlink(l, i);   /* recycle the oldest idle record */
		unhash(l, i);
	} else {
		return NIL;
	}
	struct rec *e = &l->r[i];
	e->addr = addr;
	e->conns = 0;
	e->tokens = (uint64_t)l->rate * TOKEN;
	e->last_us = now;
	e->used = true;
	e->prev = e->next = NIL;
	uint32_t h = hash(l, addr);
	e->hnext = l->bucket[h];
	l->bucket[h] = i;
	lru_append(l, i);   /* idle until admitted */
	return i;
}

enum smtp_admit smtp_conn_limits_admit(struct smtp_conn_limits *l,
				       uint32_t addr, uint64_t now)
{
	if (l->max_total && l->total >= l->max_total)
		return SMTP_ADMIT_TOO_MANY;
	uint32_t i = find(l, addr);
	if (i == NIL && (i = take(l, addr, now)) == NIL)
		return SMTP_ADMIT_TOO_MANY;
	struct rec *e = &l->r[i];
	if (l->rate) {
		uint64_t cap = (uint64_t)l->rate * TOKEN;
		uint64_t dt = now > e->last_us ? now - e->last_us : 0;
		/* dt * rate may not fit: saturate at the cap */
		if (dt >= cap / l->rate)
			e->tokens = cap;
		else if ((e->tokens += dt * l->rate) > cap)
			e->tokens = cap;
		e->last_us = now;
		if (e->tokens < TOKEN)
			return SMTP_ADMIT_RATE;
	}
	if (l->max_per_addr && e->conns >= l->max_per_addr)
		return SMTP_ADMIT_TOO_MANY_FROM_YOU;
	if (l->rate)
		e->tokens -= TOKEN;
	if (e->conns++ == 0)
		lru_unlink(l, i);
	l->total++;
	return SMTP_ADMIT_OK;
}

void smtp_conn_limits_release(struct smtp_conn_limits *l, uint32_t addr)
{
	uint32_t i = find(l, addr);
	assert(i != NIL && l->r[i].conns > 0);
	if (i == NIL || l->r[i].conns == 0)
		return;
	l->total--;
	if (--l->r[i].conns == 0)
		lru_append(l, i);
}

unsigned smtp_conn_limits_total(const struct smtp_conn_limits *l)
{
	return l->total;
}

unsigned smtp_conn_limits_count(const struct smtp_conn_limits *l,
				uint32_t addr)
{
	uint32_t i = find(l, addr);
	return i == NIL ? 0 : l->r[i].conns;
}
