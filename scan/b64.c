/* scan/b64.c - base64 decoder (see decode.h).
 *
 * Two speeds. While the decoder sits on a quantum boundary it takes a
 * fast path: 32 characters per step with AVX2 where the CPU has it, then
 * whole quads (four table look-ups, one combined validity test). The fast
 * path stops at the first byte that is not in the alphabet (line break,
 * padding, garbage) and the careful path takes that byte, and the rest of
 * its quantum, one at a time. On MIME text (76-character lines) the careful
 * path only ever sees the CRLF.
 *
 * Output room: every output byte needs at least 4/3 input characters, so
 * after consuming c of n input bytes at most c*3/4 bytes are written and
 * scan_b64_decoded_max(n) leaves >= (n-c)*3/4 + 3/4 bytes of room. The
 * AVX2 step stores 32 bytes (24 useful) and runs only while >= 48 input
 * bytes remain, i.e. with >= 36 bytes of room.
 */
#include "scan/deadline.h"
#include "scan/decode.h"

#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#define B64_X86 1
#include <immintrin.h>
#endif

#define C_WS  0x80 /* CR LF SP HT: skipped, not counted */
#define C_PAD 0x81 /* '=' */
#define C_BAD 0x82 /* anything else: skipped, counted */

/* Alphabet value 0..63, or one of the classes above (bit 7 set). */
static const uint8_t b64_cls[256] = {
	0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x80, 0x80, 0x82, 0x82, 0x80, 0x82, 0x82,
	0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82,
	0x80, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x3e, 0x82, 0x82, 0x82, 0x3f,
	0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x82, 0x82, 0x82, 0x81, 0x82, 0x82,
	0x82, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e,
	0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x82, 0x82, 0x82, 0x82, 0x82,
	0x82, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28,
	0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f, 0x30, 0x31, 0x32, 0x33, 0x82, 0x82, 0x82, 0x82, 0x82,
	0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82,
	0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82,
	0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82,
	0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82,
	0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82,
	0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82,
	0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82,
	0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82, 0x82,
};

#ifdef B64_X86
/* Decode 32-character blocks while at least 48 input bytes remain: all the
 * whole quads at the front of each block, skipping CRLF / LF met on a
 * quantum boundary. Stops at any other non-alphabet byte. Returns the
 * bytes consumed; *op advances by 3 per quad. */
