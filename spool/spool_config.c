/*
 * spool/spool_config.c - the `spool:` section (see spool_config.h and the
 * commented section in config/sluice.conf).
 */
#include "spool/spool_config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define K 1024ull
#define M (K * K)
#define G (M * K)

static int opt_size(const struct conf_node *m, const char *key,
		    const char *what, uint64_t min, uint64_t max,
		    uint64_t *out, char *err, size_t errsz)
{
	const struct conf_node *n = conf_map_get(m, key);
	if (n == NULL)
		return 0;
	return conf_get_size(n, what, min, max, out, err, errsz);
}

static int load_dir(const struct conf_doc *doc, const struct conf_node *m,
		    struct spool_config *c, char *err, size_t errsz)
{
	const struct conf_node *n = conf_map_get(m, "dir");
	const char *s;
	int rc;
	if (n == NULL)
		return 0;
	if ((rc = conf_get_string(n, "spool.dir", false, &s, err, errsz)) < 0)
		return rc;
	int w;
	if (s[0] == '/') {
		w = snprintf(c->dir, sizeof c->dir, "%s", s);
	} else {
		/* Relative to the directory of the configuration file. */
		const char *path = conf_doc_path(doc);
		const char *slash = strrchr(path, '/');
		if (slash == NULL)
			w = snprintf(c->dir, sizeof c->dir, "%s", s);
		else
			w = snprintf(c->dir, sizeof c->dir, "%.*s/%s",
				     (int)(slash - path), path, s);
	}
	if (w < 0 || (size_t)w >= sizeof c->dir)
		return conf_error(n, err, errsz, "spool.dir: path too long; "
				  "use a shorter one");
	return 0;
}

static int load_compress(const struct conf_node *m, struct spool_config *c,
			 char *err, size_t errsz)
{
	const struct conf_node *n = conf_map_get(m, "compress");
	if (n == NULL)
		return 0;
	const char *s = conf_kind(n) == CONF_SCALAR ? conf_scalar(n) : NULL;
	if (s != NULL && (strcasecmp(s, "off") == 0 ||
			  strcasecmp(s, "no") == 0 ||
			  strcasecmp(s, "false") == 0)) {
		c->compress_level = 0;
		return 0;
	}
	long long v;
	int rc = conf_get_int(n, "spool.compress", 1, 19, &v, NULL, 0);
	if (rc < 0)
		return conf_error(n, err, errsz, "spool.compress: '%s' is "
				  "neither a zstd level nor off; write a "
				  "level from 1 (fast) to 19 (small), or off",
				  s ? s : conf_kind_name(conf_kind(n)));
	c->compress_level = (int)v;
	return 0;
}

int spool_config_load(const struct conf_doc *doc, struct spool_config *c,
		      char *err, size_t errsz)
{
	static const char *const keys[] = {
		"dir", "group_commit", "group_commit_bytes", "segment_size",
		"compress", "compress_above", "free_space_floor", NULL};
	const struct conf_node *root = conf_root(doc);
	const struct conf_node *m = conf_map_get(root, "spool");
	uint64_t msize = SPOOL_DEFAULT_MESSAGE_SIZE, ms;
	int rc;

	memset(c, 0, sizeof(*c));
	snprintf(c->dir, sizeof c->dir, "%s", SPOOL_DEFAULT_DIR);
	c->group_commit_us = 2000;
	c->group_commit_bytes = 8 * M;
	c->segment_size = 256 * M;
	c->compress_level = 3;
	c->compress_above = 4 * K;
	/* The default floor follows the larger of limits.message_size (the
	 * scan's) and smtp.max_message_size (what a client may send), so
	 * one largest message always fits above it; their own loaders check
	 * those keys, we only read them (same ranges). */
	const struct conf_node *lim = conf_map_get(root, "limits");
	const struct conf_node *mn = lim && conf_kind(lim) == CONF_MAP
					     ? conf_map_get(lim, "message_size")
					     : NULL;
	if (mn != NULL && (rc = conf_get_size(mn, "limits.message_size", 1,
					      SPOOL_REC_MAX / 2, &msize, err,
					      errsz)) < 0)
		return rc;
	const struct conf_node *sm = conf_map_get(root, "smtp");
	const struct conf_node *sn = sm && conf_kind(sm) == CONF_MAP
					     ? conf_map_get(sm, "max_message_size")
					     : NULL;
	uint64_t smax = SPOOL_DEFAULT_MESSAGE_SIZE;
	if (sn != NULL && (rc = conf_get_size(sn, "smtp.max_message_size",
					      1024, 4 * G, &smax, err,
					      errsz)) < 0)
		return rc;
	if (smax > msize)
		msize = smax;
	c->free_space_floor = msize + msize / 2;
	if (m == NULL || (conf_kind(m) == CONF_SCALAR && conf_is_null(m)))
		return 0;
	if ((rc = conf_check_map(m, "spool", keys, err, errsz)) < 0)
		return rc;
	const struct conf_node *gc = conf_map_get(m, "group_commit");
	if (gc != NULL) {
		if ((rc = conf_get_duration(gc, "spool.group_commit", 0, 1000,
					    &ms, err, errsz)) < 0)
			return rc;
		c->group_commit_us = (uint32_t)(ms * 1000);
	}
	if ((rc = load_dir(doc, m, c, err, errsz)) < 0 ||
	    (rc = opt_size(m, "group_commit_bytes", "spool.group_commit_bytes",
			   64 * K, 1 * G, &c->group_commit_bytes, err,
			   errsz)) < 0 ||
	    (rc = opt_size(m, "segment_size", "spool.segment_size", 1 * M,
			   64 * G, &c->segment_size, err, errsz)) < 0 ||
	    (rc = load_compress(m, c, err, errsz)) < 0 ||
	    (rc = opt_size(m, "compress_above", "spool.compress_above", 0,
			   1 * G, &c->compress_above, err, errsz)) < 0 ||
	    (rc = opt_size(m, "free_space_floor", "spool.free_space_floor", 0,
			   1024 * G, &c->free_space_floor, err, errsz)) < 0)
		return rc;
	return 0;
}

void spool_config_writer(const struct spool_config *c,
			 struct spool_writer_config *w)
{
	memset(w, 0, sizeof(*w));
	w->dir = c->dir;
	w->group_commit_us = c->group_commit_us;
	w->group_commit_bytes = (size_t)c->group_commit_bytes;
	w->segment_size = c->segment_size;
	w->free_space_floor = c->free_space_floor;
}
