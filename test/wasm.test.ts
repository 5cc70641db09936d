import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadCore, loadCoreSync, CORE_ABI_VERSION } from '../src/wasm/core.js';

const wasmPath = new URL('../../wasm/ebpf_core.wasm', import.meta.url);

test('the WASM core imports nothing', () => {
  const module = new WebAssembly.Module(readFileSync(wasmPath));
  assert.equal(WebAssembly.Module.imports(module), []);
});

test('the core loads once, synchronously or not, with the expected ABI', async () => {
  const a = loadCoreSync();
  const b = await loadCore();
  assert.is(a, b);
  assert.is(a.ebpf_abi_version(), CORE_ABI_VERSION);
});

// The budget a browser page pays for the core, at -O2 (speed is benchmarked against libbpf): 150 KB
// held ELF, BTF and relocation; ring framing, CO-RE and bounded rendering took it to ~151 KB.
test('the core is under 192 KB', () => {
  assert.ok(readFileSync(wasmPath).length < 192 * 1024);
});

test.run();
