/*
 * tests/fuzz/fuzz_sig_clamav.c - ClamAV signature lines from untrusted
 * files: .ndb translation and .hdb/.hsb parsing.
 *
 * The first input byte picks the parser (even: ndb line, odd: hash line);
 * the rest is the line. Checks, beyond the sanitizers: translation never
 * overflows the scan_sig_expr_bound() buffer (no -ENOSPC), accepted body
 * signatures have sane lengths and plans, every error has a reason, and
 * Hyperscan's parser survives whatever expression we produce.
 */
#include "scan/sig_clamav.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <hs.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 4096)
		return 0;
	const char *line = (const char *)data + 1;
	size_t len = size - 1;
	const char *why = NULL;

	if (data[0] & 1) {
		struct scan_sig_hash h;
		int rc = scan_sig_hash_parse(line, len, &h, &why);

		if (rc != 0 && (rc != -EINVAL || why == NULL))
			abort();
		if (rc == 0 && (h.name_len == 0 || h.name < line ||
				h.name + h.name_len > line + len))
			abort();
		return 0;
	}

	size_t bound = scan_sig_expr_bound(len);
	char *out = malloc(bound);
	struct scan_sig_ndb sig;
	int rc = scan_sig_ndb_parse(line, len, &sig, out, bound, &why);

	if (rc == -ENOSPC)
		abort(); /* the bound is wrong */
	if (rc != 0) {
		if ((rc != -EINVAL && rc != -ENOTSUP) || why == NULL)
			abort();
		free(out);
		return 0;
	}
	if (strlen(out) >= bound || sig.min_len == 0 ||
	    sig.min_len > sig.max_len || sig.name_len == 0 || sig.target > 14)
		abort();
	if ((sig.check == SCAN_SIG_CHECK_FIXED) != (sig.min_len == sig.max_len &&
						     sig.off_kind != SCAN_SIG_OFF_ANY))
		abort();
	if ((sig.hs_flags & HS_FLAG_SOM_LEFTMOST) &&
	    (sig.hs_flags & HS_FLAG_SINGLEMATCH))
		abort(); /* Hyperscan refuses the combination */
	if (len < 512) { /* keep executions fast */
		hs_expr_info_t *info = NULL;
		hs_compile_error_t *cerr = NULL;

		if (hs_expression_info(out, sig.hs_flags, &info, &cerr) ==
		    HS_SUCCESS) {
			/* our length bookkeeping agrees with Hyperscan's */
			if (sig.off_kind != SCAN_SIG_OFF_ABS || sig.check != 0) {
				unsigned mx = info->max_width == UINT_MAX
						      ? SCAN_SIG_UNBOUNDED
						      : info->max_width;
				if (info->min_width != sig.min_len ||
				    mx != sig.max_len)
					abort();
			}
			free(info);
		}
		hs_free_compile_error(cerr);
	}
	free(out);
	return 0;
}
