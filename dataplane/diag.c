/*
 * dataplane/diag.c - echo and discard services on tcp.h (diag.h).
 */
#include "dataplane/diag.h"

#include <errno.h>

#define IOV_MAX_DIAG 16

/* Echo what is queued until everything is sent or the send buffer is
 * full; unsent bytes stay queued (closing our receive window). */
static void echo_pump(struct dp_diag *d, struct tcp_conn *c)
{
	struct iovec iov[IOV_MAX_DIAG];
	size_t total;
	unsigned n;

	while ((n = tcp_recv_iov(c, iov, IOV_MAX_DIAG, &total)) > 0) {
		size_t done = 0;
		bool full = false;
		for (unsigned i = 0; i < n && !full; i++) {
			unsigned fl = i + 1 < n ? TCP_SEND_MORE : 0;
			ssize_t k = tcp_send(c, iov[i].iov_base, iov[i].iov_len,
					     fl);
			if (k < 0) {
				if (k != -EAGAIN) {  /* closing: drop input */
					tcp_recv_consume(c, total);
					d->st.echo_bytes += done;
					return;
				}
				full = true;
				break;
			}
			done += (size_t)k;
			if ((size_t)k < iov[i].iov_len)
				full = true;
		}
		if (done > 0)
			tcp_recv_consume(c, done);
		d->st.echo_bytes += done;
		if (full) {
			d->st.echo_stalls++;
			return;  /* writable resumes */
		}
	}
	/* Everything echoed and the peer is done: our FIN follows the data
	 * (only once: writable may call again while the FIN is in flight). */
	if (tcp_recv_eof(c) && tcp_conn_state(c) == TCP_CLOSE_WAIT)
		tcp_shutdown(c);
}

static int echo_accepted(void *lctx, struct tcp_conn *c, void **ctx)
{
	struct dp_diag *d = lctx;
	d->st.echo_conns++;
	*ctx = d;
	return 0;
}

static void echo_io(void *ctx, struct tcp_conn *c)
{
	echo_pump(ctx, c);
}

static int discard_accepted(void *lctx, struct tcp_conn *c, void **ctx)
{
	struct dp_diag *d = lctx;
	d->st.discard_conns++;
	*ctx = d;
	return 0;
}

static void discard_readable(void *ctx, struct tcp_conn *c)
{
	struct dp_diag *d = ctx;
	size_t q = tcp_recv_queued(c);
	if (q > 0) {
		tcp_recv_consume(c, q);
		d->st.discard_bytes += q;
	}
	if (tcp_recv_eof(c))
		tcp_close(c);
}

static void diag_closed(void *ctx, struct tcp_conn *c, int err)
{
	struct dp_diag *d = ctx;
	if (err == 0)
		d->st.closed_ok++;
	else
		d->st.closed_err++;
}

static const struct tcp_handler echo_handler = {
	.accepted = echo_accepted,
	.readable = echo_io,
	.writable = echo_io,
	.closed = diag_closed,
};

static const struct tcp_handler discard_handler = {
	.accepted = discard_accepted,
	.readable = discard_readable,
	.closed = diag_closed,
};

int dp_diag_start(struct dp_diag *d, struct tcp_stack *s, bool echo,
		  bool discard)
{
	int rc;
	if (echo && (rc = tcp_listen(s, 0, DP_DIAG_ECHO_PORT, &echo_handler,
				     d)) < 0)
		return rc;
	if (discard && (rc = tcp_listen(s, 0, DP_DIAG_DISCARD_PORT,
					&discard_handler, d)) < 0)
		return rc;
	return 0;
}
