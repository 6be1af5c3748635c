/* tests/unit/test_dp_impair.c - dataplane/dp_impair.c: loss, duplication,
 * delay with jitter, reordering rates near their settings over many
 * frames; due-time order; the held-frame limit; every frame accounted for
 * (passed on, freed, or held and freed at the end); spec parsing. */
#include "dataplane/dp_impair.h"

#include <stdint.h>
#include <stdlib.h>

#include "check.h"

/* Frames are heap-allocated counters so leaks and double frees show
 * under ASan; live counts every frame not yet freed. */
struct frame {
	uint32_t id;
	uint32_t copy;
};
static long live;

static void *f_copy(void *env, void *f)
{
	(void)env;
	struct frame *c = malloc(sizeof(*c));
	if (!c)
		return NULL;
	*c = *(struct frame *)f;
	c->copy = 1;
	live++;
	return c;
}

static void f_free(void *env, void *f)
{
	(void)env;
	free(f);
	live--;
}

static const struct dp_impair_ops ops = { f_copy, f_free, NULL };

static struct frame *mk(uint32_t id)
{
	struct frame *f = malloc(sizeof(*f));
	f->id = id;
	f->copy = 0;
	live++;
	return f;
}

/* Push N frames 100 us apart, drain everything; returns frames out and
 * fills the number that left out of arrival order. */
static unsigned run(struct dp_impair *im, unsigned n, unsigned *late,
		    unsigned *dups)
{
	void *out[64];
	unsigned got = 0;
	uint32_t max_id = 0;
	*late = *dups = 0;
	uint64_t t = 1000;
	for (unsigned i = 0; i <= n + 2000; i++, t += 100) {
		unsigned k = 0;
		if (i < n) {
			void *f = mk(i);
			k = dp_impair_push(im, &f, 1, t, out, 64);
		}
		k += dp_impair_pop(im, t, out + k, 64 - k);
		for (unsigned j = 0; j < k; j++) {
			struct frame *f = out[j];
			if (f->copy)
				(*dups)++;
			else if (got && f->id < max_id)
				(*late)++;
			if (f->id > max_id)
				max_id = f->id;
			got++;
			f_free(NULL, f);
		}
	}
	return got;
}

static void test_rates(void)
{
	static const struct {
		const char *spec;
		unsigned lo, hi;        /* frames out of 20000 */
		unsigned late_lo, late_hi;
		unsigned dup_lo, dup_hi;
	} rows[] = {
		{ "", 20000, 20000, 0, 0, 0, 0 },
		{ "loss=5%", 18700, 19300, 0, 0, 0, 0 },
		{ "duplicate=1%", 20100, 20300, 0, 0, 100, 300 },
		{ "delay=2ms", 20000, 20000, 0, 0, 0, 0 },
		/* +/- 1 ms at 100 us spacing: most frames change places. */
		{ "delay=2ms,jitter=1ms", 20000, 20000, 5000, 20000, 0, 0 },
		/* 25% sent at once overtake the ~20 delayed frames in flight. */
		{ "delay=2ms,reorder=25%", 20000, 20000, 5000, 20000, 0, 0 },
		{ "loss=5%,reorder=25%,duplicate=1%,delay=20ms,jitter=10ms,"
		  "seed=7", 18800, 19400, 5000, 20000, 90, 320 },
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		struct dp_impair_config cfg;
		char err[200];
		CHECK_EQ_INT(dp_impair_parse(rows[i].spec, &cfg, err,
					     sizeof err), 0);
		cfg.limit = 100000;
		struct dp_impair *im = dp_impair_create(&cfg, &ops);
		CHECK(im != NULL);
		if (!im)
			continue;
		unsigned late, dups;
		unsigned got = run(im, 20000, &late, &dups);
		CHECK_MSG(got >= rows[i].lo && got <= rows[i].hi,
			  "%s: %u out", rows[i].spec, got);
		CHECK_MSG(late >= rows[i].late_lo && late <= rows[i].late_hi,
			  "%s: %u late", rows[i].spec, late);
		CHECK_MSG(dups >= rows[i].dup_lo && dups <= rows[i].dup_hi,
			  "%s: %u duplicates", rows[i].spec, dups);
		struct dp_impair_stats st;
		dp_impair_stats(im, &st);
		CHECK_EQ_INT(st.held, 0);
		CHECK_EQ_INT(st.in, 20000);
		CHECK_EQ_INT(st.out, got);
		CHECK_EQ_INT(st.in + st.duplicated, st.out + st.lost);
		dp_impair_free(im);
		CHECK_EQ_INT(live, 0);
	}
}

