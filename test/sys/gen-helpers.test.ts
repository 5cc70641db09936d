// scripts/gen-helpers.mjs: the committed src/sys/helpers.generated.ts is what it generates from the
// installed UAPI header, and the ids agree with the header's own enum bpf_func_id where it has one.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { packageRoot } from '../../src/sys/native.js';
import { HELPER_NAMES } from '../../src/sys/helpers.generated.js';

const script = join(packageRoot, 'scripts', 'gen-helpers.mjs');
const HEADER = '/usr/include/linux/bpf.h';

function generate(header: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'gen-helpers-test-'));
  try {
    execFileSync(process.execPath, [script, '--header', header, '--out', join(dir, 'out.ts')], { stdio: ['ignore', 'ignore', 'pipe'] });
    return readFileSync(join(dir, 'out.ts'), 'utf8');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (!existsSync(HEADER)) {
  if (process.env.EBPF_TEST_STRICT === '1') throw new Error(`EBPF_TEST_STRICT=1 but ${HEADER} is absent`);
  console.log(`  (helper table generation skipped: ${HEADER} is absent)`);
} else {
  test('the committed helper table is what the generator makes of the installed header', () => {
    assert.fixture(generate(HEADER), readFileSync(join(packageRoot, 'src', 'sys', 'helpers.generated.ts'), 'utf8'));
  });
}

test('both mapper styles: ids listed in order, and ids given (FN(name, id, ...))', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gen-helpers-test-'));
  try {
    const old = join(dir, 'old.h'), current = join(dir, 'new.h'), bad = join(dir, 'bad.h');
    writeFileSync(old, '#define __BPF_FUNC_MAPPER(FN)\\\n\tFN(unspec),\\\n\tFN(map_lookup_elem),\\\n\tFN(map_update_elem),\n\n#define X 1\n');
    writeFileSync(current, '#define ___BPF_FUNC_MAPPER(FN, ctx...)\\\n\tFN(unspec, 0, ##ctx)\\\n\tFN(map_lookup_elem, 1, ##ctx)\\\n\tFN(map_update_elem, 2, ##ctx)\n#define __BPF_FUNC_MAPPER(FN) ___BPF_FUNC_MAPPER(FN)\n');
    writeFileSync(bad, '#define __BPF_FUNC_MAPPER(FN)\\\n\tFN(unspec, 0),\\\n\tFN(map_lookup_elem, 2),\n');
    assert.is(generate(old), generate(current));
    assert.match(generate(current), /'bpf_map_update_elem', \/\/ 2/);
    assert.throws(() => generate(bad));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.is(HELPER_NAMES[0], 'unspec');
  assert.is(HELPER_NAMES[2], 'bpf_map_update_elem');
});

test.run();
