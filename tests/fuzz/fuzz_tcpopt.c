/*
 * tests/fuzz/fuzz_tcpopt.c - tcpstack/tcpopt.c: parse any bytes; build
 * from what parsed; the build parses cleanly to the same options.
 */
#include "tcpstack/tcpopt.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(c)               \
	do {                     \
		if (!(c))        \
			abort(); \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tcp_opts o, r;
	(void)tcp_opts_parse(data, size, &o);
	REQUIRE(o.wscale <= TCP_WSCALE_MAX);
	REQUIRE(!!(o.present & TCP_OPTF_SACK) ==
		(o.sack_n >= 1 && o.sack_n <= TCP_SACK_MAX_BLOCKS));

	uint8_t buf[TCP_OPTS_MAX];
	unsigned w;
	int n = tcp_opts_build(&o, buf, sizeof(buf), &w);
	REQUIRE(n >= 0 && n <= TCP_OPTS_MAX && n % 4 == 0);
	REQUIRE(tcp_opts_parse(buf, (size_t)n, &r) == 0);
	uint32_t want = o.present;
	if (w == 0)
		want &= ~TCP_OPTF_SACK;
	REQUIRE(r.present == want && r.err == 0 && r.unknown == 0);
	if (want & TCP_OPTF_MSS)
		REQUIRE(r.mss == o.mss);
	if (want & TCP_OPTF_WSCALE)
		REQUIRE(r.wscale == o.wscale);
	if (want & TCP_OPTF_TS)
		REQUIRE(r.ts_val == o.ts_val && r.ts_ecr == o.ts_ecr);
	if (want & TCP_OPTF_SACK) {
		REQUIRE(r.sack_n == w && w <= o.sack_n);
		REQUIRE(memcmp(r.sack, o.sack, w * sizeof(r.sack[0])) == 0);
	}
	/* Building the re-parsed options again is a fixed point. */
	uint8_t buf2[TCP_OPTS_MAX];
	REQUIRE(tcp_opts_build(&r, buf2, sizeof(buf2), NULL) == n);
	REQUIRE(memcmp(buf, buf2, (size_t)n) == 0);
	return 0;
}
