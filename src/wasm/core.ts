// Loads the zero-import WASM core once, lazily, in Node and in browsers.
// The module's bytes are found next to the package (wasm/ebpf_core.wasm); a browser bundler or
// caller may hand them in instead with `setCoreSource`.

export interface CoreExports {
  memory: WebAssembly.Memory;
  /** Where the heap starts: below it lie the module's static data and stack. */
  __heap_base: WebAssembly.Global;
  ebpf_alloc(size: number): number;
  ebpf_free(ptr: number): void;
  ebpf_abi_version(): number;
  ebpf_object_open(data: number, size: number): number;
  ebpf_object_get_info(obj: number): number;
  ebpf_object_close(obj: number): void;
  ebpf_btf_render(btf: number, typeId: number): number;
  ebpf_btf_error_status(btf: number): number;
  ebpf_btf_error_message(btf: number): number;
  ebpf_btf_open(data: number, size: number, ext: number, extSize: number): number;
  ebpf_btf_close(result: number): void;
  ebpf_btf_open_lazy(data: number, size: number): number;
  ebpf_btf_type_at(btf: number, id: number): number;
  ebpf_btf_find(btf: number, name: number, len: number, kind: number): number;
  ebpf_btf_kernel_blob(obj: number): number;
  ebpf_program_relocate(obj: number, program: number, mapFds: number, mapFdCount: number, ksymValues: number, ksymCount: number): number;
  ebpf_program_image_free(image: number): void;
  ebpf_object_kconfig(obj: number): number;
  ebpf_object_ksyms(obj: number): number;
  ebpf_ksym_compatible(obj: number, ksym: number, kernel: number, kernelId: number): number;
  ebpf_perf_parse(data: number, size: number, position: bigint, out: number, capacity: number, packed: number, batch: number): number;
  ebpf_ringbuf_parse(data: number, size: number, position: bigint, out: number, capacity: number, packed: number, batch: number): number;
  ebpf_object_core_relocate(obj: number, target: number): number;
  ebpf_object_core_relocate_modules(obj: number, target: number, modules: number, moduleCount: number): number;
  ebpf_btf_open_split(base: number, data: number, size: number): number;
  [name: string]: WebAssembly.Memory | WebAssembly.Global | ((...args: number[]) => number | void) | ((...args: never[]) => number | void);
}

export const CORE_ABI_VERSION = 1;

type CoreSource = Uint8Array<ArrayBuffer> | ArrayBuffer | WebAssembly.Module | (() => Promise<Uint8Array<ArrayBuffer> | ArrayBuffer>);

let source: CoreSource | undefined;
let loaded: CoreExports | undefined;
let loading: Promise<CoreExports> | undefined;
let compiled: WebAssembly.Module | undefined;

/** Supplies the core's bytes or module (for browsers and bundlers); call before the first use. */
export function setCoreSource(src: CoreSource): void {
  source = src;
  loaded = undefined;
  loading = undefined;
  compiled = undefined;
}

const coreUrl = new URL('../../../wasm/ebpf_core.wasm', import.meta.url);

async function defaultBytes(): Promise<Uint8Array<ArrayBuffer> | ArrayBuffer> {
  if (coreUrl.protocol === 'file:') {
    // Built from a string so that bundlers for the browser do not follow it.
    const fsName = 'node:fs/promises';
    const fs = (await import(fsName)) as typeof import('node:fs/promises');
    return fs.readFile(coreUrl);
  }
  const response = await fetch(coreUrl);
  if (!response.ok) throw new Error(`cannot fetch the WASM core at ${coreUrl.href}: HTTP ${response.status}`);
  return response.arrayBuffer();
}

// The exports that return pointers (or ids that may pass 2^31): WebAssembly hands an i32 to JS as a
// signed number, so a pointer above 2 GiB would read as negative; these are read unsigned.
const UNSIGNED_RESULTS = [
  'ebpf_alloc', 'ebpf_object_open', 'ebpf_object_get_info', 'ebpf_btf_render', 'ebpf_btf_error_message', 'ebpf_btf_open',
  'ebpf_btf_find', 'ebpf_btf_kernel_blob', 'ebpf_program_relocate', 'ebpf_object_kconfig', 'ebpf_object_ksyms',
] as const;

function instantiate(module: WebAssembly.Module): CoreExports {
  compiled = module;
  const instance = new WebAssembly.Instance(module, {});
  const core = { ...(instance.exports as unknown as CoreExports) };
  for (const name of UNSIGNED_RESULTS) {
    const raw = core[name] as ((...args: number[]) => number) | undefined;
    if (typeof raw === 'function') (core as Record<string, unknown>)[name] = (...args: number[]): number => raw(...args) >>> 0;
  }
  const version = core.ebpf_abi_version();
  if (version !== CORE_ABI_VERSION) {
    throw new Error(`WASM core ABI ${version} does not match this library's ${CORE_ABI_VERSION}; rebuild with make wasm`);
  }
  return core;
}

/** The core, loaded and instantiated once. */
export async function loadCore(): Promise<CoreExports> {
  if (loaded) return loaded;
  loading ??= (async () => {
    const src = source ?? defaultBytes;
    const resolved = typeof src === 'function' ? await src() : src;
    const module = resolved instanceof WebAssembly.Module ? resolved : await WebAssembly.compile(resolved);
    loaded = instantiate(module);
    return loaded;
  })();
  return loading;
}

/** The core if already loaded, or loaded synchronously from disk in Node. */
export function loadCoreSync(): CoreExports {
  if (loaded) return loaded;
  const src = source;
  let bytes: Uint8Array<ArrayBuffer> | ArrayBuffer | WebAssembly.Module;
  if (src === undefined || typeof src === 'function') {
    if (coreUrl.protocol !== 'file:' || typeof process === 'undefined') {
      throw new Error('the WASM core is not loaded yet; await loadCore() first (browsers load it asynchronously)');
    }
    bytes = readFileSyncNode(coreUrl);
  } else {
    bytes = src;
  }
  const module = bytes instanceof WebAssembly.Module ? bytes : new WebAssembly.Module(bytes);
  loaded = instantiate(module);
  return loaded;
}

// process.getBuiltinModule is in Node >= 20.16 and keeps `node:fs` out of static imports,
// so the browser entry point stays free of node: modules.
function readFileSyncNode(url: URL): Uint8Array<ArrayBuffer> {
  const getBuiltin = (process as unknown as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule;
  if (!getBuiltin) throw new Error('this Node.js has no process.getBuiltinModule; await loadCore() first');
  const fs = getBuiltin('node:fs') as typeof import('node:fs');
  return new Uint8Array(fs.readFileSync(url));
}

/**
 * A second, private instance of the core (its own memory), for users that must not share the main
 * instance's memory: the event readers detach their memory's buffer after each batch so that
 * zero-copy record views cannot outlive it, which would break views the main instance's users hold.
 */
export function newCoreInstanceSync(): CoreExports {
  if (compiled === undefined) loadCoreSync();
  return instantiate(compiled as WebAssembly.Module);
}
