// Shared by kernel tests: whether real kernel calls can run here, a uvu suite that skips with a
// printed reason where they cannot, and private bpffs / network-namespace fixtures that clean up.
import { execFileSync } from 'node:child_process';
import { accessSync, constants as fsConstants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { suite, type Test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Program } from '../../src/program/program.js';
import { VerifierError } from '../../src/program/verifier.js';
import { errnoCode, SyscallError } from '../../src/sys/errors.js';
import { ATTR, BpfCmd, MapType } from '../../src/sys/generated.js';
import { native, nativeUnavailableReason } from '../../src/sys/native.js';
import type { FeatureResult } from '../../src/features/index.js';

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
 * EBPF_TEST_STRICT=1 (set by .ci/run): what a machine could have but lacks (an outside tool, root,
 * the addon) fails the tests that need it instead of skipping them. A kernel feature the probes say
 * the running kernel lacks or forbids stays a skip, printed with the probe's reason: no install fixes
 * that, and `EBPF_TEST_STRICT=1 npm test` passes with nothing skipped that the kernel has.
 */
export const STRICT = process.env.EBPF_TEST_STRICT === '1';

/** Outside tools tests use, with how to get each (Debian package names). */
export const TOOLS = {
  bpftool: 'apt-get install bpftool',
  'clang-19': 'apt-get install clang-19',
  'llvm-objdump-19': 'apt-get install llvm-19',
  'llvm-strip-19': 'apt-get install llvm-19',
  chromium: 'apt-get install chromium',
  cc: 'apt-get install gcc',
  ip: 'apt-get install iproute2',
  tc: 'apt-get install iproute2',
} as const;
export type Tool = keyof typeof TOOLS;

/** The tool's path on PATH, or undefined. */
export function findTool(tool: Tool): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const path = join(dir, tool);
    try {
      accessSync(path, fsConstants.X_OK);
      return path;
    } catch {
      // Not in this directory.
    }
  }
  return undefined;
}

/** What a test needs: outside tools by name, kernel features as probe results. */
export type Requirement = Tool | FeatureResult;

/** Why the requirements are not met ("bpftool not installed (apt-get install bpftool)", a probe's reason), or undefined. */
export function unmet(requirements: readonly Requirement[]): { reason: string; fixable: boolean } | undefined {
  for (const r of requirements) {
    if (typeof r === 'string') {
      if (findTool(r) === undefined) return { reason: `${r} not installed (${TOOLS[r]})`, fixable: true };
    } else if (!r.supported) {
      return { reason: `the kernel lacks ${r.feature}${r.reason ? `: ${r.reason}` : ''}`, fixable: false };
    }
  }
  return undefined;
}

const toldMissing = new Set<string>();

/**
 * For a cross-check inside a test that runs without the tool: true where the tool is installed;
 * otherwise prints once per tool what is skipped and how to get it and returns false, or under
 * EBPF_TEST_STRICT=1 throws (fails the test).
 */
export function haveTool(tool: Tool, skipped: string): boolean {
  if (findTool(tool) !== undefined) return true;
  const reason = `${tool} not installed (${TOOLS[tool]})`;
  if (STRICT) throw new Error(`EBPF_TEST_STRICT=1: ${reason}: ${skipped} cannot run`);
  if (!toldMissing.has(`${tool}:${skipped}`)) console.log(`  skipped ${skipped}: ${reason}`);
  toldMissing.add(`${tool}:${skipped}`);
  return false;
}

/**
 * Registers a test that needs tools or kernel features: where one is missing it is skipped with one
 * printed line naming what is missing and how to get it; under EBPF_TEST_STRICT=1 a missing tool
 * fails the test instead. Requirements may be a function, evaluated only where kernel tests run
 * (feature probes need the kernel).
 */
export function testNeeding<T>(s: Test<T>, name: string, requirements: readonly Requirement[] | (() => readonly Requirement[]), fn: Parameters<Test<T>>[1]): void {
  const missing = typeof requirements === 'function' ? (kernelSkipReason() === undefined ? unmet(requirements()) : undefined) : unmet(requirements);
  if (missing === undefined) {
    s(name, fn);
  } else if (STRICT && missing.fixable) {
    s(name, () => {
      throw new Error(`EBPF_TEST_STRICT=1: ${missing.reason}`);
    });
  } else {
    console.log(`  skipped "${name}": ${missing.reason}`);
    s.skip(name, fn);
  }
}

/**
 * A uvu suite for tests making real kernel calls. Where kernelSkipReason() gives a reason, every test
 * is counted as skipped, hooks do not run, and the reason is printed once when the suite runs; under
 * EBPF_TEST_STRICT=1 each of them fails with that reason instead.
 */
export function kernelSuite<T = Record<string, unknown>>(name: string, context?: T): Test<T> {
  const real = suite<T>(name, context);
  const reason = kernelSkipReason();
  if (reason === undefined) return real;
  if (STRICT) {
    const failTest = (testName?: string): void =>
      real(testName ?? name, () => {
        throw new Error(`EBPF_TEST_STRICT=1: kernel tests cannot run: ${reason}`);
      });
    const noHook = Object.assign(() => {}, { each: () => {} });
    return Object.assign(failTest, { only: failTest, skip: failTest, before: noHook, after: noHook, run: () => real.run() }) as unknown as Test<T>;
  }
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
