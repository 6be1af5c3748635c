/* tests/fuzz/fuzz_archive.c - scan/archive.c: any bytes opened as a
 * container and walked recursively (as the pipeline does) with small
 * budgets in force; the input's first bytes also go through the path
 * sanitiser. Checks the walker's promises: budgets never exceeded, paths
 * bounded, valid UTF-8 without control characters, encrypted members
 * carry no bytes, every event has a name and a class. */
#include "scan/archive.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define DEPTH 6

static struct scan_arc_buf bufs[DEPTH + 2]; /* warm across inputs */
static volatile unsigned sink;

static void check_path(const char *p)
{
	size_t n = strlen(p);
	if (n == 0 || n >= SCAN_ARC_PATH_MAX)
		abort();
	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)p[i];
		if (c < 0x20 || c == 0x7F || c == '\\')
			abort();
		size_t k = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
		if (c >= 0x80 && (c < 0xC2 || c > 0xF4 || i + k > n))
			abort();
		for (size_t j = 1; j < k; j++)
			if (((unsigned char)p[i + j] & 0xC0) != 0x80)
				abort();
		i += k;
	}
	if (p[0] == '/')
		abort();
}

static void check_event(const struct scan_arc_event *ev)
{
	if (ev->kind == SCAN_ARC_EV_NONE)
		return;
	if ((unsigned)ev->kind >= SCAN_ARC_EV_COUNT ||
	    scan_arc_event_name(ev->kind)[0] == '\0' ||
	    scan_arc_event_class(ev->kind) == SCAN_ARC_CLASS_NONE)
		abort();
	for (const char *s = ev->detail; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7E)
			abort();
}

static void walk(const uint8_t *d, size_t n, unsigned depth,
		 struct scan_arc_budget *b)
{
	struct scan_arc *w;
	struct scan_arc_event ev;
	int rc = scan_arc_open(&w, d, n, depth, b, &bufs[depth], &ev);
	check_event(&ev);
	if (rc < 0) {
		if (rc != -ECANCELED && rc != -ENOMEM)
			abort();
		if (rc == -ECANCELED && ev.kind == SCAN_ARC_EV_NONE)
			abort();
		return;
	}
	struct scan_arc_member m;
	while ((rc = scan_arc_next(w, &m, &ev)) == 1) {
		check_event(&ev);
		check_path(m.path);
		if (m.len > b->max_member_size || b->bytes > b->max_bytes)
			abort();
		if ((m.flags & SCAN_ARC_M_ENCRYPTED) && m.len != 0)
			abort();
		unsigned s = 0;
		for (size_t i = 0; i < m.len; i += 4096)
			s += m.data[i];
		if (m.len > 0)
			s += m.data[m.len - 1];
		sink = s;
		if (depth <= DEPTH)
			walk(m.data, m.len, depth + 1, b);
	}
	check_event(&ev);
	if (rc < 0 && rc != -ENOMEM)
		abort();
	scan_arc_close(w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct scan_arc_budget b;
	scan_arc_budget_init(&b);
	b.max_bytes = 8u << 20;
	b.max_members = 500;
	b.max_member_size = 2u << 20;
	b.max_ratio = 100;
	b.ratio_floor = 64u << 10;
	b.max_depth = DEPTH;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	b.deadline_ns = (uint64_t)ts.tv_sec * 1000000000ull +
			(uint64_t)ts.tv_nsec + 2000000000ull;
	walk(data, size, 1, &b);
	if (b.bytes > b.max_bytes || b.deepest > DEPTH)
		abort();

	char raw[1024], out[SCAN_ARC_PATH_MAX];
	size_t l = size < sizeof(raw) - 1 ? size : sizeof(raw) - 1;
	memcpy(raw, data, l);
	raw[l] = '\0';
	scan_arc_sanitise_path(raw, out, sizeof(out));
	check_path(out);
	scan_arc_sanitise_path(raw, out, 16);
	check_path(out);
	return 0;
}
