import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { check, errnoCode, errnoError, errnoMessage, SyscallError } from '../../src/sys/errors.js';

test('errno codes come from os.constants.errno, canonical Linux names first', () => {
  assert.is(errnoCode(1), 'EPERM');
  assert.is(errnoCode(2), 'ENOENT');
  assert.is(errnoCode(7), 'E2BIG');
  assert.is(errnoCode(11), 'EAGAIN');
  assert.is(errnoCode(95), 'EOPNOTSUPP');
  assert.is(errnoCode(524), 'ENOTSUPP');
  assert.is(errnoCode(9999), 'E9999');
});

test('errno descriptions are the C library strings', () => {
  assert.is(errnoMessage(1), 'Operation not permitted');
  assert.is(errnoMessage(17), 'File exists');
  assert.is(errnoMessage(524), 'Operation is not supported');
});

test('check passes results through and throws SyscallError for -errno', () => {
  assert.is(check(5, 'BPF_MAP_CREATE'), 5);
  assert.is(check(0, 'close'), 0);
  try {
    check(-1, 'BPF_MAP_CREATE', 'map "counters" (hash, key 4, value 8)');
    assert.unreachable('check(-1) returned');
  } catch (e) {
    assert.instance(e, SyscallError);
    const error = e as SyscallError;
    assert.is(error.errno, 1);
    assert.is(error.code, 'EPERM');
    assert.is(error.syscall, 'BPF_MAP_CREATE');
    assert.is(error.name, 'SyscallError');
    assert.is(error.message, 'BPF_MAP_CREATE: EPERM (Operation not permitted): map "counters" (hash, key 4, value 8)');
  }
});

test('errnoError builds the same error without context', () => {
  const error = errnoError(2, 'BPF_MAP_LOOKUP_ELEM');
  assert.is(error.message, 'BPF_MAP_LOOKUP_ELEM: ENOENT (No such file or directory)');
  assert.instance(error, Error);
});

test.run();
