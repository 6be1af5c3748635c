/*
 * spool/spool_config.h - the `spool:` section of sluice.conf.
 *
 *   spool:
 *     dir: /var/spool/sluice     # relative: to the configuration file
 *     group_commit: 2ms          # batch window (0ms: no wait)
 *     group_commit_bytes: 8 MiB  # a batch is written early at this size
 *     segment_size: 256 MiB      # rotate segment files at this size
 *     compress: 3                # zstd level 1..19, or off
 *     compress_above: 4 KiB      # only messages larger than this
 *     free_space_floor: 30 MiB   # default 1.5 x the larger of
 *                                # limits.message_size and
 *                                # smtp.max_message_size
 *
 * spool_config_load() checks every key and value (unknown keys and bad
 * values are errors "FILE:LINE: what is wrong; what to do"); an absent
 * section or key takes the default above. The result is plain data (the
 * directory is copied), independent of the doc.
 */
#ifndef SLUICE_SPOOL_SPOOL_CONFIG_H
#define SLUICE_SPOOL_SPOOL_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "conf/conf.h"
#include "spool/spool_writer.h"

#define SPOOL_DEFAULT_DIR "/var/spool/sluice"
#define SPOOL_DEFAULT_MESSAGE_SIZE (20ull << 20) /* limits.message_size,
						   smtp.max_message_size */

struct spool_config {
	char dir[4096];
	uint32_t group_commit_us;
	uint64_t group_commit_bytes;
	uint64_t segment_size;
	int compress_level;       /* 0: off */
	uint64_t compress_above;
	uint64_t free_space_floor;
};

/* Fill *out from doc's `spool:` section (and limits.message_size and
 * smtp.max_message_size for the default floor). 0, or -EINVAL with one
 * line in err. */
int spool_config_load(const struct conf_doc *doc, struct spool_config *out,
		      char *err, size_t errsz);

/* The writer settings of c (dir borrowed from c; ops, report unset). */
void spool_config_writer(const struct spool_config *c,
			 struct spool_writer_config *w);

#endif