static void test_order_and_delay(void)
{
	/* Fixed delay: nothing before its time, then in arrival order. */
	struct dp_impair_config cfg = { .delay_us = 500 };
	struct dp_impair *im = dp_impair_create(&cfg, &ops);
	void *out[8];
	for (uint32_t i = 0; i < 4; i++) {
		void *f = mk(i);
		CHECK_EQ_INT(dp_impair_push(im, &f, 1, 100, out, 8), 0);
	}
	CHECK_EQ_INT(dp_impair_next_us(im), 600);
	CHECK_EQ_INT(dp_impair_pop(im, 599, out, 8), 0);
	CHECK_EQ_INT(dp_impair_pop(im, 600, out, 2), 2);
	CHECK_EQ_INT(((struct frame *)out[0])->id, 0);
	CHECK_EQ_INT(((struct frame *)out[1])->id, 1);
	f_free(NULL, out[0]);
	f_free(NULL, out[1]);
	/* Two frames left held: freeing the stage frees them. */
	dp_impair_free(im);
	CHECK_EQ_INT(live, 0);
	CHECK_EQ_INT(dp_impair_next_us(im = dp_impair_create(&cfg, &ops)),
		     UINT64_MAX);
	dp_impair_free(im);
}

static void test_limit_and_full_out(void)
{
	struct dp_impair_config cfg = { .delay_us = 1000, .limit = 3 };
	struct dp_impair *im = dp_impair_create(&cfg, &ops);
	void *out[8];
	void *fs[5];
	for (uint32_t i = 0; i < 5; i++)
		fs[i] = mk(i);
	CHECK_EQ_INT(dp_impair_push(im, fs, 5, 0, out, 8), 0);
	struct dp_impair_stats st;
	dp_impair_stats(im, &st);
	CHECK_EQ_INT(st.held, 3);
	CHECK_EQ_INT(st.overflow, 2);
	CHECK_EQ_INT(live, 3);
	dp_impair_free(im);
	CHECK_EQ_INT(live, 0);

	/* No delay and a full out[]: the rest wait for the next pop. */
	struct dp_impair_config c0 = { .loss_ppm = 0 };
	im = dp_impair_create(&c0, &ops);
	for (uint32_t i = 0; i < 5; i++)
		fs[i] = mk(i);
	CHECK_EQ_INT(dp_impair_push(im, fs, 5, 10, out, 2), 2);
	CHECK_EQ_INT(dp_impair_pop(im, 10, out + 2, 6), 3);
	for (uint32_t i = 0; i < 5; i++) {
		CHECK_EQ_INT(((struct frame *)out[i])->id, i);
		f_free(NULL, out[i]);
	}
	dp_impair_free(im);
	CHECK_EQ_INT(live, 0);
}

static void test_parse(void)
{
	static const struct {
		const char *spec;
		int rc;
		uint32_t loss, dup, reorder, delay, jitter;
	} rows[] = {
		{ "loss=5%", 0, 50000, 0, 0, 0, 0 },
		{ "loss=0.5%,duplicate=1", 0, 5000, 10000, 0, 0, 0 },
		{ "delay=20ms,jitter=10ms,reorder=25%", 0, 0, 0, 250000,
		  20000, 10000 },
		{ "delay=1s", 0, 0, 0, 0, 1000000, 0 },
		{ "delay=300us", 0, 0, 0, 0, 300, 0 },
		{ "", 0, 0, 0, 0, 0, 0 },
		{ "loss=101%", -22, 0, 0, 0, 0, 0 },
		{ "loss=-1%", -22, 0, 0, 0, 0, 0 },
		{ "loss", -22, 0, 0, 0, 0, 0 },
		{ "drop=5%", -22, 0, 0, 0, 0, 0 },
		{ "delay=20", -22, 0, 0, 0, 0, 0 },
		{ "delay=200s", -22, 0, 0, 0, 0, 0 },
		{ "delay=1ms,jitter=2ms", -22, 0, 0, 0, 0, 0 },
		{ "limit=0", -22, 0, 0, 0, 0, 0 },
		{ "seed=x", -22, 0, 0, 0, 0, 0 },
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		struct dp_impair_config c;
		char err[200] = "";
		int rc = dp_impair_parse(rows[i].spec, &c, err, sizeof err);
		CHECK_MSG(rc == rows[i].rc, "'%s' -> %d (%s)", rows[i].spec,
			  rc, err);
		if (rc == 0) {
			CHECK_EQ_INT(c.loss_ppm, rows[i].loss);
			CHECK_EQ_INT(c.dup_ppm, rows[i].dup);
			CHECK_EQ_INT(c.reorder_ppm, rows[i].reorder);
			CHECK_EQ_INT(c.delay_us, rows[i].delay);
			CHECK_EQ_INT(c.jitter_us, rows[i].jitter);
		} else {
			CHECK(err[0] != '\0');
		}
	}
	struct dp_impair_config bad = { .jitter_us = 5, .delay_us = 1 };
	CHECK(dp_impair_create(&bad, &ops) == NULL);
	struct dp_impair_config bad2 = { .loss_ppm = 1000001 };
	CHECK(dp_impair_create(&bad2, &ops) == NULL);
	struct dp_impair_config z = { 0 };
	CHECK(dp_impair_config_is_null(&z));
}

int main(void)
{
	RUN(test_rates);
	RUN(test_order_and_delay);
	RUN(test_limit_and_full_out);
	RUN(test_parse);
	return CHECK_DONE();
}
