/*
 * dataplane/dp_impair.c - netem-style loss, duplication, delay, jitter and
 * reordering (see dp_impair.h). Held frames sit in a binary min-heap keyed
 * by (due time, arrival number), so equal due times keep arrival order.
 */
#include "dataplane/dp_impair.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PPM 1000000u

struct held {
	uint64_t due;
	uint64_t order;
	void *frame;
};

struct dp_impair {
	struct dp_impair_config cfg;
	struct dp_impair_ops ops;
	uint64_t rng;
	uint64_t order;
	uint32_t n;              /* frames in heap */
	struct dp_impair_stats st;
	struct held heap[];      /* cfg.limit entries */
};

static uint64_t rnd(struct dp_impair *im)
{
	/* xorshift64* */
	uint64_t x = im->rng;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	im->rng = x;
	return x * UINT64_C(2685821657736338717);
}

static bool chance(struct dp_impair *im, uint32_t ppm)
{
	if (ppm == 0)
		return false;
	return (uint32_t)((rnd(im) >> 32) % PPM) < ppm;
}

static bool before(const struct held *a, const struct held *b)
{
	return a->due < b->due || (a->due == b->due && a->order < b->order);
}

static void sift_up(struct dp_impair *im, uint32_t i)
{
	while (i > 0) {
		uint32_t parent = (i - 1) / 2;
		if (!before(&im->heap[i], &im->heap[parent]))
			break;
		struct held t = im->heap[i];
		im->heap[i] = im->heap[parent];
		im->heap[parent] = t;
		i = parent;
	}
}

static void sift_down(struct dp_impair *im, uint32_t i)
{
	for (;;) {
		uint32_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < im->n && before(&im->heap[l], &im->heap[m]))
			m = l;
		if (r < im->n && before(&im->heap[r], &im->heap[m]))
			m = r;
		if (m == i)
			return;
		struct held t = im->heap[i];
		im->heap[i] = im->heap[m];
		im->heap[m] = t;
		i = m;
	}
}

static void hold(struct dp_impair *im, void *frame, uint64_t due)
{
	if (im->n == im->cfg.limit) {
		im->st.overflow++;
		im->ops.free(im->ops.env, frame);
		return;
	}
	im->heap[im->n] = (struct held){ due, im->order++, frame };
	sift_up(im, im->n++);
}

bool dp_impair_config_is_null(const struct dp_impair_config *cfg)
{
	return cfg->loss_ppm == 0 && cfg->dup_ppm == 0 &&
	       cfg->reorder_ppm == 0 && cfg->delay_us == 0 &&
	       cfg->jitter_us == 0;
}

struct dp_impair *dp_impair_create(const struct dp_impair_config *cfg,
				   const struct dp_impair_ops *ops)
{
	if (!cfg || !ops || !ops->copy || !ops->free ||
	    cfg->loss_ppm > PPM || cfg->dup_ppm > PPM ||
	    cfg->reorder_ppm > PPM || cfg->jitter_us > cfg->delay_us)
		return NULL;
	uint32_t limit = cfg->limit ? cfg->limit : 10000;
	struct dp_impair *im = calloc(1, sizeof(*im) +
					     (size_t)limit * sizeof(struct held));
	if (!im)
		return NULL;
	im->cfg = *cfg;
	im->cfg.limit = limit;
	im->ops = *ops;
	im->rng = cfg->seed ? cfg->seed : UINT64_C(0x9e3779b97f4a7c15);
	return im;
}

void dp_impair_free(struct dp_impair *im)
{
	if (!im)
		return;
	for (uint32_t i = 0; i < im->n; i++)
		im->ops.free(im->ops.env, im->heap[i].frame);
	free(im);
}

/* One frame after the loss and duplication decisions. */
static void place(struct dp_impair *im, void *frame, uint64_t now,
		  void **out, unsigned room, unsigned *k)
{
	const struct dp_impair_config *c = &im->cfg;
	bool now_out = c->delay_us == 0;
	if (!now_out && chance(im, c->reorder_ppm)) {
		im->st.reordered++;
		now_out = true;
	}
	if (now_out) {
		if (*k < room) {
			out[(*k)++] = frame;
			im->st.out++;
		} else {
			hold(im, frame, now);
		}
		return;
	}
	uint64_t d = c->delay_us;
	if (c->jitter_us) {
		uint64_t span = 2 * (uint64_t)c->jitter_us + 1;
		d = d - c->jitter_us + (rnd(im) >> 11) % span;
	}
	hold(im, frame, now + d);
}

