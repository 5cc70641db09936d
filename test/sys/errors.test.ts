import { constants } from 'node:os';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { check, errnoCode, errnoError, errnoMessage, SyscallError } from '../../src/sys/errors.js';
import { ERRNO_NAMES } from '../../src/sys/generated.js';

test('errno codes: canonical Linux names, kernel-internal ones, E<n> for the unknown', () => {
  assert.is(errnoCode(1), 'EPERM');
  assert.is(errnoCode(2), 'ENOENT');
  assert.is(errnoCode(7), 'E2BIG');
  assert.is(errnoCode(11), 'EAGAIN');
  assert.is(errnoCode(35), 'EDEADLK');
  assert.is(errnoCode(77), 'EBADFD');
  assert.is(errnoCode(95), 'EOPNOTSUPP');
  assert.is(errnoCode(133), 'EHWPOISON');
  assert.is(errnoCode(524), 'ENOTSUPP');
  assert.is(errnoCode(517), 'EPROBE_DEFER');
  assert.is(errnoCode(9999), 'E9999');
});

test('every Linux errno has a name and a description (x86_64: 1..133, 41 and 58 unused)', () => {
  for (let errno = 1; errno <= 133; errno++) {
    if (errno === 41 || errno === 58) {
      assert.is(errnoCode(errno), `E${errno}`);
      continue;
    }
    assert.match(errnoCode(errno), /^E[A-Z0-9]+$/, `errno ${errno}`);
    assert.not.match(errnoMessage(errno), /^Unknown error/, `errno ${errno}`);
  }
  const names = Object.values(ERRNO_NAMES);
  assert.is(new Set(names).size, names.length, 'one name per value');
  for (const [code, errno] of [[ 'EBADFD', 77 ], ['ENOTUNIQ', 76], ['EREMCHG', 78], ['ENOKEY', 126], ['EKEYREJECTED', 129], ['ERFKILL', 132]] as const) {
    assert.is(errnoCode(errno), code);
  }
});

test("Node's os.constants.errno agrees on Linux, aliases aside", () => {
  if (process.platform !== 'linux') return console.log(`  skipped: os.constants.errno is ${process.platform}'s`);
  const aliases = new Set(['EWOULDBLOCK', 'ENOTSUP', 'EDEADLOCK']);
  for (const [name, value] of Object.entries(constants.errno)) {
    if (!aliases.has(name)) assert.is(errnoCode(value), name, `${name} = ${value}`);
  }
});

test('errno descriptions are the C library strings', () => {
  assert.is(errnoMessage(1), 'Operation not permitted');
  assert.is(errnoMessage(17), 'File exists');
  assert.is(errnoMessage(77), 'File descriptor in bad state');
  assert.is(errnoMessage(524), 'Operation is not supported');
});

test('check passes results through and throws SyscallError for -errno', () => {
  assert.is(check(5, 'BPF_MAP_CREATE'), 5);
  assert.is(check(0, 'close'), 0);
  try {
    check(-1, 'BPF_MAP_CREATE', 'map \'counters\' (hash, key 4, value 8)');
    assert.unreachable('check(-1) returned');
  } catch (e) {
    assert.instance(e, SyscallError);
    const error = e as SyscallError;
    assert.is(error.errno, 1);
    assert.is(error.code, 'EPERM');
    assert.is(error.syscall, 'BPF_MAP_CREATE');
    assert.is(error.name, 'SyscallError');
    assert.is(error.message, 'BPF_MAP_CREATE: EPERM (Operation not permitted): map \'counters\' (hash, key 4, value 8)');
  }
});

test('errnoError builds the same error without context', () => {
  const error = errnoError(2, 'BPF_MAP_LOOKUP_ELEM');
  assert.is(error.message, 'BPF_MAP_LOOKUP_ELEM: ENOENT (No such file or directory)');
  assert.instance(error, Error);
});

test.run();
