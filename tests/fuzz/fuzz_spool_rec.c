/* tests/fuzz/fuzz_spool_rec.c - spool_rec_parse() on arbitrary bytes, and
 * spool_seg_scan() over them as a segment file: never a crash, every
 * parsed record re-encodes to the same bytes' meaning (strings are C
 * strings within the input), bodies decode or fail cleanly. The CRC is
 * resealed on a copy so the fuzzer reaches the field checks behind it. */
#include "spool/crc32c.h"
#include "spool/spool_reader.h"
#include "spool/spool_rec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void parse_one(const uint8_t *p, size_t n)
{
	struct spool_rec r;
	char err[256];
	if (spool_rec_parse(p, n, &r, err, sizeof err) != 0)
		return;
	if (r.type == SPOOL_REC_MESSAGE) {
		const struct spool_msg *m = &r.msg;
		size_t total = strlen(m->client) + strlen(m->helo) +
			       strlen(m->mail_from) + strlen(m->envid);
		for (unsigned i = 0; i < m->nrcpts; i++)
			total += strlen(m->rcpts[i].addr) +
				 strlen(m->rcpts[i].orcpt);
		for (unsigned i = 0; i < m->nfindings; i++)
			total += strlen(m->findings[i]);
		for (unsigned i = 0; i < m->nactions; i++)
			total += strlen(m->actions[i]);
		if (total > n || m->stored_len > n)
			abort();
		const uint8_t *body;
		void *owned;
		if (m->data_len <= (64u << 20) &&
		    spool_msg_body(m, &body, &owned, err, sizeof err) == 0)
			free(owned);
	}
	spool_rec_clear(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	parse_one(data, size);
	if (size >= 16) {
		/* Same bytes with a correct length and CRC. */
		uint8_t *c = malloc(size);
		memcpy(c, data, size);
		c[0] = 'S', c[1] = 'L', c[2] = 'S', c[3] = 'P';
		for (int i = 0; i < 4; i++)
			c[12 + i] = (uint8_t)((uint32_t)size >> (8 * i));
		uint32_t crc = spool_crc32c(0, c + 8, size - 8);
		for (int i = 0; i < 4; i++)
			c[4 + i] = (uint8_t)(crc >> (8 * i));
		parse_one(c, size);
		free(c);
	}
	/* As a segment file: scanning never crashes nor reads past it. */
	char path[] = "/tmp/fuzz_spool_rec.XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0)
		return 0;
	unlink(path);
	if (write(fd, data, size) == (ssize_t)size) {
		struct spool_seg_info si;
		if (spool_seg_scan(fd, "fuzz", NULL, NULL, NULL, NULL, &si) ==
			    0 &&
		    (si.valid_end > size || si.size != size))
			abort();
	}
	close(fd);
	return 0;
}
