// Every error names maps, programs and sections one way, libbpf's, and a load's errors name the object first.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { describeMap, describeProgram, describeSection, inObject, quoted } from '../../src/sys/describe.js';
import { SyscallError, withObject } from '../../src/sys/errors.js';

test('names in libbpf style: single quotes, the section only where known', () => {
  assert.is(quoted('x'), "'x'");
  assert.is(describeMap('counts'), "map 'counts'");
  assert.is(describeSection('.maps'), "section '.maps'");
  assert.is(describeProgram({ program: 'xdp_pass', section: 'xdp' }), "program 'xdp_pass' (section 'xdp')");
  assert.is(describeProgram({ program: 'xdp_pass' }), "program 'xdp_pass'");
  assert.is(describeProgram({ program: 'xdp_pass', section: '' }), "program 'xdp_pass'");
  assert.is(inObject('x.o', "map 'counts': closed"), "x.o: map 'counts': closed");
  assert.is(inObject(undefined, "map 'counts': closed"), "map 'counts': closed");
});

test('withObject puts the object first, inside a SyscallError its context, once', () => {
  const plain = withObject(new Error("map 'counts': closed"), 'x.o') as Error;
  assert.is(plain.message, "x.o: map 'counts': closed");
  assert.is((withObject(plain, 'x.o') as Error).message, "x.o: map 'counts': closed");
  const sys = withObject(new SyscallError(22, 'BPF_MAP_CREATE', "map 'counts' (hash)"), 'x.o') as SyscallError;
  assert.is(sys.message, "BPF_MAP_CREATE: EINVAL (Invalid argument): x.o: map 'counts' (hash)");
  assert.is((withObject(sys, 'x.o') as Error).message, sys.message);
  assert.is((withObject(new SyscallError(1, 'BPF_PROG_LOAD'), 'x.o') as Error).message, 'BPF_PROG_LOAD: EPERM (Operation not permitted): x.o');
  const untouched = new Error('m');
  assert.is((withObject(untouched, undefined) as Error).message, 'm');
  assert.is(withObject('not an error', 'x.o'), 'not an error');
});

test.run();
