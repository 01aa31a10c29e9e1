/* Linkable wrappers for DPDK functions that exist only as static inline or macros. */
#ifndef FERROWALL_SHIM_H
#define FERROWALL_SHIM_H
#include <stdint.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

uint16_t shim_rte_eth_rx_burst(uint16_t port, uint16_t queue, struct rte_mbuf **pkts, uint16_t n);
uint16_t shim_rte_eth_tx_burst(uint16_t port, uint16_t queue, struct rte_mbuf **pkts, uint16_t n);

struct rte_mbuf *shim_rte_pktmbuf_alloc(struct rte_mempool *mp);
int shim_rte_pktmbuf_alloc_bulk(struct rte_mempool *mp, struct rte_mbuf **mbufs, unsigned n);
void shim_rte_pktmbuf_free(struct rte_mbuf *m);
char *shim_rte_pktmbuf_mtod(struct rte_mbuf *m);
uint16_t shim_rte_pktmbuf_data_len(const struct rte_mbuf *m);
uint32_t shim_rte_pktmbuf_pkt_len(const struct rte_mbuf *m);
uint16_t shim_rte_pktmbuf_nb_segs(const struct rte_mbuf *m);
uint16_t shim_rte_pktmbuf_port(const struct rte_mbuf *m);
void shim_rte_pktmbuf_set_port(struct rte_mbuf *m, uint16_t port);
uint16_t shim_rte_pktmbuf_headroom(const struct rte_mbuf *m);
uint16_t shim_rte_pktmbuf_tailroom(const struct rte_mbuf *m);
char *shim_rte_pktmbuf_append(struct rte_mbuf *m, uint16_t len);
char *shim_rte_pktmbuf_prepend(struct rte_mbuf *m, uint16_t len);
char *shim_rte_pktmbuf_adj(struct rte_mbuf *m, uint16_t len);
int shim_rte_pktmbuf_trim(struct rte_mbuf *m, uint16_t len);
uint32_t shim_rte_pktmbuf_rss_hash(const struct rte_mbuf *m);
uint64_t shim_rte_pktmbuf_ol_flags(const struct rte_mbuf *m);

unsigned shim_rte_ring_enqueue_burst(struct rte_ring *r, void *const *objs, unsigned n);
unsigned shim_rte_ring_dequeue_burst(struct rte_ring *r, void **objs, unsigned n);
unsigned shim_rte_ring_count(const struct rte_ring *r);
unsigned shim_rte_ring_free_count(const struct rte_ring *r);

unsigned shim_rte_lcore_id(void);
uint64_t shim_rte_rdtsc(void);
void shim_rte_pause(void);
int shim_rte_errno(void);
uint32_t shim_rte_softrss(uint32_t *input_tuple, uint32_t input_len, const uint8_t *rss_key);
/* Macro built from RTE_BIT64, which bindgen cannot evaluate. */
uint64_t shim_rss_hf_ip_tcp_udp(void);
uint64_t shim_rx_offload_ipv4_cksum(void);
#endif
