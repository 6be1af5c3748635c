/* tests/unit/test_timer.c - tcpstack/timer.c against a naive reference. */
#include "tcpstack/timer.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#define RND_SEED 0x7133e5a1d2c4b6f8ULL
#include "rnd.h"

#define NT 512

struct item {
	struct tcp_timer t;
	int id;
	int fired;          /* callbacks run in the current advance */
	int rearm;          /* callback re-arms with this many ticks (0: no) */
	int cancel_other;   /* callback cancels items[cancel_other] (-1: no) */
	int armed_ref;      /* reference: armed? */
	uint64_t exp_ref;   /* reference: expiry tick */
};

static struct item items[NT];
static struct tcp_timer_wheel wheel;
static int bad_early;   /* callbacks that ran before their expiry */

#define ITEM(tp) ((struct item *)((char *)(tp) - offsetof(struct item, t)))

static void on_fire(struct tcp_timer_wheel *w, struct tcp_timer *t)
{
	struct item *it = ITEM(t);

	if ((int64_t)(tmr_now(w) - it->exp_ref) < 0 || !it->armed_ref ||
	    tmr_armed(t))
		bad_early++;
	it->fired++;
	it->armed_ref = 0;
	if (it->cancel_other >= 0) {
		struct item *o = &items[it->cancel_other];
		tmr_cancel(w, &o->t);
		o->armed_ref = 0;
	}
	if (it->rearm > 0) {
		tmr_arm(w, t, (uint64_t)it->rearm);
		it->armed_ref = 1;
		it->exp_ref = tmr_now(w) + (uint64_t)it->rearm;
	}
}

static void reset(uint64_t start)
{
	tmr_wheel_init(&wheel, 1000, start);
	for (int i = 0; i < NT; i++) {
		items[i] = (struct item){.id = i, .cancel_other = -1};
		tmr_timer_init(&items[i].t, on_fire);
	}
	bad_early = 0;
}

static uint64_t rnd_delay(void)
{
	switch (rnd() % 8) {
	case 0: return 1;
	case 1: case 2: return 1 + rnd() % 64;
	case 3: return 1 + rnd() % 4096;
	case 4: return 1 + rnd() % 300000;
	case 5: return 1 + rnd() % 7200000;        /* 2 h at 1 ms */
	case 6: return 1 + ((uint64_t)rnd() << 4); /* up to 2^36 */
	default: return 1 + rnd() % 200;
	}
}

static uint64_t rnd_step(void)
{
	switch (rnd() % 16) {
	case 0: return (uint64_t)rnd() << 5;       /* huge jump */
	case 1: case 2: return rnd() % 100000;
	case 3: return 0;
	default: return 1 + rnd() % 40;
	}
}

/* After an advance: everything due fired exactly once, nothing else did,
 * and tmr_next_expiry() is a lower bound of the earliest expiry. */
static int verify(void)
{
	uint64_t now = tmr_now(&wheel), min = 0;
	int errs = 0, have = 0;
	uint64_t armed = 0;

	for (int i = 0; i < NT; i++) {
		struct item *it = &items[i];
		if (it->fired > 1)
			errs++;
		if (it->armed_ref) {
			armed++;
			if ((int64_t)(it->exp_ref - now) <= 0)
				errs++;   /* due but still armed */
			if (!tmr_armed(&it->t) || tmr_expires(&it->t) != it->exp_ref)
				errs++;
			if (!have || (int64_t)(it->exp_ref - min) < 0)
				min = it->exp_ref;
			have = 1;
		} else if (tmr_armed(&it->t)) {
			errs++;
		}
		it->fired = 0;
	}
	if (armed != tmr_count(&wheel))
		errs++;
	uint64_t hint = 0;
	bool got = tmr_next_expiry(&wheel, &hint);
	if (got != (have != 0))
		errs++;
	if (got && ((int64_t)(hint - now) <= 0 || (int64_t)(hint - min) > 0))
		errs++;
	return errs;
}

