// What `ebpf` would refuse or change when loading an object, found without a kernel: the core's
// diagnostics, programs with no loadable type, maps a load does not create, and each program's
// relocation (map references, calls, global data) tried with stand-in map fds and kernel symbols.
import { CoreObject } from '../../src/elf/open.js';
import type { ObjectInfo } from '../../src/inspect.js';
import type { Problem } from './protocol.js';

const STAND_IN_FD = 1000;

function route(kind: 'program' | 'map', name: string): string {
  return `${kind}/${encodeURIComponent(name)}`;
}

/** The problems of an object already opened by the core. */
export function findProblems(object: CoreObject): Problem[] {
  const info: ObjectInfo = object.info;
  const out: Problem[] = [];
  for (const d of info.diagnostics) {
    const section = d.sectionIndex === null ? undefined : info.sections[d.sectionIndex];
    out.push({
      severity: 'warning',
      message: `${d.kind}: ${d.message}`,
      ...(section ? { subject: `section/${section.index}` } : {}),
    });
  }
  if (info.endian === 'big') {
    out.push({ severity: 'note', message: 'big-endian object: only a big-endian kernel (s390x, ...) loads it; System.load refuses it on this kind of machine' });
  }
  if (info.license === null) {
    out.push({ severity: 'warning', message: 'no license section: the kernel refuses GPL-only helpers to a program without a GPL-compatible license' });
  }
  if (!info.btf) {
    out.push({ severity: 'note', message: 'no BTF: no source lines, no types for maps, and the verifier reports less' });
  }
  for (const p of info.programs) {
    if (p.subprogram) continue;
    if (p.typeName === 'unspec') {
      out.push({ severity: 'error', subject: route('program', p.name),
        message: `program ${p.name} (section ${p.section}): the section name gives no program type; System.load needs one in programTypes` });
    } else if (p.typeName === 'struct_ops') {
      out.push({ severity: 'error', subject: route('program', p.name),
        message: `program ${p.name}: struct_ops programs need the BTF id of their kernel operations table, which is not supported yet` });
    }
    if (!p.autoload) {
      out.push({ severity: 'note', subject: route('program', p.name), message: `program ${p.name}: SEC("?...") — not loaded unless asked` });
    }
  }
  for (const m of info.maps) {
    if (m.origin === 'struct-ops') {
      out.push({ severity: 'warning', subject: route('map', m.name),
        message: `map ${m.name}: struct_ops maps are not created (they need the kernel's BTF for their type)` });
    }
  }
  const fds = new Int32Array(info.maps.length).fill(STAND_IN_FD);
  const ksyms = new BigUint64Array(object.kernelSymbols().length);
  for (const p of info.programs) {
    if (p.subprogram) continue;
    try {
      object.relocate(p.index, fds, () => undefined, ksyms);
    } catch (e) {
      out.push({ severity: 'error', subject: route('program', p.name), message: `program ${p.name} cannot be relocated: ${(e as Error).message}` });
    }
  }
  return out;
}
