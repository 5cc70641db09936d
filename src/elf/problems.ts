// What `ebpf` would refuse or leave out when loading an object, found without a kernel: the core's
// diagnostics, programs of no loadable type, maps a load does not create, and each program's
// relocation (map references, calls, global data, CO-RE) tried with stand-in map fds and kernel
// symbols. Browser-safe: for tools that show an object (the inspector page), before any load.
import { describeMap, describeProgram } from '../sys/describe.js';
import { CoreObject } from './open.js';
import { ProgramType } from '../sys/generated.js';
import type { ObjectInfo } from './types.js';

/** error: System.load refuses it; warning: the load leaves it out or may fail on it; note: worth knowing. */
export type ProblemSeverity = 'error' | 'warning' | 'note';

/** One problem: an error is something System.load refuses, a warning something it leaves out. */
export interface ObjectProblem {
  severity: ProblemSeverity;
  message: string;
  /** The program it is about, when it is about one. */
  program?: string;
  /** The map it is about, when it is about one. */
  map?: string;
  /** The section it is about (a core diagnostic's), when it is about one. */
  sectionIndex?: number;
}

/** Why System.load (its plan) refuses programs of a type (enum bpf_prog_type), or undefined when it loads them. */
export function unloadableReason(type: number): string | undefined {
  switch (type) {
    case ProgramType.Unspec: return 'the section name gives no program type: pass one in programTypes';
    case ProgramType.StructOps: return 'struct_ops programs need the BTF id of their kernel operations table, which is not supported yet';
    case ProgramType.Ext: return 'freplace programs need the program they replace (its fd and function), which is not supported yet';
    default: return undefined;
  }
}

/** A map fd for relocating without a kernel: any valid-looking number does. */
const STAND_IN_FD = 1000;

/**
 * The problems of an eBPF ELF object: what System.load would refuse (programs of no loadable type,
 * instructions that cannot be relocated) or leave out (struct_ops maps), and what the core noted
 * while reading it. Throws ElfError when the object cannot be read at all.
 */
export function objectProblems(bytes: Uint8Array): ObjectProblem[] {
  const object = CoreObject.open(bytes);
  try {
    const info: ObjectInfo = object.info;
    const out: ObjectProblem[] = [];
    for (const d of info.diagnostics) {
      out.push({ severity: 'warning', message: `${d.kind}: ${d.message}`, ...(d.sectionIndex === null ? {} : { sectionIndex: d.sectionIndex }) });
    }
    if (info.endian === 'big') {
      out.push({ severity: 'note', message: 'big-endian object: only a big-endian kernel (s390x, ...) runs it; System.load refuses it on a little-endian one' });
    }
    if (info.license === null) {
      out.push({ severity: 'warning', message: 'no license section: the kernel refuses GPL-only helpers to a program without a GPL-compatible license' });
    }
    if (!info.btf) out.push({ severity: 'note', message: 'no BTF: no source lines or types, and the verifier says less' });
    for (const p of info.programs) {
      if (p.subprogram) continue;
      const reason = unloadableReason(p.type);
      if (reason) out.push({ severity: 'error', program: p.name, message: `${describeProgram({ program: p.name, section: p.section })}: ${reason}` });
      if (!p.autoload) out.push({ severity: 'note', program: p.name, message: `${describeProgram({ program: p.name })}: SEC("?...") — loaded only when asked` });
    }
    for (const m of info.maps) {
      if (m.origin === 'struct-ops') {
        out.push({ severity: 'warning', map: m.name, message: `${describeMap(m.name)}: struct_ops maps are not created (they need the kernel's BTF for their type)` });
      }
    }
    const fds = new Int32Array(info.maps.length).fill(STAND_IN_FD);
    const ksyms = new BigUint64Array(object.kernelSymbols().length);
    for (const p of info.programs) {
      if (p.subprogram || unloadableReason(p.type)) continue;
      try {
        object.relocate(p.index, fds, () => undefined, ksyms);
      } catch (e) {
        out.push({ severity: 'error', program: p.name, message: `${describeProgram({ program: p.name })} cannot be relocated: ${(e as Error).message}` });
      }
    }
    return out;
  } finally {
    object.close();
  }
}