static void random_run(uint64_t start, int ops, int callbacks_act)
{
	reset(start);
	int errs = 0;

	for (int op = 0; op < ops; op++) {
		unsigned r = rnd() % 10;
		struct item *it = &items[rnd() % NT];
		if (r < 5) {
			uint64_t d = rnd_delay();
			tmr_arm(&wheel, &it->t, d);
			it->armed_ref = 1;
			it->exp_ref = tmr_now(&wheel) + d;
			if (callbacks_act) {
				it->rearm = rnd() % 4 == 0 ? (int)(1 + rnd() % 100) : 0;
				it->cancel_other = rnd() % 4 == 0 ? (int)(rnd() % NT) : -1;
			}
		} else if (r < 7) {
			tmr_cancel(&wheel, &it->t);
			it->armed_ref = 0;
		} else {
			uint64_t to = tmr_now(&wheel) + rnd_step();
			tmr_advance(&wheel, to);
			CHECK_EQ_INT(tmr_now(&wheel), to);
			/* A due item cancelled by an earlier callback of
			 * the same advance is disarmed in the reference
			 * too, so it must simply not have run. */
			errs += verify();
		}
	}
	CHECK_EQ_INT(errs, 0);
	CHECK_EQ_INT(bad_early, 0);
}

static void test_random_vs_reference(void)
{
	random_run(0, 60000, 0);
}

static void test_random_with_callbacks(void)
{
	random_run(123456789, 60000, 1);
}

static void test_random_across_top_block(void)
{
	/* The top level's 2^36-tick block boundary. */
	random_run((UINT64_C(1) << 36) - 5000, 30000, 1);
}

static void test_random_across_u64_wrap(void)
{
	random_run(UINT64_MAX - 20000, 30000, 1);
}

static void test_exact_expiry(void)
{
	/* Every delay in a spread fires on exactly its tick, stepping one
	 * tick at a time from a start that is not block-aligned. */
	static const uint64_t delays[] = {
		1, 2, 63, 64, 65, 127, 128, 4095, 4096, 4097, 262143, 262144,
		262145, 7200000,
	};
	for (size_t i = 0; i < sizeof delays / sizeof delays[0]; i++) {
		reset(1000003);
		struct item *it = &items[0];
		tmr_arm(&wheel, &it->t, delays[i]);
		it->armed_ref = 1;
		it->exp_ref = 1000003 + delays[i];
		uint64_t fire_at = 0;
		/* Walk with the idle-loop pattern: jump to the hint. */
		uint64_t hint;
		int wakeups = 0;
		while (wakeups < 64 && tmr_next_expiry(&wheel, &hint)) {
			wakeups++;
			tmr_advance(&wheel, hint);
			if (it->fired)
				fire_at = tmr_now(&wheel);
		}
		CHECK_EQ_INT(fire_at, 1000003 + delays[i]);
		CHECK_MSG(wakeups <= TMR_LEVELS + 1, "delay %llu: %d wakeups",
			  (unsigned long long)delays[i], wakeups);
		/* One tick short never fires. */
		reset(1000003);
		tmr_arm(&wheel, &it->t, delays[i]);
		it->armed_ref = 1;
		it->exp_ref = 1000003 + delays[i];
		CHECK_EQ_INT(tmr_advance(&wheel, 1000003 + delays[i] - 1), 0);
		CHECK(tmr_armed(&it->t));
		CHECK_EQ_INT(tmr_advance(&wheel, 1000003 + delays[i]), 1);
		CHECK(!tmr_armed(&it->t));
	}
}

static int rearm_runs;

static void rearm_self(struct tcp_timer_wheel *w, struct tcp_timer *t)
{
	rearm_runs++;
	tmr_arm(w, t, 0);   /* 0 counts as 1: must not loop in this call */
}

static void test_rearm_in_callback(void)
{
	struct tcp_timer_wheel w;
	struct tcp_timer t;

	tmr_wheel_init(&w, 1000, 50);
	tmr_timer_init(&t, rearm_self);
	tmr_arm(&w, &t, 10);
	rearm_runs = 0;
	CHECK_EQ_INT(tmr_advance(&w, 1000), 1);
	CHECK_EQ_INT(rearm_runs, 1);
	CHECK(tmr_armed(&t));
	CHECK_EQ_INT(tmr_expires(&t), 1001);
	for (uint64_t now = 1001; now < 1101; now++)
		CHECK_EQ_INT(tmr_advance(&w, now), 1);
	CHECK_EQ_INT(rearm_runs, 101);
	tmr_cancel(&w, &t);
	CHECK_EQ_INT(tmr_count(&w), 0);
	uint64_t h;
	CHECK(!tmr_next_expiry(&w, &h));
}

static struct tcp_timer *victim;
static int victim_runs, killer_runs;

static void victim_fn(struct tcp_timer_wheel *w, struct tcp_timer *t)
{
	victim_runs++;
}

static void killer_fn(struct tcp_timer_wheel *w, struct tcp_timer *t)
{
	killer_runs++;
	tmr_cancel(w, victim);
}

