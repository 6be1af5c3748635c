/*
 * dataplane/dp_stats.c - the statistics file (dp_stats.h).
 */
#include "dataplane/dp_stats.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_ethdev.h>
#include <rte_mempool.h>

#include "dataplane/dp_rules.h"

#define U(f, name, v) fprintf(f, "\"%s\":%" PRIu64, name, (uint64_t)(v))

static void net_json(FILE *f, const struct net_stack_stats *s)
{
	fputs("{", f);
	U(f, "rx_packets", s->rx_packets); fputc(',', f);
	U(f, "rx_bytes", s->rx_bytes); fputc(',', f);
	U(f, "tx_packets", s->tx_packets); fputc(',', f);
	U(f, "tx_bytes", s->tx_bytes); fputc(',', f);
	U(f, "tx_errors", s->tx_errors); fputc(',', f);
	U(f, "alloc_fail", s->alloc_fail); fputc(',', f);
	U(f, "arp_rx", s->arp_rx); fputc(',', f);
	U(f, "arp_ignored", s->arp_ignored); fputc(',', f);
	U(f, "arp_conflicts", s->arp_conflicts); fputc(',', f);
	U(f, "arp_replies_tx", s->arp_replies_tx); fputc(',', f);
	U(f, "arp_requests_tx", s->arp_requests_tx); fputc(',', f);
	U(f, "arp_released", s->arp_released); fputc(',', f);
	U(f, "icmp_echo_rx", s->icmp_echo_rx); fputc(',', f);
	U(f, "icmp_echo_tx", s->icmp_echo_tx); fputc(',', f);
	U(f, "icmp_ratelimited", s->icmp_ratelimited); fputc(',', f);
	U(f, "icmp_errors_rx", s->icmp_errors_rx); fputc(',', f);
	U(f, "tcp_rx", s->tcp_rx); fputc(',', f);
	U(f, "ip_out", s->ip_out); fputc(',', f);
	U(f, "ip_out_err", s->ip_out_err); fputc(',', f);
	uint64_t total = 0;
	fputs("\"drop\":{", f);
	for (int d = 1; d < NET_DROP_MAX; d++) {
		total += s->drop[d];
		U(f, net_drop_name((enum net_drop)d), s->drop[d]);
		fputc(d + 1 < NET_DROP_MAX ? ',' : '}', f);
	}
	fputc(',', f);
	U(f, "drops", total);
	fputs("}", f);
}

static void tcp_json(FILE *f, const struct tcp_stack_stats *s)
{
	fputs("{\"conns\":{", f);
	for (int st = 0; st < TCP_NSTATES; st++) {
		U(f, tcp_state_name((enum tcp_state)st), s->conns[st]);
		fputc(st + 1 < TCP_NSTATES ? ',' : '}', f);
	}
#define T(x) fputc(',', f); U(f, #x, s->x)
	T(active_opens); T(passive_opens); T(accept_refused); T(conn_limit);
	T(segs_in); T(segs_out); T(bytes_in); T(bytes_out);
	T(retrans_segs); T(retrans_bytes); T(rto_expired); T(fast_retrans);
	T(sack_recovery); T(dup_acks); T(bad_csum); T(bad_hdr); T(no_conn);
	T(rst_sent); T(rst_ratelimited); T(rst_rcvd); T(challenge_acks);
	T(challenge_ratelimited); T(paws_drops); T(syn_cookies_sent);
	T(syn_cookies_ok); T(syn_cookies_bad); T(syn_dup); T(ooo_queued);
	T(ooo_dropped); T(rcv_pruned); T(rcv_collapsed);
	T(zero_window_probes); T(window_updates); T(keepalive_probes);
	T(timeouts); T(time_wait_reused); T(time_wait_evicted);
	T(pmtu_updates); T(snd_pool_empty); T(delayed_acks); T(quick_acks); T(pushed_acks);
	T(dup_data); T(dsacks);
#undef T
	fputs("}", f);
}

static void impair_json(FILE *f, const struct dp_impair_stats *s)
{
	fputc('{', f);
	U(f, "in", s->in); fputc(',', f);
	U(f, "out", s->out); fputc(',', f);
	U(f, "lost", s->lost); fputc(',', f);
	U(f, "duplicated", s->duplicated); fputc(',', f);
	U(f, "reordered", s->reordered); fputc(',', f);
	U(f, "overflow", s->overflow); fputc(',', f);
	U(f, "copy_fail", s->copy_fail); fputc(',', f);
	U(f, "held", s->held);
	fputc('}', f);
}

