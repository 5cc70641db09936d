// The running kernel's BTF (/sys/kernel/btf/vmlinux), parsed once per process by the WASM core and
// searched by name: the BTF ids BPF_PROG_LOAD wants for programs attached to kernel functions
// (fentry/fexit/fmod_ret), raw tracepoints (tp_btf), LSM hooks and iterators, as libbpf finds them.
// Kernel modules' BTF (/sys/kernel/btf/<module>) is read for CO-RE when the kernel's has no candidate.
import { closeSync, fstatSync, openSync, readdirSync, readFileSync, readSync } from 'node:fs';
import type { ModuleBtf } from '../btf/core-relo.js';
import { BtfLookup } from '../btf/lookup.js';
import { openTargetBtf } from '../btf/core-relo.js';
import type { BtfKind } from '../btf/types.js';
import { AttachType } from '../sys/generated.js';
import { native, nativeUnavailableReason } from '../sys/native.js';
import { describeProgram, quoted } from '../sys/describe.js';

export const VMLINUX_BTF = '/sys/kernel/btf/vmlinux';

/** The running kernel lacks something a program needs: an attach target, a kfunc, a __ksym. */
export class KernelSymbolError extends Error {
  override name = 'KernelSymbolError';
}

let vmlinux: BtfLookup | undefined;

// mmap(2) of a BTF file (Linux values): read-only, private, pages populated by the one call.
const PROT_READ = 1, MAP_PRIVATE = 2, MAP_POPULATE = 0x8000;

/** Copies the file into view through one mmap (kernels from 6.16 map /sys/kernel/btf/*); false when that fails. */
function copyMapped(fd: number, view: Uint8Array): boolean {
  if (nativeUnavailableReason() !== undefined) return false;
  const mapped = native().mmap(fd, view.length, PROT_READ, MAP_PRIVATE | MAP_POPULATE, 0);
  if (typeof mapped === 'number') return false;
  try {
    view.set(new Uint8Array(mapped));
  } finally {
    native().munmap(mapped);
  }
  return true;
}

/**
 * Reads a file's bytes straight into the WASM core and opens them as BTF (no intermediate copy).
 * sysfs hands /sys/kernel/btf/vmlinux out a page per read(): where the kernel maps it, one mmap
 * replaces ~1350 reads.
 */
export function openBtfFile(path: string, base?: BtfLookup): BtfLookup {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    return BtfLookup.openWith(size, (view) => {
      if (size > 0 && copyMapped(fd, view)) return;
      let at = 0;
      while (at < size) {
        const n = readSync(fd, view, at, size - at, null);
        if (n === 0) throw new Error(`${path}: ended after ${at} of ${size} bytes`);
        at += n;
      }
    }, base);
  } finally {
    closeSync(fd);
  }
}

/** The kernel's BTF, read and indexed on first use and kept for the life of the process. */
export function kernelBtf(): BtfLookup {
  if (vmlinux === undefined) {
    try {
      vmlinux = openBtfFile(VMLINUX_BTF);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === undefined) throw e;
      throw new KernelSymbolError(`cannot read the kernel's BTF (${VMLINUX_BTF}: ${(e as NodeJS.ErrnoException).code}); the kernel needs CONFIG_DEBUG_INFO_BTF`);
    }
  }
  return vmlinux;
}

let modules: ModuleBtf[] | undefined;

/**
 * The BTF of every loaded kernel module (/sys/kernel/btf/<module>, split on the kernel's), read once
 * per process when first asked for; a module whose BTF cannot be read is left out.
 */
export function kernelModuleBtfs(): readonly ModuleBtf[] {
  if (modules === undefined) {
    const base = kernelBtf();
    const found: ModuleBtf[] = [];
    let names: string[] = [];
    try {
      names = readdirSync('/sys/kernel/btf').filter((n) => n !== 'vmlinux').sort();
    } catch {
      // no module BTF directory: none
    }
    for (const name of names) {
      try {
        found.push({ name, btf: openBtfFile(`/sys/kernel/btf/${name}`, base) });
      } catch {
        // unreadable or malformed: libbpf too goes on without it
      }
    }
    modules = found;
  }
  return modules;
}

/** A target BTF for CO-RE given by the user: a path or the bytes of raw BTF or an ELF with .BTF. */
export type KernelBtfSource = string | Uint8Array;

const byPath = new Map<string, BtfLookup>();

/**
 * The BTF CO-RE relocations resolve against: the kernel's own (vmlinux, shared with attach-target and
 * kfunc lookups) unless `source` gives one (a path, read and indexed once per process; or bytes,
 * opened for the caller, who closes it: `owned`).
 */
export function coreTargetBtf(source: KernelBtfSource | undefined): { btf: BtfLookup; owned: boolean } {
  if (source === undefined) return { btf: kernelBtf(), owned: false };
  if (source instanceof Uint8Array) return { btf: openTargetBtf(source, 'kernelBtf'), owned: true };
  let btf = byPath.get(source);
  if (btf === undefined) {
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(source);
    } catch (e) {
      throw new KernelSymbolError(`cannot read the target BTF ${source}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    btf = openTargetBtf(bytes, source);
    byPath.set(source, btf);
  }
  return { btf, owned: false };
}

/** What a program attached through BTF names, as its section gives it. */
export interface AttachTargetSpec {
  name: string;
  section?: string | undefined;
  /** The section name after its prefix: "do_unlinkat" for "fentry/do_unlinkat". */
  attachTarget: string | null;
  expectedAttachType?: AttachType | undefined;
}

/** The kernel BTF type a program of this attach type attaches to, as libbpf names it. */
export function attachTargetType(attachType: AttachType | undefined, target: string): { name: string; kind: BtfKind } {
  switch (attachType) {
    case AttachType.TraceRawTp: return { name: `btf_trace_${target}`, kind: 'typedef' };
    case AttachType.LSMMac: case AttachType.LSMCgroup: return { name: `bpf_lsm_${target}`, kind: 'func' };
    case AttachType.TraceIter: return { name: `bpf_iter_${target}`, kind: 'func' };
    default: return { name: target, kind: 'func' };
  }
}

/** attach_btf_id for BPF_PROG_LOAD: the id of the program's target in the kernel's BTF. */
export function attachBtfId(program: AttachTargetSpec): number {
  const where = describeProgram({ program: program.name, section: program.section });
  const target = program.attachTarget ?? '';
  if (target === '') throw new KernelSymbolError(`${where}: the section name gives no attach target (as in "fentry/<function>")`);
  if (target.includes(':')) {
    throw new KernelSymbolError(`${where}: attach target ${quoted(target)} names a kernel module; only the kernel's own BTF (${VMLINUX_BTF}) is searched`);
  }
  const { name, kind } = attachTargetType(program.expectedAttachType, target);
  let btf: BtfLookup;
  try {
    btf = kernelBtf();
  } catch (e) {
    throw new KernelSymbolError(`${where}: attach target ${quoted(target)}: ${(e as Error).message}`);
  }
  const id = btf.find(name, kind);
  if (id === 0) throw new KernelSymbolError(`${where}: attach target ${quoted(target)} not found: the kernel's BTF (${VMLINUX_BTF}) has no ${kind} ${quoted(name)}`);
  return id;
}