static void test_cancel_other_in_callback(void)
{
	struct tcp_timer_wheel w;
	struct tcp_timer a, b, c;

	/* Both due in the same advance: whichever runs first, the victim
	 * must not run after being cancelled (and if it ran first, the
	 * cancel is a no-op). */
	for (int order = 0; order < 2; order++) {
		tmr_wheel_init(&w, 1000, 0);
		tmr_timer_init(&a, killer_fn);
		tmr_timer_init(&b, victim_fn);
		victim = &b;
		victim_runs = killer_runs = 0;
		tmr_arm(&w, order ? &b : &a, 5);
		tmr_arm(&w, order ? &a : &b, 5);
		unsigned ran = tmr_advance(&w, 5);
		CHECK_EQ_INT(killer_runs, 1);
		CHECK(victim_runs <= 1);
		CHECK_EQ_INT(ran, 1 + (unsigned)victim_runs);
		CHECK(!tmr_armed(&b));
		CHECK_EQ_INT(tmr_count(&w), 0);
	}
	/* Victim far away, in a higher level: cancelled before its time. */
	tmr_wheel_init(&w, 1000, 0);
	tmr_timer_init(&a, killer_fn);
	tmr_timer_init(&b, victim_fn);
	tmr_timer_init(&c, victim_fn);
	victim = &b;
	victim_runs = killer_runs = 0;
	tmr_arm(&w, &a, 3);
	tmr_arm(&w, &b, 100000);
	tmr_arm(&w, &c, 100001);
	CHECK_EQ_INT(tmr_advance(&w, 200000), 2);
	CHECK_EQ_INT(victim_runs, 1);   /* c only */
	CHECK_EQ_INT(killer_runs, 1);
}

static void test_large_jump(void)
{
	/* Thousands of timers spread over 2 hours, one jump of a day runs
	 * them all; a jump into the middle runs exactly the due half. */
	reset(77);
	for (int i = 0; i < NT; i++) {
		uint64_t d = 1 + (uint64_t)i * 14000;
		tmr_arm(&wheel, &items[i].t, d);
		items[i].armed_ref = 1;
		items[i].exp_ref = 77 + d;
	}
	unsigned ran = tmr_advance(&wheel, 77 + 256 * 14000);
	CHECK_EQ_INT(ran, 256);
	CHECK_EQ_INT(verify(), 0);
	ran = tmr_advance(&wheel, 77 + 86400000);
	CHECK_EQ_INT(ran, NT - 256);
	CHECK_EQ_INT(verify(), 0);
	CHECK_EQ_INT(bad_early, 0);
}

static void test_clamp_and_idle(void)
{
	struct tcp_timer_wheel w;
	struct tcp_timer t;

	tmr_wheel_init(&w, 1000, 5);
	tmr_timer_init(&t, victim_fn);
	tmr_arm(&w, &t, UINT64_MAX);
	CHECK_EQ_INT(tmr_expires(&t), 5 + TMR_MAX_TICKS);
	/* Idle turns with nothing due: no callbacks, time still moves. */
	for (uint64_t now = 6; now < 100000; now++)
		CHECK_EQ_INT(tmr_advance(&w, now), 0);
	CHECK_EQ_INT(tmr_now(&w), 99999);
	/* Time going backwards is ignored. */
	CHECK_EQ_INT(tmr_advance(&w, 10), 0);
	CHECK_EQ_INT(tmr_now(&w), 99999);
	victim_runs = 0;
	CHECK_EQ_INT(tmr_advance(&w, 5 + TMR_MAX_TICKS), 1);
	CHECK_EQ_INT(victim_runs, 1);

	/* Microsecond helper rounds up to whole ticks. */
	tmr_wheel_init(&w, 1000, 0);
	tmr_arm_us(&w, &t, 1001);
	CHECK_EQ_INT(tmr_expires(&t), 2);
	tmr_arm_us(&w, &t, 3000);
	CHECK_EQ_INT(tmr_expires(&t), 3);
	CHECK_EQ_INT(tmr_count(&w), 1);
}

int main(void)
{
	RUN(test_exact_expiry);
	RUN(test_rearm_in_callback);
	RUN(test_cancel_other_in_callback);
	RUN(test_large_jump);
	RUN(test_clamp_and_idle);
	RUN(test_random_vs_reference);
	RUN(test_random_with_callbacks);
	RUN(test_random_across_top_block);
	RUN(test_random_across_u64_wrap);
	return CHECK_DONE();
}
