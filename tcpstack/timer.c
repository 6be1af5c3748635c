/*
 * tcpstack/timer.c - hierarchical timer wheel (Varghese & Lauck), with
 * occupancy bitmaps so that a jump over empty slots costs nothing.
 *
 * Layout: TMR_LEVELS levels of 64 slots; level L has a slot per 64^L
 * ticks. A timer expiring at E, seen at wheel time N (E > N), sits at the
 * level of the highest 6-bit digit in which E and N differ, in the slot of
 * E's digit at that level. Invariant for a timer at level L: E and N agree
 * on every digit above L, and E's digit L is greater than N's. Timers whose
 * E differs from N above the top level (far timers, or ones past a wrap of
 * the 64-bit tick counter) wait on the overflow list until N enters E's
 * 2^36-tick block.
 *
 * Advancing from N to N2 breaks the invariant exactly for the slots of
 * level L whose digit lies in (digit_L(N), digit_L(N2)], or for all of
 * level L's slots when N2 leaves N's block at level L + 1. Those slots are
 * taken from the wheel (bitmap & range mask, one ctz per non-empty slot)
 * and their timers placed again relative to N2: into a lower level, or
 * onto the expired list. Then the expired callbacks run.
 */
#include "tcpstack/timer.h"

#include <assert.h>
#include <stddef.h>

#define TOP_BITS (TMR_SLOT_BITS * TMR_LEVELS)
#define WHERE_OVERFLOW ((uint16_t)(TMR_LEVELS * TMR_SLOTS))
#define WHERE_EXPIRED ((uint16_t)(WHERE_OVERFLOW + 1))

static inline int64_t tick_diff(uint64_t a, uint64_t b)
{
	return (int64_t)(a - b);
}

static void link_head(struct tcp_timer **head, struct tcp_timer *t)
{
	t->next = *head;
	if (t->next != NULL)
		t->next->pprev = &t->next;
	*head = t;
	t->pprev = head;
}

static void unlink_timer(struct tcp_timer_wheel *w, struct tcp_timer *t)
{
	*t->pprev = t->next;
	if (t->next != NULL)
		t->next->pprev = t->pprev;
	if (t->where < WHERE_OVERFLOW) {
		unsigned lvl = t->where / TMR_SLOTS, s = t->where % TMR_SLOTS;
		if (w->slot[lvl][s] == NULL)
			w->pending[lvl] &= ~(UINT64_C(1) << s);
	}
	t->pprev = NULL;
	t->next = NULL;
}

/* First tick at which the timers of slot s of level lvl need attention. */
static uint64_t slot_event(uint64_t now, unsigned lvl, unsigned s)
{
	unsigned sh = lvl * TMR_SLOT_BITS;
	uint64_t block = sh + TMR_SLOT_BITS >= 64
				 ? 0
				 : now & ~((UINT64_C(1) << (sh + TMR_SLOT_BITS)) - 1);
	return block | ((uint64_t)s << sh);
}

static uint64_t overflow_event(uint64_t now)
{
	return ((now >> TOP_BITS) + 1) << TOP_BITS;
}

static void lower_hint(struct tcp_timer_wheel *w, uint64_t ev)
{
	if (tick_diff(ev, w->hint) < 0)
		w->hint = ev;
}

/* Put an unlinked timer where its expiry says, relative to w->now. */
static void place(struct tcp_timer_wheel *w, struct tcp_timer *t)
{
	uint64_t e = t->expires, x = e ^ w->now;

	if (tick_diff(e, w->now) <= 0) {
		t->where = WHERE_EXPIRED;
		link_head(&w->expired, t);
		return;
	}
	if (x >> TOP_BITS) {
		t->where = WHERE_OVERFLOW;
		link_head(&w->overflow, t);
		lower_hint(w, overflow_event(w->now));
		return;
	}
	unsigned lvl = (unsigned)(63 - __builtin_clzll(x)) / TMR_SLOT_BITS;
	unsigned s = (unsigned)(e >> (lvl * TMR_SLOT_BITS)) & (TMR_SLOTS - 1);
	t->where = (uint16_t)(lvl * TMR_SLOTS + s);
	link_head(&w->slot[lvl][s], t);
	w->pending[lvl] |= UINT64_C(1) << s;
	lower_hint(w, slot_event(w->now, lvl, s));
}