__attribute__((target("avx2")))
static size_t b64_avx2(const uint8_t *p, const uint8_t *end, uint8_t **op)
{
	const uint8_t *start = p;
	uint8_t *o = *op;
	const __m256i c40 = _mm256_set1_epi8(0x40), c5b = _mm256_set1_epi8(0x5b);
	const __m256i c60 = _mm256_set1_epi8(0x60), c7b = _mm256_set1_epi8(0x7b);
	const __m256i c2f = _mm256_set1_epi8(0x2f), c3a = _mm256_set1_epi8(0x3a);
	const __m256i c2b = _mm256_set1_epi8(0x2b);
	const __m256i offA = _mm256_set1_epi8(-65), offa = _mm256_set1_epi8(-71);
	const __m256i off0 = _mm256_set1_epi8(4), offp = _mm256_set1_epi8(19);
	const __m256i offs = _mm256_set1_epi8(16);
	/* Two 6-bit values to a 12-bit pair, two pairs to 24 bits. */
	const __m256i mul6 = _mm256_set1_epi32(0x01400140);
	const __m256i mul12 = _mm256_set1_epi32(0x00011000);
	/* Big-endian 3 bytes out of each 32-bit lane, 12 bytes per half. */
	const __m256i pack = _mm256_setr_epi8(
		2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1,
		2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1);
	const __m256i join = _mm256_setr_epi32(0, 1, 2, 4, 5, 6, 3, 7);

	while (end - p >= 48) {
		__m256i c = _mm256_loadu_si256((const __m256i *)(const void *)p);
		/* Signed compares: bytes >= 0x80 are negative, in no range. */
		__m256i up = _mm256_and_si256(_mm256_cmpgt_epi8(c, c40),
					      _mm256_cmpgt_epi8(c5b, c));
		__m256i lo = _mm256_and_si256(_mm256_cmpgt_epi8(c, c60),
					      _mm256_cmpgt_epi8(c7b, c));
		__m256i dg = _mm256_and_si256(_mm256_cmpgt_epi8(c, c2f),
					      _mm256_cmpgt_epi8(c3a, c));
		__m256i pl = _mm256_cmpeq_epi8(c, c2b);
		__m256i sl = _mm256_cmpeq_epi8(c, c2f);
		__m256i ok = _mm256_or_si256(_mm256_or_si256(up, lo),
					     _mm256_or_si256(dg, _mm256_or_si256(pl, sl)));
		uint32_t m = (uint32_t)_mm256_movemask_epi8(ok);
		/* Whole quads of alphabet characters at the front. */
		unsigned k = m == 0xffffffffu ? 32 : (unsigned)__builtin_ctz(~m) & ~3u;
		if (k == 0) {
			/* A line break on a quantum boundary stays here. */
			if (p[0] == '\r' && p[1] == '\n')
				p += 2;
			else if (p[0] == '\n')
				p += 1;
			else
				break;
			continue;
		}
		__m256i off = _mm256_or_si256(
			_mm256_or_si256(_mm256_and_si256(up, offA),
					_mm256_and_si256(lo, offa)),
			_mm256_or_si256(_mm256_and_si256(dg, off0),
					_mm256_or_si256(_mm256_and_si256(pl, offp),
							_mm256_and_si256(sl, offs))));
		__m256i v = _mm256_add_epi8(c, off);
		v = _mm256_maddubs_epi16(v, mul6);
		v = _mm256_madd_epi16(v, mul12);
		v = _mm256_shuffle_epi8(v, pack);
		v = _mm256_permutevar8x32_epi32(v, join);
		/* 32 bytes stored, k/4*3 kept: the rest is overwritten later
		 * or lies beyond the result (room: see the top of the file). */
		_mm256_storeu_si256((__m256i *)(void *)o, v);
		p += k;
		o += k / 4 * 3;
	}
	*op = o;
	return (size_t)(p - start);
}

static int b64_have_avx2(void)
{
	static int have = -1; /* benign race: every thread stores the same */
	if (have < 0) {
		__builtin_cpu_init();
		have = __builtin_cpu_supports("avx2") ? 1 : 0;
	}
	return have;
}
#endif

/* Whole quads while all four characters are in the alphabet, skipping
 * CRLF / LF between quads. */
static size_t b64_quads(const uint8_t *p, const uint8_t *end, uint8_t **op)
{
	const uint8_t *start = p;
	uint8_t *o = *op;

	for (;;) {
		while (end - p >= 8) {
			uint32_t a = b64_cls[p[0]], b = b64_cls[p[1]];
			uint32_t c = b64_cls[p[2]], d = b64_cls[p[3]];
			uint32_t e = b64_cls[p[4]], f = b64_cls[p[5]];
			uint32_t g = b64_cls[p[6]], h = b64_cls[p[7]];
			if ((a | b | c | d | e | f | g | h) & 0x80)
				break;
			uint32_t x = a << 18 | b << 12 | c << 6 | d;
			uint32_t y = e << 18 | f << 12 | g << 6 | h;
			o[0] = (uint8_t)(x >> 16);
			o[1] = (uint8_t)(x >> 8);
			o[2] = (uint8_t)x;
			o[3] = (uint8_t)(y >> 16);
			o[4] = (uint8_t)(y >> 8);
			o[5] = (uint8_t)y;
			p += 8;
			o += 6;
		}
		if (end - p >= 4) {
			uint32_t a = b64_cls[p[0]], b = b64_cls[p[1]];
			uint32_t c = b64_cls[p[2]], d = b64_cls[p[3]];
			if (!((a | b | c | d) & 0x80)) {
				uint32_t x = a << 18 | b << 12 | c << 6 | d;
				o[0] = (uint8_t)(x >> 16);
				o[1] = (uint8_t)(x >> 8);
				o[2] = (uint8_t)x;
				p += 4;
				o += 3;
				continue;
			}
		}
		/* A line break on a quantum boundary stays on the fast path. */
		if (end - p >= 2 && p[0] == '\r' && p[1] == '\n')
			p += 2;
		else if (end - p >= 1 && p[0] == '\n')
			p += 1;
		else
			break;
	}
	*op = o;
	return (size_t)(p - start);
}

