/* scan/scan_archive.c - containers in the pipeline: a leaf whose true type
 * is an archive or a compressor is opened layer by layer (scan/archive.h)
 * and every member becomes a leaf of its own; see scan_int.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "scan/archive.h"
#include "scan/policy.h"
#include "scan/scan_int.h"

void pipe_archive_begin(struct scan_ctx *c)
{
	const struct scan_limits *lim = scan_config_limits(c->e->cfg);
	struct scan_arc_budget *b = &c->arc;
	scan_arc_budget_init(b);
	b->max_bytes = lim->decompressed_bytes;
	b->max_depth = lim->archive_depth;
	b->max_members = lim->archive_members;
	b->max_member_size = lim->archive_member_size;
	b->max_ratio = lim->archive_ratio;
	/* The archive time budget starts with the message; the scan's own
	 * deadline, when sooner, wins (and is reported as scan-time). */
	uint64_t dl = 0;
	if (lim->archive_time_ms != 0) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		dl = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec +
		     lim->archive_time_ms * 1000000u;
	}
	if (c->deadline_ns != 0 && (dl == 0 || c->deadline_ns < dl))
		dl = c->deadline_ns;
	b->deadline_ns = dl;
}

/* An event of the walker as a finding: limits once per message (the
 * walker says which is the first), the others per part. */
static void arc_finding(struct scan_ctx *c, int part,
			const struct scan_arc_event *ev)
{
	if (ev->kind == SCAN_ARC_EV_NONE)
		return;
	const char *name = scan_arc_event_name(ev->kind);
	scan_explain(c->v, "    part %d: %s: %s\n", part, name, ev->detail);
	switch (scan_arc_event_class(ev->kind)) {
	case SCAN_ARC_CLASS_LIMIT:
		/* Past the scan's own deadline the scan is cut anyway and
		 * says so (scan-time); archive-time is the archive budget. */
		if (ev->kind == SCAN_ARC_EV_TIME && pipe_time_up(c))
			break;
		if (ev->first)
			scan_verdict_add(c->v, SCAN_F_LIMIT, part, name, "%s",
					 ev->detail);
		break;
	case SCAN_ARC_CLASS_MALFORMED:
		scan_verdict_add(c->v, SCAN_F_MALFORMED, part, name, "%s",
				 ev->detail);
		break;
	case SCAN_ARC_CLASS_ENCRYPTED:
		scan_verdict_add(c->v, SCAN_F_ENCRYPTED, part, name, "%s",
				 ev->detail);
		break;
	case SCAN_ARC_CLASS_NONE:
		break;
	}
}

/* The name a lone compressed stream's content goes by: the container's
 * name without its compression extension ("report.pdf.gz" ->
 * "report.pdf", "x.tgz" -> "x.tar"), else "data". */
static const char *stream_name(struct scan_ctx *c, const char *outer)
{
	static const char *const exts[] = {".gz", ".bz2", ".xz", ".zst",
					   ".lz4", ".z", ".lzma", ".lz"};
	if (outer == NULL || outer[0] == '\0')
		return "data";
	const char *slash = strrchr(outer, '/');
	if (slash != NULL)
		outer = slash + 1;
	const char *dot = strrchr(outer, '.');
	if (dot == NULL || dot == outer)
		return "data";
	size_t stem = (size_t)(dot - outer);
	if (strcasecmp(dot, ".tgz") == 0 || strcasecmp(dot, ".tbz2") == 0 ||
	    strcasecmp(dot, ".txz") == 0) {
		char *s = scan_arena_alloc(c->arena, stem + 5);
		if (s == NULL)
			return "data";
		memcpy(s, outer, stem);
		memcpy(s + stem, ".tar", 5);
		return s;
	}
	for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++)
		if (strcasecmp(dot, exts[i]) == 0)
			return scan_arena_strndup(c->arena, outer, stem);
	return "data";
}

/* Path of member m of container leaf l: "2/invoice.zip/docs/a.exe". */
static const char *member_path(struct scan_ctx *c, const struct leaf *l,
			       const char *mpath)
{
	const char *base = l->path[0] ? l->path : "0";
	/* A MIME leaf's path is its position: add its file name, so the
	 * operator sees which attachment; a member's path ends with it. */
	const char *name = l->arc_depth == 0 ? l->filename : NULL;
	size_t n = strlen(base) + (name ? strlen(name) + 1 : 0) +
		   strlen(mpath) + 2;
	char *s = scan_arena_alloc(c->arena, n);
	if (s == NULL)
		return NULL;
	if (name != NULL)
		snprintf(s, n, "%s/%s/%s", base, name, mpath);
	else
		snprintf(s, n, "%s/%s", base, mpath);
	return s;
}

/* A saved message (.eml, or bytes that open with a header field a stored
 * message starts with): parsed and scanned as a nested message, so its
 * encoded attachments are decoded like the outer ones. */
static int looks_like_message(const char *name, const uint8_t *d, size_t n)
{
	static const char *const starts[] = {
		"Received:", "Return-Path:", "From ", "From:", "MIME-Version:",
		"Message-ID:", "Delivered-To:"};
	size_t nl = name != NULL ? strlen(name) : 0;
	if (nl > 4 && strcasecmp(name + nl - 4, ".eml") == 0)
		return 1;
	for (size_t i = 0; i < sizeof(starts) / sizeof(starts[0]); i++) {
		size_t k = strlen(starts[i]);
		if (n > k && strncasecmp((const char *)d, starts[i], k) == 0)
			return 1;
	}
	return 0;
}

static const char *ctr_name(const struct leaf *l)
{
	return l->filename != NULL ? l->filename : l->path;
}

