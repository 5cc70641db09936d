// Inputs that once crashed or hung the core under `make fuzz` (fuzz/regressions/), replayed
// through the TypeScript API: each must decode (and render) or fail with ElfError.
// *.btf files are fuzz_btf inputs: a little-endian u32 N, N bytes of .BTF, then the .BTF.ext.
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseBtf } from '../../src/btf/index.js';
import { ElfError, inspect } from '../../src/inspect.js';

const dir = resolve(dirname(fileURLToPath(import.meta.url)), '../../../fuzz/regressions');

function decodesOrElfError(run: () => void, what: string): void {
  try {
    run();
  } catch (e) {
    assert.ok(e instanceof ElfError, `${what}: ${String(e)}`);
  }
}

for (const name of readdirSync(dir).sort()) {
  const bytes = new Uint8Array(readFileSync(join(dir, name)));
  if (name.endsWith('.btf')) {
    test(`${name}: parses and renders, or ElfError`, () => {
      const size = new DataView(bytes.buffer).getUint32(0, true);
      const btf = bytes.subarray(4, 4 + size);
      const ext = bytes.subarray(4 + size);
      decodesOrElfError(() => parseBtf(btf, ext.length ? ext : undefined), name);
    });
  } else if (name.endsWith('.o')) {
    test(`${name}: inspects, or ElfError`, () => decodesOrElfError(() => inspect(bytes, { btfTypes: true }), name));
  }
}

test.run();
