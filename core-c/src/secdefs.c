/* Program type, expected attach type and attach target from a section name: libbpf's SEC()
 * names (libbpf 1.x section_defs) and goebpf's names. Numbers are the kernel's enum values
 * (linux/bpf.h; the newer ones from a 6.18 vmlinux BTF). */
#include <string.h>

#include "secdefs.h"

enum {
  PT_SOCKET_FILTER = 1, PT_KPROBE = 2, PT_SCHED_CLS = 3, PT_SCHED_ACT = 4, PT_TRACEPOINT = 5,
  PT_XDP = 6, PT_PERF_EVENT = 7, PT_CGROUP_SKB = 8, PT_CGROUP_SOCK = 9, PT_LWT_IN = 10,
  PT_LWT_OUT = 11, PT_LWT_XMIT = 12, PT_SOCK_OPS = 13, PT_SK_SKB = 14, PT_CGROUP_DEVICE = 15,
  PT_SK_MSG = 16, PT_RAW_TRACEPOINT = 17, PT_CGROUP_SOCK_ADDR = 18, PT_LWT_SEG6LOCAL = 19,
  PT_LIRC_MODE2 = 20, PT_SK_REUSEPORT = 21, PT_FLOW_DISSECTOR = 22, PT_CGROUP_SYSCTL = 23,
  PT_RAW_TRACEPOINT_WRITABLE = 24, PT_CGROUP_SOCKOPT = 25, PT_TRACING = 26, PT_STRUCT_OPS = 27,
  PT_EXT = 28, PT_LSM = 29, PT_SK_LOOKUP = 30, PT_SYSCALL = 31, PT_NETFILTER = 32,
};

enum {
  AT_CGROUP_INET_INGRESS = 0, AT_CGROUP_INET_EGRESS = 1, AT_CGROUP_INET_SOCK_CREATE = 2,
  AT_CGROUP_SOCK_OPS = 3, AT_SK_SKB_STREAM_PARSER = 4, AT_SK_SKB_STREAM_VERDICT = 5,
  AT_CGROUP_DEVICE = 6, AT_SK_MSG_VERDICT = 7, AT_CGROUP_INET4_BIND = 8, AT_CGROUP_INET6_BIND = 9,
  AT_CGROUP_INET4_CONNECT = 10, AT_CGROUP_INET6_CONNECT = 11, AT_CGROUP_INET4_POST_BIND = 12,
  AT_CGROUP_INET6_POST_BIND = 13, AT_CGROUP_UDP4_SENDMSG = 14, AT_CGROUP_UDP6_SENDMSG = 15,
  AT_LIRC_MODE2 = 16, AT_FLOW_DISSECTOR = 17, AT_CGROUP_SYSCTL = 18, AT_CGROUP_UDP4_RECVMSG = 19,
  AT_CGROUP_UDP6_RECVMSG = 20, AT_CGROUP_GETSOCKOPT = 21, AT_CGROUP_SETSOCKOPT = 22,
  AT_TRACE_RAW_TP = 23, AT_TRACE_FENTRY = 24, AT_TRACE_FEXIT = 25, AT_MODIFY_RETURN = 26,
  AT_LSM_MAC = 27, AT_TRACE_ITER = 28, AT_CGROUP_INET4_GETPEERNAME = 29,
  AT_CGROUP_INET6_GETPEERNAME = 30, AT_CGROUP_INET4_GETSOCKNAME = 31,
  AT_CGROUP_INET6_GETSOCKNAME = 32, AT_XDP_DEVMAP = 33, AT_CGROUP_INET_SOCK_RELEASE = 34,
  AT_XDP_CPUMAP = 35, AT_SK_LOOKUP = 36, AT_XDP = 37, AT_SK_SKB_VERDICT = 38,
  AT_SK_REUSEPORT_SELECT = 39, AT_SK_REUSEPORT_SELECT_OR_MIGRATE = 40, AT_PERF_EVENT = 41,
  AT_TRACE_KPROBE_MULTI = 42, AT_LSM_CGROUP = 43, AT_NETFILTER = 45, AT_TCX_INGRESS = 46,
  AT_TCX_EGRESS = 47, AT_TRACE_UPROBE_MULTI = 48, AT_CGROUP_UNIX_CONNECT = 49,
  AT_CGROUP_UNIX_SENDMSG = 50, AT_CGROUP_UNIX_RECVMSG = 51, AT_CGROUP_UNIX_GETPEERNAME = 52,
  AT_CGROUP_UNIX_GETSOCKNAME = 53, AT_NETKIT_PRIMARY = 54, AT_NETKIT_PEER = 55,
  AT_TRACE_KPROBE_SESSION = 56,
};

