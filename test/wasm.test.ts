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

test('the core is under 150 KB', () => {
  assert.ok(readFileSync(wasmPath).length < 150 * 1024);
});

test.run();
