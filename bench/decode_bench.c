/* bench/decode_bench.c - transfer decoder throughput.
 *
 * Builds ~64 MiB of MIME-style base64 (random bytes, 76-character lines,
 * CRLF) and ~64 MiB of quoted-printable text, decodes each several times
 * and prints the median throughput in GB/s of encoded input (1 GB = 1e9
 * bytes; per CPU second of the thread, and per wall-clock second) for
 * scan_b64_decode(), its portable (no SIMD) variant, a naive byte-at-a-time
 * decoder measured in the same run, and scan_qp_decode().
 *
 * usage: decode-bench [runs] [MiB]      (defaults 7, 64)
 */
#include "scan/decode.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t rng = 0x243f6a8885a308d3ull;
static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static double clock_s(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* The textbook decoder: one byte at a time, table look-up, bit buffer. */
static size_t naive_b64(const uint8_t *in, size_t n, uint8_t *out)
{
	static signed char val[256];
	static int init;
	const char *al =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	if (!init) {
		memset(val, -1, sizeof(val));
		for (int i = 0; i < 64; i++)
			val[(uint8_t)al[i]] = (signed char)i;
		init = 1;
	}
	uint32_t acc = 0;
	int bits = 0;
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		int v = val[in[i]];
		if (v < 0)
			continue;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (uint8_t)(acc >> bits);
		}
	}
	return o;
}

typedef size_t (*dec_fn)(const uint8_t *, size_t, uint8_t *);

static size_t run_b64(const uint8_t *in, size_t n, uint8_t *out)
{
	return scan_b64_decode(in, n, out, NULL);
}
static size_t run_b64_portable(const uint8_t *in, size_t n, uint8_t *out)
{
	return scan_b64_decode_portable(in, n, out, NULL);
}
static size_t run_qp(const uint8_t *in, size_t n, uint8_t *out)
{
	return scan_qp_decode(in, n, out, NULL);
}

struct speed {
	double cpu;  /* median GB/s over this thread's CPU time */
	double wall; /* median GB/s over wall-clock time */
};

/* Medians over runs; *outlen gets the decoded size. CPU time is the
 * per-core figure; wall time also counts time the scheduler gave to
 * others (the build machines are shared). */
static struct speed measure(dec_fn f, const uint8_t *in, size_t n,
			    uint8_t *out, int runs, size_t *outlen)
{
	double c[64], w[64];
	if (runs > 64)
		runs = 64;
	*outlen = f(in, n, out); /* warm-up: fault the output pages in */
	for (int r = 0; r < runs; r++) {
		double c0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
		double w0 = clock_s(CLOCK_MONOTONIC);
		*outlen = f(in, n, out);
		w[r] = (double)n / (clock_s(CLOCK_MONOTONIC) - w0) / 1e9;
		c[r] = (double)n / (clock_s(CLOCK_THREAD_CPUTIME_ID) - c0) / 1e9;
	}
	qsort(c, (size_t)runs, sizeof(c[0]), cmp_double);
	qsort(w, (size_t)runs, sizeof(w[0]), cmp_double);
	return (struct speed){ c[runs / 2], w[runs / 2] };
}

static size_t make_b64(uint8_t *e, size_t want, uint8_t *raw, size_t *rawlen)
{
	static const char al[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t o = 0, r = 0;
	while (o + 78 <= want) { /* 57 bytes -> 76 chars + CRLF */
		for (int q = 0; q < 19; q++) {
			uint32_t v = (uint32_t)rnd() & 0xffffff;
			raw[r++] = (uint8_t)(v >> 16);
			raw[r++] = (uint8_t)(v >> 8);
			raw[r++] = (uint8_t)v;
			e[o++] = (uint8_t)al[v >> 18];
			e[o++] = (uint8_t)al[(v >> 12) & 63];
			e[o++] = (uint8_t)al[(v >> 6) & 63];
			e[o++] = (uint8_t)al[v & 63];
		}
		e[o++] = '\r';
		e[o++] = '\n';
	}
	*rawlen = r;
	return o;
}

/* Mostly-ASCII prose with ~3% 8-bit bytes (=XX) and soft breaks. */
static size_t make_qp(uint8_t *e, size_t want)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;
	int col = 0;
	while (o + 16 <= want) {
		uint64_t x = rnd();
		int c;
		if (x % 100 < 3)
			c = 0x80 | (int)((x >> 8) & 0x7f);
		else if (x % 100 < 18)
			c = ' ';
		else
			c = 'a' + (int)((x >> 8) % 26);
		if (col >= 72) {
			e[o++] = '=';
			e[o++] = '\r';
			e[o++] = '\n';
			col = 0;
		}
		if (c >= 0x80 || c == '=') {
			e[o++] = '=';
			e[o++] = (uint8_t)hex[c >> 4];
			e[o++] = (uint8_t)hex[c & 15];
			col += 3;
		} else {
			e[o++] = (uint8_t)c;
			col++;
		}
	}
	return o;
}

int main(int argc, char **argv)
{
	int runs = argc > 1 ? atoi(argv[1]) : 7;
	size_t mib = argc > 2 ? (size_t)atol(argv[2]) : 64;
	if (runs < 1)
		runs = 1;
	size_t want = mib << 20;
	uint8_t *e = malloc(want), *raw = malloc(want), *out = malloc(want);
	if (e == NULL || raw == NULL || out == NULL) {
		fprintf(stderr, "decode-bench: out of memory\n");
		return 1;
	}
	size_t rawlen, len;
	size_t n = make_b64(e, want, raw, &rawlen);

	struct speed fast = measure(run_b64, e, n, out, runs, &len);
	if (len != rawlen || memcmp(out, raw, len) != 0) {
		fprintf(stderr, "decode-bench: scan_b64_decode wrong output\n");
		return 1;
	}
	struct speed port = measure(run_b64_portable, e, n, out, runs, &len);
	if (len != rawlen || memcmp(out, raw, len) != 0) {
		fprintf(stderr, "decode-bench: portable wrong output\n");
		return 1;
	}
	struct speed naive = measure(naive_b64, e, n, out, runs, &len);
	if (len != rawlen || memcmp(out, raw, len) != 0) {
		fprintf(stderr, "decode-bench: naive wrong output\n");
		return 1;
	}
	printf("base64  %6.1f MiB, 76-char CRLF lines, median of %d\n",
	       (double)n / 1048576.0, runs);
	printf("                            GB/s (cpu)  GB/s (wall)\n");
	printf("  scan_b64_decode           %8.2f  %9.2f\n", fast.cpu, fast.wall);
	printf("  scan_b64_decode_portable  %8.2f  %9.2f\n", port.cpu, port.wall);
	printf("  naive byte-at-a-time      %8.2f  %9.2f\n", naive.cpu, naive.wall);
	printf("  ratio scan/naive          %7.1fx  (portable/naive %.1fx)\n",
	       fast.cpu / naive.cpu, port.cpu / naive.cpu);

	n = make_qp(e, want);
	struct speed qp = measure(run_qp, e, n, out, runs, &len);
	printf("quoted-printable %6.1f MiB -> %.1f MiB, median of %d\n",
	       (double)n / 1048576.0, (double)len / 1048576.0, runs);
	printf("  scan_qp_decode            %8.2f  %9.2f\n", qp.cpu, qp.wall);
	free(e);
	free(raw);
	free(out);
	return 0;
}