unsigned dp_impair_push(struct dp_impair *im, void **frames, unsigned n,
			uint64_t now_us, void **out, unsigned room)
{
	unsigned k = 0;
	for (unsigned i = 0; i < n; i++) {
		void *f = frames[i];
		im->st.in++;
		if (chance(im, im->cfg.loss_ppm)) {
			im->st.lost++;
			im->ops.free(im->ops.env, f);
			continue;
		}
		if (chance(im, im->cfg.dup_ppm)) {
			void *copy = im->ops.copy(im->ops.env, f);
			if (copy) {
				im->st.duplicated++;
				place(im, copy, now_us, out, room, &k);
			} else {
				im->st.copy_fail++;
			}
		}
		place(im, f, now_us, out, room, &k);
	}
	return k;
}

unsigned dp_impair_pop(struct dp_impair *im, uint64_t now_us, void **out,
		       unsigned room)
{
	unsigned k = 0;
	while (k < room && im->n > 0 && im->heap[0].due <= now_us) {
		out[k++] = im->heap[0].frame;
		im->heap[0] = im->heap[--im->n];
		sift_down(im, 0);
	}
	im->st.out += k;
	return k;
}

uint64_t dp_impair_next_us(const struct dp_impair *im)
{
	return im->n ? im->heap[0].due : UINT64_MAX;
}

void dp_impair_stats(const struct dp_impair *im, struct dp_impair_stats *out)
{
	*out = im->st;
	out->held = im->n;
}

/* "5%", "0.5%", "5" (percent) -> ppm. */
static int parse_pct(const char *v, uint32_t *ppm)
{
	char *end;
	double d = strtod(v, &end);
	if (end == v || (*end && strcmp(end, "%") != 0) || d < 0 || d > 100)
		return -EINVAL;
	*ppm = (uint32_t)(d * 10000.0 + 0.5);
	return 0;
}

/* "20ms", "500us", "1s" -> microseconds (< 100 s). */
static int parse_time(const char *v, uint32_t *us)
{
	char *end;
	double d = strtod(v, &end);
	double mult;
	if (end == v || d < 0)
		return -EINVAL;
	if (strcmp(end, "us") == 0)
		mult = 1;
	else if (strcmp(end, "ms") == 0)
		mult = 1e3;
	else if (strcmp(end, "s") == 0)
		mult = 1e6;
	else
		return -EINVAL;
	if (d * mult > 100e6)
		return -EINVAL;
	*us = (uint32_t)(d * mult + 0.5);
	return 0;
}

int dp_impair_parse(const char *spec, struct dp_impair_config *cfg,
		    char *err, unsigned errsz)
{
	memset(cfg, 0, sizeof(*cfg));
	char buf[512];
	if (strlen(spec) >= sizeof(buf)) {
		snprintf(err, errsz, "impairment spec longer than %zu bytes",
			 sizeof(buf) - 1);
		return -EINVAL;
	}
	strcpy(buf, spec);
	char *save = NULL;
	for (char *item = strtok_r(buf, ",", &save); item;
	     item = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(item, '=');
		int rc = -EINVAL;
		if (eq) {
			*eq = '\0';
			const char *k = item, *v = eq + 1;
			char *end;
			if (strcmp(k, "loss") == 0)
				rc = parse_pct(v, &cfg->loss_ppm);
			else if (strcmp(k, "duplicate") == 0)
				rc = parse_pct(v, &cfg->dup_ppm);
			else if (strcmp(k, "reorder") == 0)
				rc = parse_pct(v, &cfg->reorder_ppm);
			else if (strcmp(k, "delay") == 0)
				rc = parse_time(v, &cfg->delay_us);
			else if (strcmp(k, "jitter") == 0)
				rc = parse_time(v, &cfg->jitter_us);
			else if (strcmp(k, "limit") == 0) {
				unsigned long l = strtoul(v, &end, 10);
				if (*v && !*end && l >= 1 && l <= 1000000) {
					cfg->limit = (uint32_t)l;
					rc = 0;
				}
			} else if (strcmp(k, "seed") == 0) {
				cfg->seed = strtoull(v, &end, 10);
				rc = (*v && !*end) ? 0 : -EINVAL;
			}
			*eq = '=';
		}
		if (rc < 0) {
			snprintf(err, errsz,
				 "bad impairment item '%s'; use loss=P%%, "
				 "duplicate=P%%, reorder=P%%, delay=T, jitter=T "
				 "(T in us/ms/s), limit=N, seed=N", item);
			return -EINVAL;
		}
	}
	if (cfg->jitter_us > cfg->delay_us) {
		snprintf(err, errsz, "impairment jitter (%u us) is larger than "
			 "the delay (%u us); lower the jitter", cfg->jitter_us,
			 cfg->delay_us);
		return -EINVAL;
	}
	return 0;
}
