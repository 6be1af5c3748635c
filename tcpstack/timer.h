/*
 * tcpstack/timer.h - hierarchical timer wheel for TCP timers.
 *
 * One wheel per net lcore; not thread-safe (the owning lcore is the only
 * user). Timers are intrusive: a struct tcp_timer lives inside the
 * connection, the wheel never allocates, and the callback finds its
 * connection with container_of. Time is counted in ticks; the tick length
 * is the caller's choice (tick_us at init, e.g. 1000 for 1 ms), and the
 * caller feeds the current tick to tmr_advance() every poll-loop turn.
 *
 * Cost: tmr_arm() and tmr_cancel() are O(1). tmr_advance() is O(1) when
 * nothing is due before the new time (one comparison against a cached
 * lower bound of the next event), otherwise O(levels + timers moved); a
 * long gap is crossed through occupancy bitmaps, never tick by tick. Each
 * timer moves between levels at most TMR_LEVELS times over its life.
 *
 * Semantics: a timer armed for d ticks at wheel time N runs on the first
 * tmr_advance(w, now) with now >= N + d (d is at least 1 and at most
 * TMR_MAX_TICKS; larger values are clamped). Timers that fall due in the
 * same tmr_advance() run in unspecified order. A callback may re-arm its
 * own timer, or arm and cancel any other timer of the same wheel, including
 * timers that are due in the same call; a timer re-armed from a callback
 * never runs again within that call. Tick values wrap modulo 2^64;
 * comparisons are wrap-safe as long as the caller's clock moves forward
 * by less than 2^63 ticks per call.
 */
#ifndef SLUICE_TCPSTACK_TIMER_H
#define SLUICE_TCPSTACK_TIMER_H

#include <stdbool.h>
#include <stdint.h>

#define TMR_SLOT_BITS 6
#define TMR_SLOTS (1u << TMR_SLOT_BITS)
#define TMR_LEVELS 6
/* Longest timeout: 2^36 - 1 ticks (795 days at 1 ms ticks). */
#define TMR_MAX_TICKS ((UINT64_C(1) << (TMR_SLOT_BITS * TMR_LEVELS)) - 1)

struct tcp_timer;
struct tcp_timer_wheel;

/* Called with the timer already disarmed; may re-arm it. */
typedef void tmr_fn(struct tcp_timer_wheel *w, struct tcp_timer *t);

/*
 * Embed in the owner. Fields are private to timer.c; the struct is visible
 * only so that it can be embedded. Zero it (or tmr_timer_init) once.
 */
struct tcp_timer {
	struct tcp_timer *next;
	struct tcp_timer **pprev;  /* NULL when not armed */
	uint64_t expires;          /* absolute tick */
	tmr_fn *fn;
	uint16_t where;            /* slot index, or TMR_WHERE_* in timer.c */
};

/* Wheel storage (about 3 KiB); fields are private to timer.c. */
struct tcp_timer_wheel {
	uint64_t now;              /* last tick seen by tmr_advance/init */
	uint64_t hint;             /* no event strictly before this tick */
	uint64_t pending[TMR_LEVELS];  /* occupied-slot bitmap per level */
	uint64_t count;            /* armed timers */
	uint32_t tick_us;
	bool running;              /* inside tmr_advance() */
	struct tcp_timer *overflow;    /* beyond the top level's block */
	struct tcp_timer *expired;     /* due, callbacks not yet run */
	struct tcp_timer *slot[TMR_LEVELS][TMR_SLOTS];
};

/* Start an empty wheel at tick now; tick_us (>= 1) is the tick length. */
void tmr_wheel_init(struct tcp_timer_wheel *w, uint32_t tick_us, uint64_t now);

/* Prepare a timer that will call fn; it starts disarmed. */
void tmr_timer_init(struct tcp_timer *t, tmr_fn *fn);

/* Arm (or re-arm) t to run ticks ticks from the wheel's current time;
 * 0 counts as 1, more than TMR_MAX_TICKS as TMR_MAX_TICKS. */
void tmr_arm(struct tcp_timer_wheel *w, struct tcp_timer *t, uint64_t ticks);

/* Same, with the delay in microseconds, rounded up to whole ticks. */
void tmr_arm_us(struct tcp_timer_wheel *w, struct tcp_timer *t, uint64_t us);

/* Disarm t; no-op if it is not armed. */
void tmr_cancel(struct tcp_timer_wheel *w, struct tcp_timer *t);

static inline bool tmr_armed(const struct tcp_timer *t)
{
	return t->pprev != 0;
}

/* Absolute tick at which an armed timer runs (meaningless if disarmed). */
static inline uint64_t tmr_expires(const struct tcp_timer *t)
{
	return t->expires;
}

static inline uint64_t tmr_now(const struct tcp_timer_wheel *w)
{
	return w->now;
}

/*
 * Move the wheel to tick now and run the callback of every timer due at or
 * before it. A now at or before the wheel's time (wrap-safe) is a no-op.
 * Must not be called from a callback. Returns the number of callbacks run.
 */
unsigned tmr_advance(struct tcp_timer_wheel *w, uint64_t now);

/*
 * Earliest tick at which tmr_advance() may have work to do: never later
 * than the earliest expiry; at worst the start of the slot range that holds
 * the earliest timer (advancing to it cascades that slot, and asking again
 * gives a closer answer: at most TMR_LEVELS wake-ups before the exact
 * expiry). Cost O(TMR_LEVELS). Returns
 * false, leaving *tick alone, when no timer is armed.
 */
bool tmr_next_expiry(struct tcp_timer_wheel *w, uint64_t *tick);

/* Number of armed timers. */
static inline uint64_t tmr_count(const struct tcp_timer_wheel *w)
{
	return w->count;
}

#endif