/* Matching: EXACT names match only themselves; PLUS names (libbpf's "name+") match themselves
 * and "name/anything", the rest being the attach target. */
enum { EXACT = 0, PLUS = 1u << 8 };
#define SLEEPABLE (1u << 9)
#define FRAGS (1u << 10)
#define BTF_TARGET (1u << 11)
#define RET (1u << 12)
#define ATTACH_ZERO (1u << 13) /* the expected attach type is 0 (BPF_CGROUP_INET_INGRESS), not unset */

typedef struct {
  const char *name;
  uint8_t len;
  uint8_t prog_type;
  uint8_t attach_type;
  uint16_t flags;
} sec_def;

/* First match wins, so longer names precede their prefixes. */
static const sec_def defs[] = {
    {"socket", sizeof("socket") - 1, PT_SOCKET_FILTER, 0, EXACT},
    {"socket_filter", sizeof("socket_filter") - 1, PT_SOCKET_FILTER, 0, PLUS}, /* goebpf */
    {"sk_reuseport/migrate", sizeof("sk_reuseport/migrate") - 1, PT_SK_REUSEPORT, AT_SK_REUSEPORT_SELECT_OR_MIGRATE, EXACT},
    {"sk_reuseport", sizeof("sk_reuseport") - 1, PT_SK_REUSEPORT, AT_SK_REUSEPORT_SELECT, EXACT},
    {"kprobe.multi", sizeof("kprobe.multi") - 1, PT_KPROBE, AT_TRACE_KPROBE_MULTI, PLUS},
    {"kretprobe.multi", sizeof("kretprobe.multi") - 1, PT_KPROBE, AT_TRACE_KPROBE_MULTI, PLUS | RET},
    {"kprobe.session", sizeof("kprobe.session") - 1, PT_KPROBE, AT_TRACE_KPROBE_SESSION, PLUS},
    {"uprobe.multi.s", sizeof("uprobe.multi.s") - 1, PT_KPROBE, AT_TRACE_UPROBE_MULTI, PLUS | SLEEPABLE},
    {"uretprobe.multi.s", sizeof("uretprobe.multi.s") - 1, PT_KPROBE, AT_TRACE_UPROBE_MULTI, PLUS | SLEEPABLE | RET},
    {"uprobe.multi", sizeof("uprobe.multi") - 1, PT_KPROBE, AT_TRACE_UPROBE_MULTI, PLUS},
    {"uretprobe.multi", sizeof("uretprobe.multi") - 1, PT_KPROBE, AT_TRACE_UPROBE_MULTI, PLUS | RET},
    {"kprobe", sizeof("kprobe") - 1, PT_KPROBE, 0, PLUS},
    {"kretprobe", sizeof("kretprobe") - 1, PT_KPROBE, 0, PLUS | RET},
    {"uprobe.s", sizeof("uprobe.s") - 1, PT_KPROBE, 0, PLUS | SLEEPABLE},
    {"uretprobe.s", sizeof("uretprobe.s") - 1, PT_KPROBE, 0, PLUS | SLEEPABLE | RET},
    {"uprobe", sizeof("uprobe") - 1, PT_KPROBE, 0, PLUS},
    {"uretprobe", sizeof("uretprobe") - 1, PT_KPROBE, 0, PLUS | RET},
    {"ksyscall", sizeof("ksyscall") - 1, PT_KPROBE, 0, PLUS},
    {"kretsyscall", sizeof("kretsyscall") - 1, PT_KPROBE, 0, PLUS | RET},
    {"usdt.s", sizeof("usdt.s") - 1, PT_KPROBE, 0, PLUS | SLEEPABLE},
    {"usdt", sizeof("usdt") - 1, PT_KPROBE, 0, PLUS},
    {"tc/ingress", sizeof("tc/ingress") - 1, PT_SCHED_CLS, AT_TCX_INGRESS, EXACT},
    {"tc/egress", sizeof("tc/egress") - 1, PT_SCHED_CLS, AT_TCX_EGRESS, EXACT},
    {"tcx/ingress", sizeof("tcx/ingress") - 1, PT_SCHED_CLS, AT_TCX_INGRESS, EXACT},
    {"tcx/egress", sizeof("tcx/egress") - 1, PT_SCHED_CLS, AT_TCX_EGRESS, EXACT},
    {"tc", sizeof("tc") - 1, PT_SCHED_CLS, 0, PLUS},         /* goebpf accepts "tc/..." too */
    {"classifier", sizeof("classifier") - 1, PT_SCHED_CLS, 0, PLUS}, /* goebpf and old libbpf */
    {"action", sizeof("action") - 1, PT_SCHED_ACT, 0, PLUS},
    {"tc_cls", sizeof("tc_cls") - 1, PT_SCHED_CLS, 0, PLUS}, /* goebpf */
    {"tc_act", sizeof("tc_act") - 1, PT_SCHED_ACT, 0, PLUS}, /* goebpf */
    {"netkit/primary", sizeof("netkit/primary") - 1, PT_SCHED_CLS, AT_NETKIT_PRIMARY, EXACT},
    {"netkit/peer", sizeof("netkit/peer") - 1, PT_SCHED_CLS, AT_NETKIT_PEER, EXACT},
    {"tracepoint", sizeof("tracepoint") - 1, PT_TRACEPOINT, 0, PLUS},
    {"tp_btf", sizeof("tp_btf") - 1, PT_TRACING, AT_TRACE_RAW_TP, PLUS | BTF_TARGET},
    {"tp", sizeof("tp") - 1, PT_TRACEPOINT, 0, PLUS},
    {"raw_tracepoint.w", sizeof("raw_tracepoint.w") - 1, PT_RAW_TRACEPOINT_WRITABLE, 0, PLUS},
    {"raw_tp.w", sizeof("raw_tp.w") - 1, PT_RAW_TRACEPOINT_WRITABLE, 0, PLUS},
    {"raw_tracepoint", sizeof("raw_tracepoint") - 1, PT_RAW_TRACEPOINT, 0, PLUS},
    {"raw_tp", sizeof("raw_tp") - 1, PT_RAW_TRACEPOINT, 0, PLUS},
    {"fentry.s", sizeof("fentry.s") - 1, PT_TRACING, AT_TRACE_FENTRY, PLUS | BTF_TARGET | SLEEPABLE},
    {"fmod_ret.s", sizeof("fmod_ret.s") - 1, PT_TRACING, AT_MODIFY_RETURN, PLUS | BTF_TARGET | SLEEPABLE},
    {"fexit.s", sizeof("fexit.s") - 1, PT_TRACING, AT_TRACE_FEXIT, PLUS | BTF_TARGET | SLEEPABLE},
    {"fentry", sizeof("fentry") - 1, PT_TRACING, AT_TRACE_FENTRY, PLUS | BTF_TARGET},
    {"fmod_ret", sizeof("fmod_ret") - 1, PT_TRACING, AT_MODIFY_RETURN, PLUS | BTF_TARGET},
    {"fexit", sizeof("fexit") - 1, PT_TRACING, AT_TRACE_FEXIT, PLUS | BTF_TARGET},
    {"freplace", sizeof("freplace") - 1, PT_EXT, 0, PLUS | BTF_TARGET},
    {"lsm.s", sizeof("lsm.s") - 1, PT_LSM, AT_LSM_MAC, PLUS | BTF_TARGET | SLEEPABLE},
    {"lsm_cgroup", sizeof("lsm_cgroup") - 1, PT_LSM, AT_LSM_CGROUP, PLUS | BTF_TARGET},
    {"lsm", sizeof("lsm") - 1, PT_LSM, AT_LSM_MAC, PLUS | BTF_TARGET},
    {"iter.s", sizeof("iter.s") - 1, PT_TRACING, AT_TRACE_ITER, PLUS | BTF_TARGET | SLEEPABLE},
    {"iter", sizeof("iter") - 1, PT_TRACING, AT_TRACE_ITER, PLUS | BTF_TARGET},
    {"syscall", sizeof("syscall") - 1, PT_SYSCALL, 0, EXACT | SLEEPABLE},
    {"xdp.frags/devmap", sizeof("xdp.frags/devmap") - 1, PT_XDP, AT_XDP_DEVMAP, EXACT | FRAGS},
    {"xdp/devmap", sizeof("xdp/devmap") - 1, PT_XDP, AT_XDP_DEVMAP, EXACT},
    {"xdp.frags/cpumap", sizeof("xdp.frags/cpumap") - 1, PT_XDP, AT_XDP_CPUMAP, EXACT | FRAGS},
    {"xdp/cpumap", sizeof("xdp/cpumap") - 1, PT_XDP, AT_XDP_CPUMAP, EXACT},
    {"xdp.frags", sizeof("xdp.frags") - 1, PT_XDP, AT_XDP, EXACT | FRAGS},
    {"xdp", sizeof("xdp") - 1, PT_XDP, AT_XDP, PLUS}, /* goebpf: "xdp/..." names */
    {"perf_event", sizeof("perf_event") - 1, PT_PERF_EVENT, 0, EXACT},
    {"lwt_in", sizeof("lwt_in") - 1, PT_LWT_IN, 0, EXACT},
    {"lwt_out", sizeof("lwt_out") - 1, PT_LWT_OUT, 0, EXACT},
    {"lwt_xmit", sizeof("lwt_xmit") - 1, PT_LWT_XMIT, 0, EXACT},
    {"lwt_seg6local", sizeof("lwt_seg6local") - 1, PT_LWT_SEG6LOCAL, 0, EXACT},
    {"sockops", sizeof("sockops") - 1, PT_SOCK_OPS, AT_CGROUP_SOCK_OPS, EXACT},
    {"sk_skb/stream_parser", sizeof("sk_skb/stream_parser") - 1, PT_SK_SKB, AT_SK_SKB_STREAM_PARSER, EXACT},
    {"sk_skb/stream_verdict", sizeof("sk_skb/stream_verdict") - 1, PT_SK_SKB, AT_SK_SKB_STREAM_VERDICT, EXACT},
    {"sk_skb/verdict", sizeof("sk_skb/verdict") - 1, PT_SK_SKB, AT_SK_SKB_VERDICT, EXACT},
    {"sk_skb", sizeof("sk_skb") - 1, PT_SK_SKB, 0, EXACT},
    {"sk_msg", sizeof("sk_msg") - 1, PT_SK_MSG, AT_SK_MSG_VERDICT, EXACT},
    {"lirc_mode2", sizeof("lirc_mode2") - 1, PT_LIRC_MODE2, AT_LIRC_MODE2, EXACT},
    {"flow_dissector", sizeof("flow_dissector") - 1, PT_FLOW_DISSECTOR, AT_FLOW_DISSECTOR, EXACT},
    {"cgroup_skb/ingress", sizeof("cgroup_skb/ingress") - 1, PT_CGROUP_SKB, AT_CGROUP_INET_INGRESS, EXACT | ATTACH_ZERO},
    {"cgroup_skb/egress", sizeof("cgroup_skb/egress") - 1, PT_CGROUP_SKB, AT_CGROUP_INET_EGRESS, EXACT},
    {"cgroup/skb", sizeof("cgroup/skb") - 1, PT_CGROUP_SKB, 0, EXACT},
    {"cgroup/sock_create", sizeof("cgroup/sock_create") - 1, PT_CGROUP_SOCK, AT_CGROUP_INET_SOCK_CREATE, EXACT},
    {"cgroup/sock_release", sizeof("cgroup/sock_release") - 1, PT_CGROUP_SOCK, AT_CGROUP_INET_SOCK_RELEASE, EXACT},
    {"cgroup/sock", sizeof("cgroup/sock") - 1, PT_CGROUP_SOCK, AT_CGROUP_INET_SOCK_CREATE, EXACT},
    {"cgroup/post_bind4", sizeof("cgroup/post_bind4") - 1, PT_CGROUP_SOCK, AT_CGROUP_INET4_POST_BIND, EXACT},
    {"cgroup/post_bind6", sizeof("cgroup/post_bind6") - 1, PT_CGROUP_SOCK, AT_CGROUP_INET6_POST_BIND, EXACT},
    {"cgroup/bind4", sizeof("cgroup/bind4") - 1, PT_CGROUP_SOCK_ADDR, AT_CGROUP_INET4_BIND, EXACT},
    {"cgroup/bind6", sizeof("cgroup/bind6") - 1, PT_CGROUP_SOCK_ADDR, AT_CGROUP_INET6_BIND, EXACT},
    {"cgroup/connect4", sizeof("cgroup/connect4") - 1, PT_CGROUP_SOCK_ADDR, AT_CGROUP_INET4_CONNECT, EXACT},
    {"cgroup/connect6", sizeof("cgroup/connect6") - 1, PT_CGROUP_SOCK_ADDR, AT_CGROUP_INET6_CONNECT, EXACT},
    {"cgroup/connect_unix", sizeof("cgroup/connect_unix") - 1, PT_CGROUP_SOCK_ADDR, AT_CGROUP_UNIX_CONNECT, EXACT},
    {"cgroup/sendmsg4", sizeof("cgroup/sendmsg4") - 1, PT_CGROUP_SOCK_ADDR, AT_CGROUP_UDP4_SENDMSG, EXACT},
    {"cgroup/sendmsg6", sizeof("cgroup/sendmsg6") - 1, PT_CGROUP_SOCK_ADDR, AT_CGROUP_UDP6_SENDMSG, EXACT},
    {"cgroup/sendmsg_unix", sizeof("cgroup/sendmsg_unix") - 1, PT_CGROUP_SOCK_ADDR, AT_CGROUP_UNIX_SENDMSG, EXACT},
    {"cgroup/recvmsg4", sizeof("cgroup/recvmsg4") - 1, PT_CGROUP_SOCK_ADDR, AT_CGROUP_UDP4_RECVMSG, EXACT},
    {"cgroup/recvmsg6", sizeof("cgroup/recvmsg6") - 1, PT_CGROUP_SOCK_ADDR, AT_CGROUP_UDP6_RECVMSG, EXACT},
    {"cgroup/recvmsg_unix", sizeof("cgroup/recvmsg_unix") - 1, PT_CGROUP_SOCK_ADDR, AT_CGROUP_UNIX_RECVMSG, EXACT},
    {"cgroup/getpeername4", sizeof("cgroup/getpeername4") - 1, PT_CGROUP_SOCK_ADDR, AT_CGROUP_INET4_GETPEERNAME, EXACT},
    {"cgroup/getpeername6", sizeof("cgroup/getpeername6") - 1, PT_CGROUP_SOCK_ADDR, AT_CGROUP_INET6_GETPEERNAME, EXACT},
    {"cgroup/getpeername_unix", sizeof("cgroup/getpeername_unix") - 1, PT_CGROUP_SOCK_ADDR, AT_CGROUP_UNIX_GETPEERNAME, EXACT},
    {"cgroup/getsockname4", sizeof("cgroup/getsockname4") - 1, PT_CGROUP_SOCK_ADDR, AT_CGROUP_INET4_GETSOCKNAME, EXACT},
    {"cgroup/getsockname6", sizeof("cgroup/getsockname6") - 1, PT_CGROUP_SOCK_ADDR, AT_CGROUP_INET6_GETSOCKNAME, EXACT},
    {"cgroup/getsockname_unix", sizeof("cgroup/getsockname_unix") - 1, PT_CGROUP_SOCK_ADDR, AT_CGROUP_UNIX_GETSOCKNAME, EXACT},
    {"cgroup/sysctl", sizeof("cgroup/sysctl") - 1, PT_CGROUP_SYSCTL, AT_CGROUP_SYSCTL, EXACT},
    {"cgroup/getsockopt", sizeof("cgroup/getsockopt") - 1, PT_CGROUP_SOCKOPT, AT_CGROUP_GETSOCKOPT, EXACT},
    {"cgroup/setsockopt", sizeof("cgroup/setsockopt") - 1, PT_CGROUP_SOCKOPT, AT_CGROUP_SETSOCKOPT, EXACT},
    {"cgroup/dev", sizeof("cgroup/dev") - 1, PT_CGROUP_DEVICE, AT_CGROUP_DEVICE, EXACT},
    {"struct_ops.s", sizeof("struct_ops.s") - 1, PT_STRUCT_OPS, 0, PLUS | SLEEPABLE},
    {"struct_ops", sizeof("struct_ops") - 1, PT_STRUCT_OPS, 0, PLUS},
    {"sk_lookup", sizeof("sk_lookup") - 1, PT_SK_LOOKUP, AT_SK_LOOKUP, EXACT},
    {"netfilter", sizeof("netfilter") - 1, PT_NETFILTER, AT_NETFILTER, EXACT},
};

