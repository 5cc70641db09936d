/* goebpf's examples/xdp/packet_counter, in libbpf style: counts the IPv4 packets an interface receives
 * by IP protocol (per CPU, so no atomics), and passes every packet on. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __type(key, __u32);   /* IP protocol number */
  __type(value, __u64); /* packets */
  __uint(max_entries, 256);
} protocols SEC(".maps");

SEC("xdp")
int packet_count(struct xdp_md *ctx) {
  void *data = (void *)(long)ctx->data;
  void *end = (void *)(long)ctx->data_end;
  struct ethhdr *eth = data;
  if ((void *)(eth + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP))
    return XDP_PASS;
  struct iphdr *ip = (void *)(eth + 1);
  if ((void *)(ip + 1) > end)
    return XDP_PASS;
  __u32 protocol = ip->protocol;
  __u64 *count = bpf_map_lookup_elem(&protocols, &protocol);
  if (count)
    *count += 1;
  return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
