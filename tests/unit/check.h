/*
 * tests/unit/check.h - a tiny table-driven test harness.
 *
 * Each test binary defines test functions and lists them in main() with
 * RUN(fn). CHECK* macros record a failure with file:line and continue.
 * The binary prints one "PASS name" / "FAIL name" line per test, then
 * "N passed, N failed", and exits non-zero if anything failed. tests/run
 * adds the per-test lines up across binaries.
 */
#ifndef SLUICE_TESTS_CHECK_H
#define SLUICE_TESTS_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_failures_;  /* failures in the current test */
static int check_passed_, check_failed_;

#define CHECK(cond)                                                       \
	do {                                                              \
		if (!(cond)) {                                            \
			fprintf(stderr, "  %s:%d: CHECK(%s) failed\n",    \
				__FILE__, __LINE__, #cond);               \
			check_failures_++;                                \
		}                                                         \
	} while (0)

#define CHECK_MSG(cond, ...)                                              \
	do {                                                              \
		if (!(cond)) {                                            \
			fprintf(stderr, "  %s:%d: CHECK(%s) failed: ",    \
				__FILE__, __LINE__, #cond);               \
			fprintf(stderr, __VA_ARGS__);                     \
			fputc('\n', stderr);                              \
			check_failures_++;                                \
		}                                                         \
	} while (0)

#define CHECK_EQ_INT(a, b)                                                \
	do {                                                              \
		long long a_ = (long long)(a), b_ = (long long)(b);       \
		if (a_ != b_) {                                           \
			fprintf(stderr, "  %s:%d: %s == %lld, want %lld\n", \
				__FILE__, __LINE__, #a, a_, b_);          \
			check_failures_++;                                \
		}                                                         \
	} while (0)

#define CHECK_EQ_STR(a, b)                                                \
	do {                                                              \
		const char *a_ = (a), *b_ = (b);                          \
		if (a_ == NULL || b_ == NULL ? a_ != b_                   \
					     : strcmp(a_, b_) != 0) {     \
			fprintf(stderr,                                   \
				"  %s:%d: %s == \"%s\", want \"%s\"\n",   \
				__FILE__, __LINE__, #a,                   \
				a_ ? a_ : "(null)", b_ ? b_ : "(null)");  \
			check_failures_++;                                \
		}                                                         \
	} while (0)

#define CHECK_EQ_MEM(a, alen, b, blen)                                    \
	do {                                                              \
		size_t al_ = (alen), bl_ = (blen);                        \
		if (al_ != bl_ || memcmp((a), (b), al_) != 0) {           \
			fprintf(stderr,                                   \
				"  %s:%d: %s (%zu bytes) differs from %s " \
				"(%zu bytes)\n",                          \
				__FILE__, __LINE__, #a, al_, #b, bl_);    \
			check_failures_++;                                \
		}                                                         \
	} while (0)

#define RUN(fn)                                                           \
	do {                                                              \
		check_failures_ = 0;                                      \
		fn();                                                     \
		if (check_failures_ == 0) {                               \
			printf("PASS %s\n", #fn);                         \
			check_passed_++;                                  \
		} else {                                                  \
			printf("FAIL %s\n", #fn);                         \
			check_failed_++;                                  \
		}                                                         \
		fflush(stdout);                                           \
	} while (0)

#define CHECK_DONE()                                                      \
	(printf("%d passed, %d failed\n", check_passed_, check_failed_),  \
	 check_failed_ == 0 ? 0 : 1)

#endif
