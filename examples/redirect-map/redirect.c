/* goebpf's examples/xdp/bpf_redirect_map, in libbpf style: redirects the IPv4 packets an interface
 * receives to the interface stored at index 0 of the `if_redirect` DEVMAP, and counts them. Other
 * packets (ARP above all) pass, so the neighbours on both sides stay reachable. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct {
  __uint(type, BPF_MAP_TYPE_DEVMAP);
  __type(key, __u32);
  __type(value, __u32); /* ifindex */
  __uint(max_entries, 64);
} if_redirect SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __type(key, __u32);
  __type(value, __u64);
  __uint(max_entries, 1);
} redirected SEC(".maps");

SEC("xdp")
int redirect(struct xdp_md *ctx) {
  void *data = (void *)(long)ctx->data;
  void *end = (void *)(long)ctx->data_end;
  struct ethhdr *eth = data;
  if ((void *)(eth + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP))
    return XDP_PASS;
  long action = bpf_redirect_map(&if_redirect, 0, XDP_PASS);
  if (action == XDP_REDIRECT) {
    __u32 index = 0;
    __u64 *count = bpf_map_lookup_elem(&redirected, &index);
    if (count)
      *count += 1;
  }
  return action;
}

char _license[] SEC("license") = "GPL";
