/*
 * dataplane/dp_impair.h - a netem-style impairment stage for test and
 * benchmark runs: loss, duplication, delay with jitter, and reordering of
 * the frames crossing a port in one direction.
 *
 * Why it exists: the kernels here are built without sch_netem, so the
 * impairments the integration tests need (5% loss, 25% reordering, 1%
 * duplication, 20 +/- 10 ms delay) are applied inside sluiced between the
 * port and the stack, in both directions; the Linux peer sees the same
 * impaired path it would behind tc netem. Off unless configured.
 *
 * Semantics follow netem's: each frame is dropped with probability loss;
 * a kept frame gets a copy with probability duplicate (the copy is
 * impaired independently but never duplicated again); a kept frame is
 * sent at once with probability reorder (only meaningful with a delay),
 * otherwise held for delay +/- jitter (uniform), so frames overtake each
 * other when jitter exceeds their spacing. Held frames leave in due-time
 * order (ties in arrival order). At most `limit` frames are held; beyond
 * that new frames are dropped (counted as overflow).
 *
 * Frames are opaque pointers (the dataplane's rte_mbuf); copy and free
 * come from the caller, so the module runs and unit-tests without EAL.
 * One instance per direction per lcore: not thread-safe. Random numbers
 * come from a seeded xorshift generator: a run is reproducible from its
 * seed. dp_impair_create() is the only allocation.
 */
#ifndef SLUICE_DATAPLANE_DP_IMPAIR_H
#define SLUICE_DATAPLANE_DP_IMPAIR_H

#include <stdbool.h>
#include <stdint.h>

struct dp_impair;

/* Probabilities in parts per million (0..1000000). */
struct dp_impair_config {
	uint32_t loss_ppm;
	uint32_t dup_ppm;
	uint32_t reorder_ppm;
	uint32_t delay_us;
	uint32_t jitter_us;   /* <= delay_us */
	uint32_t limit;       /* held frames; 0: 10000 */
	uint64_t seed;
};

struct dp_impair_ops {
	void *(*copy)(void *env, void *frame);  /* NULL when out of buffers */
	void (*free)(void *env, void *frame);
	void *env;
};

struct dp_impair_stats {
	uint64_t in, out;
	uint64_t lost, duplicated, reordered, overflow, copy_fail;
	uint32_t held;
};

/* NULL on a bad config (a probability above 1000000, jitter > delay) or
 * out of memory. ops is copied. */
struct dp_impair *dp_impair_create(const struct dp_impair_config *cfg,
				   const struct dp_impair_ops *ops);

/* Frees every held frame through ops->free, then the stage. NULL ok. */
void dp_impair_free(struct dp_impair *im);

/* True when cfg impairs nothing (all zero): callers skip the stage. */
bool dp_impair_config_is_null(const struct dp_impair_config *cfg);

/*
 * Offer n frames arriving at now_us (takes them all). Frames to pass on
 * right away (reordered, or undelayed when delay is 0) are written to
 * out[] (room entries); the rest are held. Returns the count written.
 * When out[] is full the remaining immediate frames are held with due
 * time now_us instead (they come out of the next dp_impair_pop()).
 */
unsigned dp_impair_push(struct dp_impair *im, void **frames, unsigned n,
			uint64_t now_us, void **out, unsigned room);

/* Up to room held frames whose time has come, in due order. */
unsigned dp_impair_pop(struct dp_impair *im, uint64_t now_us, void **out,
		       unsigned room);

/* Due time of the earliest held frame, or UINT64_MAX when none. */
uint64_t dp_impair_next_us(const struct dp_impair *im);

void dp_impair_stats(const struct dp_impair *im, struct dp_impair_stats *out);

/* Parse "loss=5%,reorder=25%,duplicate=1%,delay=20ms,jitter=10ms,
 * limit=10000,seed=1" (any subset, any order; percentages may have a
 * fraction "0.5%"; times take us/ms/s) into *cfg (zeroed first). Returns
 * 0, or -EINVAL with a message in err naming the bad item. */
int dp_impair_parse(const char *spec, struct dp_impair_config *cfg,
		    char *err, unsigned errsz);

#endif
