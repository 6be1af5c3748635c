/*
 * scan/deadline.h - the scan deadline as seen from inside long loops.
 *
 * scan_message() publishes its context's deadline (scan_ctx_set_deadline)
 * in a thread-local for the duration of the scan and clears it before
 * returning. The base64 and QP decoders, the uuencode search, the HTML
 * reader and the digest loop call scan_deadline_check() every
 * SCAN_DEADLINE_STRIDE bytes of input and stop early when it says so,
 * returning what they have; the pipeline then sees the deadline passed
 * too (CLOCK_MONOTONIC only moves on) and returns -ETIME without using
 * the partial result. Outside a scan (tests, tools,
 * fuzzers calling a decoder directly) the deadline is 0 and a check costs
 * one thread-local load.
 *
 * The clock is read through the vDSO (about 20 ns, no system call): at one
 * read per 64 KiB that is far below 0.1% of any loop here.
 */
#ifndef SLUICE_SCAN_DEADLINE_H
#define SLUICE_SCAN_DEADLINE_H

#include <stdint.h>
#include <time.h>

#define SCAN_DEADLINE_STRIDE (64u * 1024u)

/* CLOCK_MONOTONIC ns of the scan running on this thread, 0 for none.
 * Written by scan_message() only. */
extern _Thread_local uint64_t scan_deadline_ns;

/* Has the deadline of this thread's scan passed? */
static inline int scan_deadline_check(void)
{
	if (scan_deadline_ns == 0)
		return 0;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec >=
	       scan_deadline_ns;
}

#endif
