// What a test run may leave behind of its own, for the runner's leak check: open BPF and perf fds
// of this process (attachments, programs, maps), legacy probe events of this process in tracefs
// (group ebpf_<pid>), test cgroups (ebpf-test-<pid>-N) and network namespaces (ebpf-test-<pid in
// base 36>N). Keyed on this process's own fds, pid and names: other runs on the machine do not count.
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';

/** One line per thing of ours that exists now ("fd 23: anon_inode:bpf-link", "cgroup ..."). */
export function ownedResources(): string[] {
  const out: string[] = [];
  for (const fd of safeList('/proc/self/fd')) {
    let target: string;
    try {
      target = readlinkSync(join('/proc/self/fd', fd));
    } catch {
      continue;
    }
    if (/^anon_inode:(bpf-link|bpf-prog|bpf-map|\[perf_event\]|bpf_iter)/.test(target)) out.push(`fd ${fd}: ${target}`);
  }
  for (const dir of ['/sys/kernel/tracing', '/sys/kernel/debug/tracing']) {
    for (const file of ['kprobe_events', 'uprobe_events']) {
      const path = join(dir, file);
      if (!existsSync(path)) continue;
      for (const line of readFileSync(path, 'utf8').split('\n')) {
        if (line.includes(`:ebpf_${process.pid}/`)) out.push(`probe event ${line.trim()} (${path})`);
      }
    }
  }
  for (const name of safeList('/sys/fs/cgroup/unified')) {
    if (name.startsWith(`ebpf-test-${process.pid}-`)) out.push(`cgroup /sys/fs/cgroup/unified/${name}`);
  }
  for (const name of safeList('/var/run/netns')) {
    if (name.startsWith(`ebpf-test-${process.pid.toString(36)}`)) out.push(`netns ${name}`);
  }
  return out;
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** What exists now and did not before. */
export function newSince(before: readonly string[]): string[] {
  const had = new Set(before);
  return ownedResources().filter((r) => !had.has(r));
}