static void lcore_json(FILE *f, const struct dp_lcore *lc)
{
	struct dp_snapshot s;
	dp_lcore_snapshot(lc, &s);
	const struct dp_lcore_stats *l = &s.lc;
	struct rte_mempool *mp = lc->env.pool;

	fprintf(f, "{\"index\":%u,\"lcore\":%u,\"queue\":%u,", lc->idx,
		lc->lcore_id, lc->idx);
#define L(x) U(f, #x, l->x); fputc(',', f)
	L(loops); L(rx_bursts); L(rx_packets); L(rx_multiseg);
	L(steer_out); L(steer_in); L(steer_ring_full); L(arp_copies);
	L(arp_copy_fail); L(idle_sleeps); L(idle_sleep_us);
#undef L
	U(f, "tx_bursts", s.tx_bursts); fputc(',', f);
	U(f, "tx_packets", s.tx_packets); fputc(',', f);
	U(f, "tx_refused", s.tx_refused); fputc(',', f);
	U(f, "alloc_fail", s.alloc_fail); fputc(',', f);
	U(f, "drops", l->rx_multiseg + l->steer_ring_full + s.tx_refused);
	fputc(',', f);
	U(f, "nconns", s.nconns); fputc(',', f);
	fprintf(f, "\"mempool\":{\"name\":\"%s\",", mp->name);
	U(f, "size", mp->size); fputc(',', f);
	U(f, "in_use", rte_mempool_in_use_count(mp)); fputc(',', f);
	U(f, "avail", rte_mempool_avail_count(mp));
	fputs("},\"net\":", f);
	net_json(f, &s.net);
	fputs(",\"tcp\":", f);
	tcp_json(f, &s.tcp);
	fputs(",\"diag\":{", f);
	U(f, "echo_conns", s.diag.echo_conns); fputc(',', f);
	U(f, "echo_bytes", s.diag.echo_bytes); fputc(',', f);
	U(f, "echo_stalls", s.diag.echo_stalls); fputc(',', f);
	U(f, "discard_conns", s.diag.discard_conns); fputc(',', f);
	U(f, "discard_bytes", s.diag.discard_bytes); fputc(',', f);
	U(f, "closed_ok", s.diag.closed_ok); fputc(',', f);
	U(f, "closed_err", s.diag.closed_err);
	fputc('}', f);
	if (s.smtp) {
		const struct dp_smtp_stats *m = &s.smtp_st;
		fputs(",\"smtp\":{", f);
#define M(x) U(f, #x, m->x)
		M(conns); fputc(',', f); M(conns_refused); fputc(',', f);
		M(messages); fputc(',', f); M(handoff_full); fputc(',', f);
		M(replies_2xx); fputc(',', f); M(replies_4xx); fputc(',', f);
		M(replies_5xx); fputc(',', f); M(orphans); fputc(',', f);
		M(live); fputc(',', f); M(pool_in_use);
#undef M
		fputc('}', f);
	}
	if (s.impaired) {
		fputs(",\"impair\":{\"rx\":", f);
		impair_json(f, &s.impair_rx);
		fputs(",\"tx\":", f);
		impair_json(f, &s.impair_tx);
		fputc('}', f);
	}
	fputc('}', f);
}

static void port_json(FILE *f, const struct dp_port_info *p)
{
	struct rte_eth_stats es;
	char mac[RTE_ETHER_ADDR_FMT_SIZE];
	rte_ether_format_addr(mac, sizeof mac, &p->mac);
	fprintf(f, "{\"id\":%u,\"name\":\"%s\",\"driver\":\"%s\","
		"\"mac\":\"%s\",\"mtu\":%u,\"rx_offload_capa\":\"0x%" PRIx64
		"\",\"tx_offload_capa\":\"0x%" PRIx64 "\",\"offloads\":\"none\"",
		p->port, p->name, p->driver, mac, p->mtu, p->rx_offload_capa,
		p->tx_offload_capa);
	if (rte_eth_dev_is_valid_port(p->port) &&
	    rte_eth_stats_get(p->port, &es) == 0) {
		fputc(',', f); U(f, "ipackets", es.ipackets);
		fputc(',', f); U(f, "opackets", es.opackets);
		fputc(',', f); U(f, "imissed", es.imissed);
		fputc(',', f); U(f, "ierrors", es.ierrors);
		fputc(',', f); U(f, "oerrors", es.oerrors);
		fputc(',', f); U(f, "rx_nombuf", es.rx_nombuf);
	}
	fputc('}', f);
}

