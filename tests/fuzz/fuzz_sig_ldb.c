/*
 * tests/fuzz/fuzz_sig_ldb.c - ClamAV .ldb logical signature lines from
 * untrusted files: the line, its target description block, the logical
 * expression and every subsignature (hex with offsets and modifiers,
 * PCRE with its trigger).
 *
 * The input is the line. Checks, beyond the sanitizers: no subsignature
 * overflows the scan_sig_expr_bound(2 * len) buffer (no -ENOSPC), every
 * error is -EINVAL or -ENOTSUP with a reason, accepted lines have 1..64
 * subsignatures that the expression names only within range, evaluating
 * the expression over counts derived from the input terminates and is
 * deterministic, and Hyperscan's parser survives every expression we
 * produce.
 */
#include "scan/sig_clamav.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <hs.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct scan_sig_ldb sig;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 4096)
		return 0;
	const char *line = (const char *)data;
	const char *why = NULL;
	int rc = scan_sig_ldb_parse(line, size, &sig, &why);

	if (rc != 0) {
		if ((rc != -EINVAL && rc != -ENOTSUP) || why == NULL)
			abort();
		return 0;
	}
	if (sig.nsub == 0 || sig.nsub > SCAN_SIG_LDB_MAX_SUBSIGS ||
	    sig.name_len == 0 || sig.lexpr.nnodes == 0 ||
	    sig.lexpr.nnodes > SCAN_SIG_LEXPR_MAX_NODES ||
	    sig.size_min > sig.size_max)
		abort();
	if (sig.nsub < 64 && (sig.lexpr.used >> sig.nsub) != 0)
		abort(); /* names a subsignature that does not exist */

	/* counts from the input bytes: evaluation is total and repeatable */
	uint32_t counts[SCAN_SIG_LDB_MAX_SUBSIGS];
	for (unsigned k = 0; k < SCAN_SIG_LDB_MAX_SUBSIGS; k++)
		counts[k] = size > 0 ? data[(k * 7) % size] % 4 : 0;
	int a = scan_sig_lexpr_eval(&sig.lexpr, counts);
	int b = scan_sig_lexpr_eval(&sig.lexpr, counts);
	if (a != b || (a != 0 && a != 1))
		abort();

	for (unsigned k = 0; k < sig.nsub; k++) {
		size_t bound = scan_sig_expr_bound(2 * sig.sub_len[k]);
		char *out = malloc(bound);
		struct scan_sig_sub sub;

		if (out == NULL)
			abort();
		rc = scan_sig_ldb_sub_parse(&sig, k,
					    (int)((sig.counted >> k) & 1),
					    &sub, out, bound, &why);
		if (rc == -ENOSPC)
			abort(); /* the bound is wrong */
		if (rc != 0) {
			if ((rc != -EINVAL && rc != -ENOTSUP) || why == NULL)
				abort();
			free(out);
			continue;
		}
		if (strlen(out) >= bound || sub.min_len > sub.max_len)
			abort();
		if ((sub.hs_flags & HS_FLAG_SOM_LEFTMOST) &&
		    (sub.hs_flags & HS_FLAG_SINGLEMATCH))
			abort(); /* Hyperscan refuses the combination */
		if (sub.pcre && (sub.trigger == NULL || sub.trigger_len == 0))
			abort();
		if (sig.sub_len[k] < 256) { /* keep executions fast */
			hs_expr_info_t *info = NULL;
			hs_compile_error_t *cerr = NULL;

			if (hs_expression_info(out, sub.hs_flags, &info,
					       &cerr) == HS_SUCCESS)
				free(info);
			hs_free_compile_error(cerr);
		}
		free(out);
	}
	return 0;
}
