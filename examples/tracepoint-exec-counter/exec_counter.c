/* Tracepoint exec counter (goebpf's kprobe exec example, on a tracepoint): counts every execve(2)
 * on the machine, in total and for the last process that called it. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 2);
  __type(key, __u32);
  __type(value, __u64);
} exec_count SEC(".maps"); /* 0: execs seen, 1: pid of the last one */

SEC("tracepoint/syscalls/sys_enter_execve")
int count_exec(void *ctx) {
  __u32 total = 0, last = 1;
  __u64 *count = bpf_map_lookup_elem(&exec_count, &total);
  if (count) __sync_fetch_and_add(count, 1);
  __u64 pid = bpf_get_current_pid_tgid() >> 32;
  bpf_map_update_elem(&exec_count, &last, &pid, BPF_ANY);
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
