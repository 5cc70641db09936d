// Shared by kernel tests: whether real kernel calls can run here, a uvu suite that skips with a
// printed reason where they cannot, and private bpffs / network-namespace fixtures that clean up.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite, type Test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Program } from '../../src/program/program.js';
import { VerifierError } from '../../src/program/verifier.js';
import { errnoCode, SyscallError } from '../../src/sys/errors.js';
import { ATTR, BpfCmd, MapType } from '../../src/sys/generated.js';
import { native, nativeUnavailableReason } from '../../src/sys/native.js';

let skipReason: string | null | undefined;

function probeReason(): string | null {
  if (process.platform !== 'linux') return `not Linux (${process.platform})`;
  if (process.getuid?.() !== 0) return 'not root (kernel tests need CAP_BPF/CAP_SYS_ADMIN)';
  const why = nativeUnavailableReason();
  if (why !== undefined) return `no native bridge: ${why}`;
  const attr = new Uint8Array(ATTR.MAP_CREATE.SIZE);
  const view = new DataView(attr.buffer);
  view.setUint32(ATTR.MAP_CREATE.map_type.offset, MapType.Array, true);
  view.setUint32(ATTR.MAP_CREATE.key_size.offset, 4, true);
  view.setUint32(ATTR.MAP_CREATE.value_size.offset, 4, true);
  view.setUint32(ATTR.MAP_CREATE.max_entries.offset, 1, true);
  const fd = native().bpf(BpfCmd.MapCreate, attr);
  if (fd < 0) return `bpf(BPF_MAP_CREATE) fails with ${errnoCode(-fd)}`;
  native().close(fd);
  return null;
}

/** Why kernel tests cannot run here (not Linux / not root / no addon / no bpf()), or undefined if they can. */
export function kernelSkipReason(): string | undefined {
  skipReason ??= probeReason();
  return skipReason ?? undefined;
}

/**
 * A uvu suite for tests making real kernel calls. Where kernelSkipReason() gives a reason, every test
 * is counted as skipped, hooks do not run, and the reason is printed once when the suite runs.
 */
export function kernelSuite<T = Record<string, unknown>>(name: string, context?: T): Test<T> {
  const real = suite<T>(name, context);
  const reason = kernelSkipReason();
  if (reason === undefined) return real;
  const noHook = Object.assign(() => {}, { each: () => {} });
  const skipTest = (testName?: string): void => real.skip(testName);
  return Object.assign(skipTest, {
    only: skipTest,
    skip: skipTest,
    before: noHook,
    after: noHook,
    run: () => {
      console.log(`  ${name}: kernel tests skipped: ${reason}`);
      real.run();
    },
  });
}

/** Runs fn with a private bpffs mounted on a fresh temp dir; unmounts and removes it afterwards, even on failure. */
export async function withBpffs<R>(fn: (dir: string) => Promise<R> | R): Promise<R> {
  const dir = mkdtempSync(join(tmpdir(), 'ebpf-bpffs-'));
  try {
    execFileSync('mount', ['-t', 'bpf', 'bpf', dir], { stdio: ['ignore', 'ignore', 'pipe'] });
    try {
      return await fn(dir);
    } finally {
      execFileSync('umount', ['-l', dir], { stdio: ['ignore', 'ignore', 'pipe'] });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

let netnsCounter = 0;

/** A network namespace with one end of a veth pair in it and the other in the test's namespace. */
export interface Netns {
  /** Namespace name, for `ip netns exec NAME ...`. */
  name: string;
  /** veth end in the caller's (initial) namespace, up, 10.199.N.1/30. */
  hostIf: string;
  /** veth end inside the namespace, up, 10.199.N.2/30. */
  peerIf: string;
  hostAddress: string;
  peerAddress: string;
}

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/**
 * Runs fn with a fresh netns and a veth pair between it and the caller's namespace (addresses from a
 * private /30, so nothing is routed off the machine); deletes both afterwards, even on failure.
 */
export async function withNetns<R>(fn: (netns: Netns) => Promise<R> | R): Promise<R> {
  const n = (process.pid * 16 + netnsCounter++) % 250;
  const tag = `${process.pid.toString(36)}${netnsCounter}`;
  const netns: Netns = {
    name: `ebpf-test-${tag}`,
    hostIf: `ebh${tag}`.slice(0, 15),
    peerIf: `ebp${tag}`.slice(0, 15),
    hostAddress: `10.199.${n}.1`,
    peerAddress: `10.199.${n}.2`,
  };
  ip('netns', 'add', netns.name);
  try {
    ip('link', 'add', netns.hostIf, 'type', 'veth', 'peer', 'name', netns.peerIf, 'netns', netns.name);
    try {
      ip('addr', 'add', `${netns.hostAddress}/30`, 'dev', netns.hostIf);
      ip('link', 'set', netns.hostIf, 'up');
      ip('-n', netns.name, 'addr', 'add', `${netns.peerAddress}/30`, 'dev', netns.peerIf);
      ip('-n', netns.name, 'link', 'set', netns.peerIf, 'up');
      ip('-n', netns.name, 'link', 'set', 'lo', 'up');
      return await fn(netns);
    } finally {
      try {
        ip('link', 'del', netns.hostIf);
      } catch {
        // Already gone with the namespace.
      }
    }
  } finally {
    ip('netns', 'del', netns.name);
  }
}

/** Kernel features some machines lack, each with how such a kernel refuses a program needing it. */
export const KERNEL_MAY_LACK = {
  /** BPF trampolines (fentry/fexit/fmod_ret/lsm): the Firecracker VMs here refuse them with EPERM
   *  before the verifier runs, for libbpf too. */
  trampolines: (e: unknown): boolean => e instanceof SyscallError && !(e instanceof VerifierError) && e.code === 'EPERM',
  /** CONFIG_KALLSYMS_ALL: without it kallsyms has no variables, and the verifier cannot place a typed
   *  __ksym (its BTF id reached the kernel, which names the variable). */
  kallsymsVariables: (e: unknown): boolean => e instanceof VerifierError && /ldimm64 failed to find the address for kernel symbol '\w+'/.test(e.log),
};

/** Loads p: true when it loads, false when the kernel refuses it for lacking `feature`; anything else fails the test. */
export function loadsUnlessKernelLacks(p: Program, feature: keyof typeof KERNEL_MAY_LACK): boolean {
  try {
    p.load();
    assert.ok(p.info().id > 0);
    return true;
  } catch (e) {
    assert.ok(KERNEL_MAY_LACK[feature](e), `${p.name}: ${String(e)}`);
    return false;
  }
}
