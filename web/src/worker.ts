// The inspector page's Web Worker: holds the WASM core and the open object, parses and disassembles
// off the main thread so that a large object never freezes the page. Bundled with the core's bytes.
import wasm from '../../wasm/ebpf_core.wasm';
import { loadCore, setCoreSource } from '../../src/inspect.js';
import type { Request, Response } from './protocol.js';
import { InspectorSession } from './session.js';

interface WorkerScope {
  onmessage: ((event: MessageEvent<Request>) => void) | null;
  postMessage(message: Response, transfer?: Transferable[]): void;
}
const scope = self as unknown as WorkerScope;

setCoreSource(wasm);
const session = new InspectorSession();

scope.onmessage = (event) => {
  const request = event.data;
  loadCore().then(
    () => scope.postMessage(session.handle(request)),
    (e: Error) => scope.postMessage({ kind: 'error', id: request.id, message: `cannot load the WASM core: ${e.message}` }),
  );
};
