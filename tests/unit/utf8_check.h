/*
 * tests/unit/utf8_check.h - strict UTF-8 validity check for the charset
 * tests (tests/unit/test_charset.c, tests/fuzz/fuzz_charset.c): an
 * independent check of what scan_charset_to_utf8() returns.
 */
#ifndef SLUICE_TESTS_UTF8_CHECK_H
#define SLUICE_TESTS_UTF8_CHECK_H

#include <stddef.h>
#include <stdint.h>

/* 1 if p[0..n) is valid UTF-8: no overlongs, surrogates or > U+10FFFF. */
static int valid_utf8(const uint8_t *p, size_t n)
{
	size_t i = 0;
	while (i < n) {
		uint8_t c = p[i];
		size_t l = c < 0x80 ? 1 : c < 0xC2 ? 0 : c < 0xE0 ? 2
			 : c < 0xF0 ? 3 : c < 0xF5 ? 4 : 0;
		if (l == 0 || i + l > n)
			return 0;
		for (size_t k = 1; k < l; k++)
			if ((p[i + k] & 0xC0) != 0x80)
				return 0;
		if ((c == 0xE0 && p[i + 1] < 0xA0) ||
		    (c == 0xED && p[i + 1] >= 0xA0) ||
		    (c == 0xF0 && p[i + 1] < 0x90) ||
		    (c == 0xF4 && p[i + 1] >= 0x90))
			return 0;
		i += l;
	}
	return 1;
}

#endif