static void fill(const sec_def *d, uint32_t n, uint32_t target, secdef_match *out) {
  out->prog_type = d->prog_type;
  out->expected_attach_type = d->attach_type;
  out->def_name = d->name;
  out->def_len = n;
  out->target_off = target;
  out->flags = 0;
  out->load_flags = 0;
  if (d->flags & RET) out->flags |= EBPF_PROG_RETPROBE;
  if (d->attach_type || (d->flags & ATTACH_ZERO)) out->flags |= EBPF_PROG_HAS_ATTACH_TYPE;
  if (d->flags & BTF_TARGET) out->flags |= EBPF_PROG_NEEDS_TARGET;
  if (d->flags & SLEEPABLE) out->load_flags |= 1u << 4; /* BPF_F_SLEEPABLE */
  if (d->flags & FRAGS) out->load_flags |= 1u << 5;     /* BPF_F_XDP_HAS_FRAGS */
}

static int lookup(const char *name, uint32_t len, secdef_match *out);

int secdef_lookup(const char *name, uint32_t len, secdef_match *out) {
  /* libbpf >= 1.0: a leading '?' turns autoload off; the type comes from the rest */
  if (len > 1 && name[0] == '?') {
    if (lookup(name + 1, len - 1, out)) return -1;
    out->flags |= EBPF_PROG_NO_AUTOLOAD;
    if (out->target_off) out->target_off += 1;
    return 0;
  }
  return lookup(name, len, out);
}

static int lookup(const char *name, uint32_t len, secdef_match *out) {
  const size_t count = sizeof defs / sizeof defs[0];
  for (size_t i = 0; i < count; i++) {
    const sec_def *d = &defs[i];
    uint32_t n = d->len;
    /* the first two bytes (every name has two) first: they rule out nearly every entry without a memcmp call */
    if (len < n || name[0] != d->name[0] || name[1] != d->name[1] || memcmp(name, d->name, n) != 0) continue;
    if (len == n) {
      fill(d, n, 0, out);
      return 0;
    }
    if ((d->flags & PLUS) && name[n] == '/') {
      fill(d, n, n + 1, out);
      return 0;
    }
  }
  /* Older loaders (libbpf before 1.0, cilium/ebpf, iproute2) also accept "name/anything" for
   * exact names, e.g. "socket/2": the rest is kept as the attach target. */
  for (size_t i = 0; i < count; i++) {
    const sec_def *d = &defs[i];
    uint32_t n = d->len;
    if (len > n && name[n] == '/' && name[0] == d->name[0] && name[1] == d->name[1] && memcmp(name, d->name, n) == 0) {
      fill(d, n, n + 1, out);
      return 0;
    }
  }
  return -1;
}
