/* scan/qp.c - quoted-printable decoder, RFC 2045 6.7 (see decode.h).
 *
 *   "=XX"                   hex escape, either case;
 *   "=" [SP/HT]* line-end   soft line break, all of it removed;
 *   "=" anything else       kept literally, counted as garbage;
 *   [SP/HT]+ line-end       trailing whitespace, removed (rule 3);
 * where line-end is LF, CR or the end of the input. Hard line breaks are
 * copied as they are (CRLF stays CRLF, a bare LF stays LF). The output is
 * never longer than the input.
 *
 * Speed: only '=', CR and LF stop the copy loop (eight bytes at a time
 * while none of the eight is one of them). Trailing whitespace is taken
 * back from the output when a line ends, never past `keep`: the end of
 * the last escape, soft break or line break, so "=20" and whitespace
 * before a soft break survive.
 */
#include "scan/deadline.h"
#include "scan/decode.h"

#include <string.h>

/* Hex digit value (only read for hex digits). */
static const uint8_t qp_hex[256] = {
	['0'] = 0,  ['1'] = 1,  ['2'] = 2,  ['3'] = 3,  ['4'] = 4,
	['5'] = 5,  ['6'] = 6,  ['7'] = 7,  ['8'] = 8,  ['9'] = 9,
	['A'] = 10, ['B'] = 11, ['C'] = 12, ['D'] = 13, ['E'] = 14,
	['F'] = 15, ['a'] = 10, ['b'] = 11, ['c'] = 12, ['d'] = 13,
	['e'] = 14, ['f'] = 15,
};

/* '=', CR, LF: the bytes that stop the copy loop. */
static const uint8_t qp_stop[256] = { ['='] = 1, ['\r'] = 1, ['\n'] = 1 };

static int qp_is_hex(uint8_t c)
{
	return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

static int qp_is_ws(uint8_t c)
{
	return c == ' ' || c == '\t';
}

/* Non-zero when some byte of x equals b (SWAR zero-byte test; exact as a
 * yes/no answer). */
static uint64_t qp_has(uint64_t x, uint8_t b)
{
	const uint64_t ones = 0x0101010101010101ull;
	uint64_t y = x ^ (ones * b);
	return (y - ones) & ~y & (ones << 7);
}

size_t scan_qp_decode(const uint8_t *in, size_t n, uint8_t *out,
		      struct scan_decode_stats *st)
{
	const uint8_t *p = in, *end = in + n;
	uint8_t *o = out, *keep = out;
	size_t garbage = 0;
	const uint8_t *check = p; /* next scan_deadline_check() */

	while (p < end) {
		if (p >= check) {
			if (scan_deadline_check())
				break; /* the pipeline drops the result */
			check = (size_t)(end - p) > SCAN_DEADLINE_STRIDE ? p + SCAN_DEADLINE_STRIDE : end;
		}
		while (end - p >= 8) {
			uint64_t x;
			memcpy(&x, p, 8);
			if (qp_has(x, '=') | qp_has(x, '\r') | qp_has(x, '\n'))
				break;
			memcpy(o, p, 8);
			p += 8;
			o += 8;
		}
		while (p < end && !qp_stop[*p])
			*o++ = *p++;
		if (p == end)
			break;
		if (*p != '=') {                  /* hard line break */
			while (o > keep && qp_is_ws(o[-1]))
				o--;
			*o++ = *p++;
			keep = o;
			continue;
		}
		if (end - p >= 3 && qp_is_hex(p[1]) && qp_is_hex(p[2])) {
			*o++ = (uint8_t)(qp_hex[p[1]] << 4 | qp_hex[p[2]]);
			p += 3;
			keep = o;
			continue;
		}
		const uint8_t *q = p + 1;
		while (q < end && qp_is_ws(*q))
			q++;
		if (q == end) {                   /* soft break at the end */
			p = end;
		} else if (*q == '\n') {
			p = q + 1;
		} else if (*q == '\r') {
			p = q + 1;
			if (p < end && *p == '\n')
				p++;
		} else {                          /* invalid escape */
			*o++ = '=';
			garbage++;
			p++;
		}
		keep = o;
	}
	while (o > keep && qp_is_ws(o[-1]))       /* the end is a line end */
		o--;
	if (st != NULL) {
		st->garbage = garbage;
		st->truncated = 0;
		st->bad_padding = 0;
	}
	return (size_t)(o - out);
}
