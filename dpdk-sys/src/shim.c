/* One line per function: no logic lives here (see lib.rs). */
#include <rte_config.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_cycles.h>
#include <rte_pause.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_thash.h>
#include "shim.h"

uint16_t shim_rte_eth_rx_burst(uint16_t port, uint16_t queue, struct rte_mbuf **pkts, uint16_t n) { return rte_eth_rx_burst(port, queue, pkts, n); }
uint16_t shim_rte_eth_tx_burst(uint16_t port, uint16_t queue, struct rte_mbuf **pkts, uint16_t n) { return rte_eth_tx_burst(port, queue, pkts, n); }

struct rte_mbuf *shim_rte_pktmbuf_alloc(struct rte_mempool *mp) { return rte_pktmbuf_alloc(mp); }
int shim_rte_pktmbuf_alloc_bulk(struct rte_mempool *mp, struct rte_mbuf **mbufs, unsigned n) { return rte_pktmbuf_alloc_bulk(mp, mbufs, n); }
void shim_rte_pktmbuf_free(struct rte_mbuf *m) { rte_pktmbuf_free(m); }
char *shim_rte_pktmbuf_mtod(struct rte_mbuf *m) { return rte_pktmbuf_mtod(m, char *); }
uint16_t shim_rte_pktmbuf_data_len(const struct rte_mbuf *m) { return rte_pktmbuf_data_len(m); }
uint32_t shim_rte_pktmbuf_pkt_len(const struct rte_mbuf *m) { return rte_pktmbuf_pkt_len(m); }
uint16_t shim_rte_pktmbuf_nb_segs(const struct rte_mbuf *m) { return m->nb_segs; }
uint16_t shim_rte_pktmbuf_port(const struct rte_mbuf *m) { return m->port; }
void shim_rte_pktmbuf_set_port(struct rte_mbuf *m, uint16_t port) { m->port = port; }
uint16_t shim_rte_pktmbuf_headroom(const struct rte_mbuf *m) { return rte_pktmbuf_headroom(m); }
uint16_t shim_rte_pktmbuf_tailroom(const struct rte_mbuf *m) { return rte_pktmbuf_tailroom(m); }
char *shim_rte_pktmbuf_append(struct rte_mbuf *m, uint16_t len) { return rte_pktmbuf_append(m, len); }
char *shim_rte_pktmbuf_prepend(struct rte_mbuf *m, uint16_t len) { return rte_pktmbuf_prepend(m, len); }
char *shim_rte_pktmbuf_adj(struct rte_mbuf *m, uint16_t len) { return rte_pktmbuf_adj(m, len); }
int shim_rte_pktmbuf_trim(struct rte_mbuf *m, uint16_t len) { return rte_pktmbuf_trim(m, len); }
uint32_t shim_rte_pktmbuf_rss_hash(const struct rte_mbuf *m) { return m->hash.rss; }
uint64_t shim_rte_pktmbuf_ol_flags(const struct rte_mbuf *m) { return m->ol_flags; }

unsigned shim_rte_ring_enqueue_burst(struct rte_ring *r, void *const *objs, unsigned n) { return rte_ring_enqueue_burst(r, objs, n, NULL); }
unsigned shim_rte_ring_dequeue_burst(struct rte_ring *r, void **objs, unsigned n) { return rte_ring_dequeue_burst(r, objs, n, NULL); }
unsigned shim_rte_ring_count(const struct rte_ring *r) { return rte_ring_count(r); }
unsigned shim_rte_ring_free_count(const struct rte_ring *r) { return rte_ring_free_count(r); }

unsigned shim_rte_lcore_id(void) { return rte_lcore_id(); }
uint64_t shim_rte_rdtsc(void) { return rte_rdtsc(); }
void shim_rte_pause(void) { rte_pause(); }
int shim_rte_errno(void) { return rte_errno; }
uint32_t shim_rte_softrss(uint32_t *input_tuple, uint32_t input_len, const uint8_t *rss_key) { return rte_softrss(input_tuple, input_len, rss_key); }
uint64_t shim_rss_hf_ip_tcp_udp(void) { return RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP; }
uint64_t shim_rx_offload_ipv4_cksum(void) { return RTE_ETH_RX_OFFLOAD_IPV4_CKSUM; }
