/* goebpf's examples/xdp/basic_firewall, in libbpf style: drops IPv4 packets whose source address falls
 * in one of the CIDRs of the `blacklist` LPM trie (its value is the rule's index) and counts the
 * packets each rule matched in `matches`; every other packet passes. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define MAX_RULES 16

struct lpm_key {
  __u32 prefixlen;
  __u32 address; /* network order */
};

struct {
  __uint(type, BPF_MAP_TYPE_LPM_TRIE);
  __type(key, struct lpm_key);
  __type(value, __u32); /* rule index */
  __uint(max_entries, MAX_RULES);
  __uint(map_flags, BPF_F_NO_PREALLOC);
} blacklist SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __type(key, __u32);   /* rule index */
  __type(value, __u64); /* packets dropped */
  __uint(max_entries, MAX_RULES);
} matches SEC(".maps");

SEC("xdp")
int firewall(struct xdp_md *ctx) {
  void *data = (void *)(long)ctx->data;
  void *end = (void *)(long)ctx->data_end;
  struct ethhdr *eth = data;
  if ((void *)(eth + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP))
    return XDP_PASS;
  struct iphdr *ip = (void *)(eth + 1);
  if ((void *)(ip + 1) > end)
    return XDP_PASS;
  struct lpm_key key = {.prefixlen = 32, .address = ip->saddr};
  __u32 *rule = bpf_map_lookup_elem(&blacklist, &key);
  if (!rule)
    return XDP_PASS;
  __u32 index = *rule;
  __u64 *count = bpf_map_lookup_elem(&matches, &index);
  if (count)
    *count += 1;
  return XDP_DROP;
}

char _license[] SEC("license") = "GPL";
