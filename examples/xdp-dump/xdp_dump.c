/* xdp_dump (goebpf's example, ported): for every TCP SYN arriving on the interface, sends its
 * addresses and ports, followed by the packet itself, to user space through a perf event array. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
  __uint(max_entries, 128); /* up to 128 CPUs */
  __uint(key_size, sizeof(__u32));
  __uint(value_size, sizeof(__u32));
} perfmap SEC(".maps");

/* Addresses and ports in network byte order, as on the wire. */
struct perf_event_item {
  __u32 src_ip, dst_ip;
  __u16 src_port, dst_port;
};

const struct perf_event_item *unused_perf_event_item __attribute__((unused));

SEC("xdp")
int xdp_dump(struct xdp_md *ctx) {
  void *data_end = (void *)(long)ctx->data_end;
  void *data = (void *)(long)ctx->data;
  __u64 packet_size = data_end - data;

  struct ethhdr *ether = data;
  if ((void *)(ether + 1) > data_end) return XDP_ABORTED;
  if (ether->h_proto != bpf_htons(ETH_P_IP)) return XDP_PASS;

  struct iphdr *ip = (void *)(ether + 1);
  if ((void *)(ip + 1) > data_end) return XDP_ABORTED;
  if (ip->protocol != IPPROTO_TCP) return XDP_PASS;

  struct tcphdr *tcp = (void *)ip + ip->ihl * 4;
  if ((void *)(tcp + 1) > data_end) return XDP_ABORTED;
  if (tcp->syn && !tcp->ack) {
    struct perf_event_item evt = {
        .src_ip = ip->saddr,
        .dst_ip = ip->daddr,
        .src_port = tcp->source,
        .dst_port = tcp->dest,
    };
    /* The upper 32 bits of the flags: how many bytes of the packet to append to the record. */
    __u64 flags = BPF_F_CURRENT_CPU | ((packet_size & 0xffff) << 32);
    bpf_perf_event_output(ctx, &perfmap, flags, &evt, sizeof(evt));
  }
  return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