int dp_stats_write(const char *path, const struct dp_shared *sh,
		   const struct dp_port_info *port, const char *state,
		   uint64_t uptime_us)
{
	char tmp[512];
	if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp)
		return -ENAMETOOLONG;
	FILE *f = fopen(tmp, "w");
	if (f == NULL)
		return -errno;
	fprintf(f, "{\"version\":1,\"program\":\"sluiced\",\"pid\":%ld,"
		"\"state\":\"%s\",\"time\":%ld,\"uptime_ms\":%" PRIu64
		",\"net_lcores\":%u,\"port\":", (long)getpid(), state,
		(long)time(NULL), uptime_us / 1000, sh->n);
	port_json(f, port);
	fputs(",\"lcores\":[", f);
	uint64_t in_use = 0, conns = 0, drops = 0, handoff_full = 0;
	uint64_t scan_timeout = 0;
	for (unsigned i = 0; i < sh->n; i++) {
		struct dp_snapshot s;
		dp_lcore_snapshot(sh->lc[i], &s);
		if (s.smtp)
			handoff_full += s.smtp_st.handoff_full;
		in_use += rte_mempool_in_use_count(sh->lc[i]->env.pool);
		conns += s.nconns;
		drops += s.lc.rx_multiseg + s.lc.steer_ring_full +
			 s.tx_refused;
		for (int d = 1; d < NET_DROP_MAX; d++)
			drops += s.net.drop[d];
		if (i > 0)
			fputc(',', f);
		lcore_json(f, sh->lc[i]);
	}
	fputs("],\"scan_lcores\":[", f);
	for (unsigned i = 0; sh->scan != NULL && i < sh->scan->nscan; i++) {
		struct dp_scan_stats c;
		if (sh->scan->sl[i] == NULL)
			continue;
		dp_scan_stats(sh->scan, i, &c);
		fprintf(f, "%s{\"index\":%u,", i ? "," : "", i);
#define C(x) U(f, #x, c.x)
		C(messages); fputc(',', f); C(accepted); fputc(',', f);
		C(rejected); fputc(',', f); C(tempfail); fputc(',', f);
		C(scan_fail); fputc(',', f); C(spool_fail); fputc(',', f);
		C(spool_busy); fputc(',', f); C(scan_us); fputc(',', f);
		C(scan_timeout); fputc(',', f); C(edited); fputc(',', f);
		C(edit_fail); fputc(',', f);
		C(idle_sleeps); fputc(',', f); C(rules_gen);
		scan_timeout += c.scan_timeout;
#undef C
		fputc('}', f);
	}
	fputc(']', f);
	if (sh->scan != NULL && sh->scan->reloader != NULL) {
		struct dp_reload_stats r;
		dp_reloader_stats(sh->scan->reloader, &r);
		fputs(",\"rules\":{", f);
		U(f, "generation", r.gen); fputc(',', f);
		U(f, "reloads", r.reloads); fputc(',', f);
		U(f, "reload_failures", r.failures); fputc(',', f);
		U(f, "content_rules", r.ncontent); fputc(',', f);
		U(f, "spam_keywords", r.nspam); fputc(',', f);
		U(f, "db_rules", r.ndb);
		fputc('}', f);
	}
	fputs(",\"total\":{", f);
	U(f, "mempool_in_use", in_use); fputc(',', f);
	U(f, "nconns", conns); fputc(',', f);
	U(f, "drops", drops); fputc(',', f);
	/* Overload and budget: 451s for a full scan ring / a slow scan. */
	U(f, "handoff_full", handoff_full); fputc(',', f);
	U(f, "scan_timeout", scan_timeout);
	fputs("}}\n", f);
	int bad = ferror(f);
	if (fclose(f) != 0 || bad) {
		unlink(tmp);
		return -EIO;
	}
	if (rename(tmp, path) != 0) {
		int e = -errno;
		unlink(tmp);
		return e;
	}
	return 0;
}
