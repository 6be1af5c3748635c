/*
 * tcpstack/tcpopt.c - TCP option parsing and building.
 */
#include "tcpstack/tcpopt.h"

#include <errno.h>
#include <string.h>

#include "tcpstack/bytes.h"


/* Mark `bit` present; returns 0 if it already was (first wins). */
static int claim(struct tcp_opts *o, uint32_t bit)
{
	if (o->present & bit) {
		o->err |= TCP_OPTERR_DUP;
		return 0;
	}
	o->present |= bit;
	return 1;
}

int tcp_opts_parse(const uint8_t *p, size_t len, struct tcp_opts *out)
{
	memset(out, 0, sizeof(*out));
	size_t i = 0;
	while (i < len) {
		uint8_t kind = p[i];
		if (kind == TCP_OPT_EOL)
			break;
		if (kind == TCP_OPT_NOP) {
			i++;
			continue;
		}
		if (len - i < 2 || p[i + 1] < 2 || p[i + 1] > len - i) {
			out->err |= TCP_OPTERR_TRUNC;
			break;
		}
		size_t olen = p[i + 1];
		const uint8_t *v = p + i + 2;
		switch (kind) {
		case TCP_OPT_MSS:
			if (olen != TCP_OPTLEN_MSS)
				out->err |= TCP_OPTERR_BADLEN;
			else if (claim(out, TCP_OPTF_MSS))
				out->mss = get16(v);
			break;
		case TCP_OPT_WSCALE:
			if (olen != TCP_OPTLEN_WSCALE) {
				out->err |= TCP_OPTERR_BADLEN;
			} else if (claim(out, TCP_OPTF_WSCALE)) {
				out->wscale = v[0];
				if (v[0] > TCP_WSCALE_MAX) {
					out->wscale = TCP_WSCALE_MAX;
					out->wscale_clamped = 1;
				}
			}
			break;
		case TCP_OPT_SACK_PERM:
			if (olen != TCP_OPTLEN_SACK_PERM)
				out->err |= TCP_OPTERR_BADLEN;
			else
				claim(out, TCP_OPTF_SACK_PERM);
			break;
		case TCP_OPT_SACK: {
			size_t n = (olen - 2) / 8;
			if ((olen - 2) % 8 != 0 || n == 0 ||
			    n > TCP_SACK_MAX_BLOCKS) {
				out->err |= TCP_OPTERR_BADLEN;
			} else if (claim(out, TCP_OPTF_SACK)) {
				out->sack_n = (uint8_t)n;
				for (size_t b = 0; b < n; b++) {
					out->sack[b].left = get32(v + 8 * b);
					out->sack[b].right = get32(v + 8 * b + 4);
				}
			}
			break;
		}
		case TCP_OPT_TS:
			if (olen != TCP_OPTLEN_TS) {
				out->err |= TCP_OPTERR_BADLEN;
			} else if (claim(out, TCP_OPTF_TS)) {
				out->ts_val = get32(v);
				out->ts_ecr = get32(v + 4);
			}
			break;
		default:
			if (out->unknown < 255)
				out->unknown++;
			break;
		}
		i += olen;
	}
	return out->err ? -EBADMSG : 0;
}

int tcp_opts_build(const struct tcp_opts *o, uint8_t *buf, size_t room,
		   unsigned *sack_written)
{
	uint32_t f = o->present;
	if (sack_written != NULL)
		*sack_written = 0;
	if (((f & TCP_OPTF_WSCALE) && o->wscale > TCP_WSCALE_MAX) ||
	    ((f & TCP_OPTF_SACK) &&
	     (o->sack_n == 0 || o->sack_n > TCP_SACK_MAX_BLOCKS)))
		return -EINVAL;
	if (room > TCP_OPTS_MAX)
		room = TCP_OPTS_MAX;

	/* Fixed part first, so the room check is one comparison. */
	size_t fixed = 0;
	if (f & TCP_OPTF_MSS)
		fixed += 4;
	if (f & TCP_OPTF_TS)
		fixed += 12;
	if (f & TCP_OPTF_WSCALE)
		fixed += 4;
	if ((f & TCP_OPTF_SACK_PERM) && !(f & TCP_OPTF_TS))
		fixed += 4;
	size_t nsack = 0;
	if (f & TCP_OPTF_SACK) {
		if (room < fixed + 4 + 8)
			return -ENOSPC;
		nsack = (room - fixed - 4) / 8;
		if (nsack > o->sack_n)
			nsack = o->sack_n;
	} else if (room < fixed) {
		return -ENOSPC;
	}

	uint8_t *p = buf;
	if (f & TCP_OPTF_MSS) {
		p[0] = TCP_OPT_MSS;
		p[1] = TCP_OPTLEN_MSS;
		put16(p + 2, o->mss);
		p += 4;
	}
	if (f & TCP_OPTF_TS) {
		if (f & TCP_OPTF_SACK_PERM) {
			p[0] = TCP_OPT_SACK_PERM;
			p[1] = TCP_OPTLEN_SACK_PERM;
		} else {
			p[0] = TCP_OPT_NOP;
			p[1] = TCP_OPT_NOP;
		}
		p[2] = TCP_OPT_TS;
		p[3] = TCP_OPTLEN_TS;
		put32(p + 4, o->ts_val);
		put32(p + 8, o->ts_ecr);
		p += 12;
	}
	if (f & TCP_OPTF_WSCALE) {
		p[0] = TCP_OPT_NOP;
		p[1] = TCP_OPT_WSCALE;
		p[2] = TCP_OPTLEN_WSCALE;
		p[3] = o->wscale;
		p += 4;
	}
	if ((f & TCP_OPTF_SACK_PERM) && !(f & TCP_OPTF_TS)) {
		p[0] = TCP_OPT_NOP;
		p[1] = TCP_OPT_NOP;
		p[2] = TCP_OPT_SACK_PERM;
		p[3] = TCP_OPTLEN_SACK_PERM;
		p += 4;
	}
	if (nsack > 0) {
		p[0] = TCP_OPT_NOP;
		p[1] = TCP_OPT_NOP;
		p[2] = TCP_OPT_SACK;
		p[3] = (uint8_t)(2 + 8 * nsack);
		p += 4;
		for (size_t b = 0; b < nsack; b++) {
			put32(p, o->sack[b].left);
			put32(p + 4, o->sack[b].right);
			p += 8;
		}
		if (sack_written != NULL)
			*sack_written = (unsigned)nsack;
	}
	return (int)(p - buf);
}