static void recompute_hint(struct tcp_timer_wheel *w)
{
	uint64_t best = w->now + TMR_MAX_TICKS + 1;

	for (unsigned lvl = 0; lvl < TMR_LEVELS; lvl++) {
		if (w->pending[lvl] == 0)
			continue;
		unsigned s = (unsigned)__builtin_ctzll(w->pending[lvl]);
		uint64_t ev = slot_event(w->now, lvl, s);
		if (tick_diff(ev, best) < 0)
			best = ev;
	}
	if (w->overflow != NULL && tick_diff(overflow_event(w->now), best) < 0)
		best = overflow_event(w->now);
	w->hint = best;
}

void tmr_wheel_init(struct tcp_timer_wheel *w, uint32_t tick_us, uint64_t now)
{
	*w = (struct tcp_timer_wheel){0};
	w->tick_us = tick_us ? tick_us : 1;
	w->now = now;
	w->hint = now + 1;
}

void tmr_timer_init(struct tcp_timer *t, tmr_fn *fn)
{
	*t = (struct tcp_timer){.fn = fn};
}

void tmr_arm(struct tcp_timer_wheel *w, struct tcp_timer *t, uint64_t ticks)
{
	if (t->pprev != NULL)
		unlink_timer(w, t);
	else
		w->count++;
	if (ticks == 0)
		ticks = 1;
	if (ticks > TMR_MAX_TICKS)
		ticks = TMR_MAX_TICKS;
	if (w->count == 1 && !w->running)
		w->hint = w->now + TMR_MAX_TICKS + 1;
	t->expires = w->now + ticks;
	place(w, t);
}

void tmr_arm_us(struct tcp_timer_wheel *w, struct tcp_timer *t, uint64_t us)
{
	uint64_t ticks = us / w->tick_us + (us % w->tick_us != 0);
	tmr_arm(w, t, ticks);
}

void tmr_cancel(struct tcp_timer_wheel *w, struct tcp_timer *t)
{
	if (t->pprev == NULL)
		return;
	unlink_timer(w, t);
	w->count--;
	/* The hint stays a valid lower bound; the next advance past it fixes it. */
}

/* Move every timer of list *head onto the singly linked *todo. */
static void take_list(struct tcp_timer **head, struct tcp_timer **todo)
{
	struct tcp_timer *t = *head, *nx;

	*head = NULL;
	for (; t != NULL; t = nx) {
		nx = t->next;
		t->pprev = NULL;
		t->next = *todo;
		*todo = t;
	}
}

unsigned tmr_advance(struct tcp_timer_wheel *w, uint64_t now)
{
	uint64_t old = w->now;

	assert(!w->running);
	if (tick_diff(now, old) <= 0)
		return 0;
	if (w->count == 0 || tick_diff(now, w->hint) < 0) {
		w->now = now;
		return 0;
	}

	struct tcp_timer *todo = NULL;
	for (unsigned lvl = 0; lvl < TMR_LEVELS; lvl++) {
		unsigned sh = lvl * TMR_SLOT_BITS, up = sh + TMR_SLOT_BITS;
		uint64_t mask;
		if (up < 64 && (old >> up) != (now >> up)) {
			mask = ~UINT64_C(0);
		} else {
			unsigned d0 = (unsigned)(old >> sh) & (TMR_SLOTS - 1);
			unsigned d1 = (unsigned)(now >> sh) & (TMR_SLOTS - 1);
			mask = ((UINT64_C(2) << d1) - 1) & ~((UINT64_C(2) << d0) - 1);
		}
		uint64_t bits = w->pending[lvl] & mask;
		w->pending[lvl] &= ~bits;
		while (bits != 0) {
			unsigned s = (unsigned)__builtin_ctzll(bits);
			bits &= bits - 1;
			take_list(&w->slot[lvl][s], &todo);
		}
	}
	if ((old >> TOP_BITS) != (now >> TOP_BITS))
		take_list(&w->overflow, &todo);

	w->now = now;
	while (todo != NULL) {
		struct tcp_timer *t = todo;
		todo = t->next;
		place(w, t);
	}

	unsigned ran = 0;
	w->running = true;
	struct tcp_timer *t;
	while ((t = w->expired) != NULL) {
		unlink_timer(w, t);
		w->count--;
		ran++;
		t->fn(w, t);
	}
	w->running = false;
	recompute_hint(w);
	return ran;
}

bool tmr_next_expiry(struct tcp_timer_wheel *w, uint64_t *tick)
{
	if (w->count == 0)
		return false;
	recompute_hint(w);
	*tick = w->hint;
	return true;
}
