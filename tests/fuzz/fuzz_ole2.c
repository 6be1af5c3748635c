/* tests/fuzz/fuzz_ole2.c - scan/ole2.c: the compound-file reader on any
 * bytes (the OLE2 signature forced on a copy, so every input reaches the
 * header, FAT and directory code), and scan/fname.c on the same bytes
 * read as a file name. Checks the result's invariants: -EINVAL or 0, a
 * reason whenever a walk stopped, strings terminated, counts in range. */
#include "scan/fname.h"
#include "scan/ole2.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct scan_ole2_work work;

static void check(const uint8_t *d, size_t n)
{
	struct scan_ole2_info oi;
	int rc = scan_ole2_inspect(d, n, &work, &oi);
	if (rc != 0 && rc != -EINVAL)
		abort();
	if (rc < 0 && (oi.problem == NULL || oi.flags != 0))
		abort();
	if ((oi.flags & SCAN_OLE2_PARTIAL) && oi.problem == NULL)
		abort();
	if (oi.entries > SCAN_OLE2_MAX_ENTRIES)
		abort();
	if (memchr(oi.vba_path, 0, sizeof(oi.vba_path)) == NULL ||
	    memchr(oi.xlm_sheet, 0, sizeof(oi.xlm_sheet)) == NULL)
		abort();
	if ((oi.flags & SCAN_OLE2_VBA) && oi.vba_path[0] == '\0')
		abort();
	if ((oi.flags & SCAN_OLE2_XLM) && oi.xlm_state == NULL)
		abort();
	if ((oi.flags & SCAN_OLE2_ENCRYPTED) && oi.encryption == NULL)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t magic[8] = {0xd0, 0xcf, 0x11, 0xe0,
					 0xa1, 0xb1, 0x1a, 0xe1};
	check(data, size);
	if (size >= 8) {
		uint8_t *c = malloc(size);
		if (c == NULL)
			return 0;
		memcpy(c, data, size);
		memcpy(c, magic, 8);
		check(c, size);
		free(c);
	}
	/* the first bytes as a file name */
	char name[256];
	size_t l = size < sizeof(name) - 1 ? size : sizeof(name) - 1;
	memcpy(name, data, l);
	name[l] = '\0';
	struct scan_fname_why why;
	unsigned fl = scan_fname_check(name, &why);
	if (fl & ~(SCAN_FNAME_DOUBLE_EXT | SCAN_FNAME_BIDI |
		   SCAN_FNAME_TRAILING))
		abort();
	if (((fl & SCAN_FNAME_DOUBLE_EXT) != 0) != (why.double_ext[0] != 0) ||
	    ((fl & SCAN_FNAME_BIDI) != 0) != (why.bidi[0] != 0) ||
	    ((fl & SCAN_FNAME_TRAILING) != 0) != (why.trailing[0] != 0))
		abort();
	return 0;
}