static size_t b64_run(const uint8_t *in, size_t n, uint8_t *out,
		      struct scan_decode_stats *st, int simd)
{
	const uint8_t *p = in, *end = in + n;
	uint8_t *o = out;
	uint32_t acc = 0;
	int q = 0;        /* characters in the current quantum */
	int pad_need = 0; /* '=' still expected after "xx=" */
	int padded = 0;   /* saw padding; data after it is bad_padding */
	size_t garbage = 0;
	int bad_padding = 0;
	const uint8_t *check = p; /* next scan_deadline_check() */

	(void)simd;
	for (;;) {
		if (p >= check && p < end) {
			if (scan_deadline_check())
				break; /* the pipeline drops the result */
			check = (size_t)(end - p) > SCAN_DEADLINE_STRIDE ? p + SCAN_DEADLINE_STRIDE : end;
		}
		if (q == 0 && !padded) {
			size_t k;
			do {
				k = 0;
#ifdef B64_X86
				if (simd)
					k += b64_avx2(p, end, &o);
#endif
				k += b64_quads(p + k, end, &o);
				p += k;
			} while (k != 0);
		}
		if (p == end)
			break;
		uint8_t c = b64_cls[*p++];
		if (c < 64) {
			if (padded) {
				bad_padding = 1;
				padded = 0;
				pad_need = 0;
			}
			acc = acc << 6 | c;
			if (++q == 4) {
				o[0] = (uint8_t)(acc >> 16);
				o[1] = (uint8_t)(acc >> 8);
				o[2] = (uint8_t)acc;
				o += 3;
				q = 0;
				acc = 0;
			}
		} else if (c == C_WS) {
			continue;
		} else if (c == C_PAD) {
			if (q == 2) {
				*o++ = (uint8_t)(acc >> 4);
				pad_need = 1;
			} else if (q == 3) {
				*o++ = (uint8_t)(acc >> 10);
				*o++ = (uint8_t)(acc >> 2);
			} else if (pad_need) {
				pad_need = 0;
			} else {
				/* '=' at a quantum start, after one char,
				 * or one '=' too many. */
				bad_padding = 1;
			}
			padded = 1;
			q = 0;
			acc = 0;
		} else {
			garbage++;
		}
	}
	if (q == 2) {
		*o++ = (uint8_t)(acc >> 4);
	} else if (q == 3) {
		*o++ = (uint8_t)(acc >> 10);
		*o++ = (uint8_t)(acc >> 2);
	}
	if (st != NULL) {
		st->garbage = garbage;
		st->truncated = q != 0;
		st->bad_padding = bad_padding || pad_need;
	}
	return (size_t)(o - out);
}

size_t scan_b64_decode(const uint8_t *in, size_t n, uint8_t *out,
		       struct scan_decode_stats *st)
{
#ifdef B64_X86
	return b64_run(in, n, out, st, b64_have_avx2());
#else
	return b64_run(in, n, out, st, 0);
#endif
}

size_t scan_b64_decode_portable(const uint8_t *in, size_t n, uint8_t *out,
				struct scan_decode_stats *st)
{
	return b64_run(in, n, out, st, 0);
}
