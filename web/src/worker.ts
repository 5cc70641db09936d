// The inspector page's Web Worker: holds the WASM core and the open object, parses and disassembles
// off the main thread so that a large object never freezes the page. Bundled with the core's bytes.
import wasm from '../../wasm/ebpf_core.wasm';
import { ElfError, disassembleSpec, formatDisassembly, loadCore, mapInitialData, setCoreSource, type ObjectInfo } from '../../src/inspect.js';
import { CoreObject } from '../../src/elf/open.js';
import { findProblems } from './problems.js';
import type { ObjectModel, Request, Response } from './protocol.js';

const INITIAL_DATA_SHOWN = 4096;

interface WorkerScope {
  onmessage: ((event: MessageEvent<Request>) => void) | null;
  postMessage(message: Response, transfer?: Transferable[]): void;
}
const scope = self as unknown as WorkerScope;

setCoreSource(wasm);

let current: { bytes: Uint8Array; info: ObjectInfo } | undefined;

function open(name: string, bytes: Uint8Array): ObjectModel {
  const started = performance.now();
  current = undefined;
  const object = CoreObject.open(bytes, { btfTypes: true, btfExt: true });
  try {
    const info = object.info;
    const problems = findProblems(object);
    const initialData: Record<number, Uint8Array> = {};
    for (const map of info.maps) {
      const data = mapInitialData(bytes, map);
      if (data) initialData[map.index] = data.slice(0, INITIAL_DATA_SHOWN);
    }
    current = { bytes, info };
    return { name, size: bytes.length, info, problems, initialData, parseMs: performance.now() - started };
  } finally {
    object.close();
  }
}

function describe(e: unknown): string {
  if (e instanceof ElfError) return `${e.message} (${e.statusName})`;
  return e instanceof Error ? e.message : String(e);
}

scope.onmessage = (event) => {
  const request = event.data;
  void (async () => {
    try {
      await loadCore();
      if (request.kind === 'open') {
        scope.postMessage({ kind: 'opened', id: request.id, model: open(request.name, new Uint8Array(request.bytes)) });
        return;
      }
      if (!current) throw new Error('no object is open');
      const spec = current.info.programs.find((p) => p.name === request.program);
      if (!spec) throw new Error(`no program ${JSON.stringify(request.program)} in the object`);
      const instructions = disassembleSpec(current.bytes, current.info, spec);
      scope.postMessage({
        kind: 'disassembled', id: request.id,
        result: {
          program: spec.name, instructions,
          text: formatDisassembly(instructions), textWithoutRaw: formatDisassembly(instructions, { raw: false }),
        },
      });
    } catch (e) {
      scope.postMessage({ kind: 'error', id: request.id, message: describe(e) });
    }
  })();
};