int pipe_archive(struct scan_ctx *c, const struct leaf *l, const uint8_t *d,
		 size_t n, enum scan_ftype ft)
{
	int office = pipe_office_container(ft);
	if (scan_config_limits(c->e->cfg)->archive_depth == 0) {
		scan_explain(c->v, "  part %d %s: archive not opened "
			     "(limits.archive_depth is 0)\n", l->id, l->path);
		return 0;
	}
	unsigned depth = l->arc_depth + 1;
	if (depth >= sizeof(c->arc_buf) / sizeof(c->arc_buf[0]))
		depth = sizeof(c->arc_buf) / sizeof(c->arc_buf[0]) - 1;
	struct scan_arc *w;
	struct scan_arc_event ev;
	int rc = scan_arc_open(&w, d, n, depth, &c->arc, &c->arc_buf[depth],
			       &ev);
	if (rc < 0) {
		if (rc == -ENOMEM)
			scan_verdict_add(c->v, SCAN_F_LIMIT, l->id,
					 "archive-memory",
					 "out of memory opening %s",
					 ctr_name(l));
		else if (rc == -ENOTSUP)
			scan_verdict_add(c->v, SCAN_F_LIMIT, l->id,
					 "archive-unsupported",
					 "this libarchive would run an external "
					 "program to unpack; %s not opened",
					 ctr_name(l));
		scan_explain(c->v, "  part %d %s: container not opened\n",
			     l->id, l->path);
		arc_finding(c, l->id, &ev);
		return 0;
	}
	scan_explain(c->v, "  part %d %s: opened layer %u: %s, filter %s\n",
		     l->id, l->path, depth, scan_arc_format(w),
		     scan_arc_filter(w));
	unsigned members = 0, hidden = 0;
	uint64_t bytes = 0; /* of this layer's members */
	struct scan_arc_member m;
	while ((rc = scan_arc_next(w, &m, &ev)) == 1) {
		if (pipe_time_up(c)) {
			rc = -ETIME;
			break;
		}
		members++;
		bytes += m.len;
		const char *name = m.name;
		const char *mp = m.path;
		if (m.flags & SCAN_ARC_M_STREAM)
			mp = name = stream_name(c, ctr_name(l));
		struct leaf ml = {
			.id = c->next_id++,
			.path = member_path(c, l, mp),
			.content_type = NULL, /* members declare nothing */
			.filename = scan_arena_strndup(c->arena, name,
						       strlen(name)),
			.flags = MIME_F_ATTACHMENT,
			.embed_depth = l->embed_depth,
			.arc_depth = depth,
			.in_office = office,
		};
		if (ml.path == NULL || ml.filename == NULL) {
			rc = pipe_arena_full(c, ml.id, "archive member name");
			break;
		}
		pipe_set_holder(c, ml.id, l->id);
		scan_explain(c->v, "  part %d %s: member %u of layer %u, "
			     "%zu bytes%s%s%s%s\n", ml.id, ml.path, m.index,
			     depth, m.len,
			     m.flags & SCAN_ARC_M_ENCRYPTED ? ", encrypted" : "",
			     m.flags & SCAN_ARC_M_CUT ? ", cut at a limit" : "",
			     m.flags & SCAN_ARC_M_TRUNCATED ? ", truncated" : "",
			     m.flags & SCAN_ARC_M_LOCAL
				     ? ", hidden from the zip directory" : "");
		arc_finding(c, ml.id, &ev);
		if ((m.flags & SCAN_ARC_M_LOCAL) && !hidden++)
			scan_verdict_add(c->v, SCAN_F_AMBIGUOUS, l->id,
					 "zip-hidden-entries",
					 "%s has local entries its central "
					 "directory does not list; both were "
					 "scanned", ctr_name(l));
		if (m.flags & SCAN_ARC_M_PATH_ODD)
			scan_verdict_add(c->v, SCAN_F_AMBIGUOUS, ml.id,
					 "archive-unsafe-name",
					 "member name is absolute, climbs out "
					 "with '..', or has control, bidi or "
					 "invalid characters; shown as '%s'",
					 m.path);
		if (m.flags & SCAN_ARC_M_ENCRYPTED) {
			/* Nothing to scan, but the name and declared size
			 * still go to the attachment filter. */
			struct scan_part_info *pi = pipe_part_info(c, ml.id);
			if (pi != NULL) {
				pi->path = ml.path;
				pi->filename = ml.filename;
				pi->true_type = "encrypted";
				pi->size = m.declared_size > 0
						   ? (uint64_t)m.declared_size
						   : 0;
			}
			continue;
		}
		if (office)
			pipe_office_member(c, l, ft, m.path, m.data, m.len);
		rc = pipe_leaf(c, &ml, m.data, m.len);
		if (rc == 0 && looks_like_message(ml.filename, m.data, m.len))
			rc = pipe_nested_message(c, &ml, m.data, m.len);
		if (rc < 0)
			break;
	}
	if (rc == 0)
		arc_finding(c, l->id, &ev); /* what ended the layer */
	else if (rc == -ENOMEM && !c->decoded_limit_hit) /* the walker's */
		scan_verdict_add(c->v, SCAN_F_LIMIT, l->id, "archive-memory",
				 "out of memory unpacking %s", ctr_name(l));
	scan_explain(c->v, "  part %d: closed layer %u: %u members, %llu "
		     "bytes\n", l->id, depth, members,
		     (unsigned long long)bytes);
	scan_arc_close(w);
	/* The walker's -ENOMEM is its buffer: reported, the scan goes on.
	 * The arena's is reported by pipe_arena_full and stops the scan. */
	if (rc == -ENOMEM && !c->decoded_limit_hit)
		return 0;
	return rc < 0 ? rc : 0;
}
