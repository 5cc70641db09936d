/* goebpf's examples/socket_filter/packet_counter, in libbpf style: a socket filter that counts the
 * packets (and bytes) its socket receives and keeps every one whole. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __type(key, __u32);   /* 0: packets, 1: bytes */
  __type(value, __u64);
  __uint(max_entries, 2);
} counter SEC(".maps");

SEC("socket")
int packet_counter(struct __sk_buff *skb) {
  __u32 packets = 0, bytes = 1;
  __u64 *value = bpf_map_lookup_elem(&counter, &packets);
  if (value)
    __sync_fetch_and_add(value, 1);
  value = bpf_map_lookup_elem(&counter, &bytes);
  if (value)
    __sync_fetch_and_add(value, skb->len);
  return skb->len; /* keep the whole packet */
}

char _license[] SEC("license") = "GPL";
