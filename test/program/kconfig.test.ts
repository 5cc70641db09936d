// .kconfig values from a kernel configuration, libbpf's way (no kernel calls): y/n/m for bool,
// tristate and char, numbers into ints of their size, quoted strings into char arrays, weak
// variables 0 when absent, and errors naming the variable otherwise.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { KconfigVariable } from '../../src/elf/open.js';
import { kconfigValue, kernelVersionCode, parseKernelConfig, type KconfigSource } from '../../src/program/kconfig.js';

const CONFIG = parseKernelConfig([
  '# comment', 'CONFIG_BPF=y', 'CONFIG_MOD=m', '# CONFIG_OFF is not set', 'CONFIG_HZ=250', 'CONFIG_MASK=0xff00',
  'CONFIG_NEG=-3', 'CONFIG_NAME="(none)"', '',
].join('\n'));
const source = { config: CONFIG, release: '6.18.44-fc-v657' };
const v = (name: string, kind: KconfigVariable['kind'], offset: number, size: number, more: Partial<KconfigVariable> = {}): KconfigVariable =>
  ({ name, kind, offset, size, weak: false, signed: false, ...more });

test('the configuration: set options, "is not set" as n', () => {
  assert.equal([...CONFIG], [['CONFIG_BPF', 'y'], ['CONFIG_MOD', 'm'], ['CONFIG_OFF', 'n'], ['CONFIG_HZ', '250'],
    ['CONFIG_MASK', '0xff00'], ['CONFIG_NEG', '-3'], ['CONFIG_NAME', '"(none)"']]);
});

test('LINUX_KERNEL_VERSION from the release (patch level capped at 255)', () => {
  assert.is(kernelVersionCode('6.18.44-fc-v657'), (6 << 16) | (18 << 8) | 44);
  assert.is(kernelVersionCode('4.19.300'), (4 << 16) | (19 << 8) | 255);
  assert.is(kernelVersionCode('6.1'), (6 << 16) | (1 << 8));
  assert.throws(() => kernelVersionCode('weird'), /cannot read a kernel version from release 'weird'/);
});

test('every kind written at its offset', () => {
  const value = kconfigValue([
    v('LINUX_KERNEL_VERSION', 'int', 0, 4), v('CONFIG_HZ', 'int', 4, 4, { signed: true }), v('CONFIG_MASK', 'int', 8, 8),
    v('CONFIG_BPF', 'bool', 16, 1), v('CONFIG_OFF', 'bool', 17, 1), v('CONFIG_MOD', 'char', 18, 1),
    v('CONFIG_NEG', 'int', 19, 1, { kind: 'char', signed: true }), v('CONFIG_MOD', 'tristate', 20, 4), v('CONFIG_NAME', 'char-array', 24, 8),
    v('CONFIG_ABSENT', 'tristate', 32, 4, { weak: true }),
  ], 36, source);
  const view = new DataView(value.buffer);
  assert.is(view.getUint32(0, true), (6 << 16) | (18 << 8) | 44);
  assert.is(view.getInt32(4, true), 250);
  assert.is(view.getBigUint64(8, true), 0xff00n);
  assert.equal([...value.subarray(16, 20)], [1, 0, 'm'.charCodeAt(0), 0xfd]);
  assert.is(view.getUint32(20, true), 2); // TRI_MODULE
  assert.is(new TextDecoder().decode(value.subarray(24, 30)), '(none)');
  assert.is(value[30], 0);
  assert.is(view.getUint32(32, true), 0);
});

test('errors name the variable and say why', () => {
  const fail = (variable: KconfigVariable, src: KconfigSource = source): string => {
    try {
      kconfigValue([variable], 64, src);
    } catch (e) {
      return (e as Error).message;
    }
    assert.unreachable();
    return '';
  };
  assert.is(fail(v('CONFIG_ABSENT', 'bool', 0, 1)), '.kconfig variable \'CONFIG_ABSENT\' has no value: the kernel configuration does not set it');
  assert.is(fail(v('CONFIG_BPF', 'bool', 0, 1), { config: undefined, release: '6.1' }),
    '.kconfig variable \'CONFIG_BPF\' has no value: no kernel configuration was found (/proc/config.gz, /boot/config-RELEASE)');
  assert.is(fail(v('OTHER', 'int', 0, 4)), '.kconfig variable \'OTHER\' has no value: only CONFIG_ options and LINUX_KERNEL_VERSION have values');
  assert.is(fail(v('CONFIG_MOD', 'bool', 0, 1)), '.kconfig variable \'CONFIG_MOD\' (bool, 1 bytes) cannot hold the value m');
  assert.is(fail(v('CONFIG_MASK', 'int', 0, 1)), '.kconfig variable \'CONFIG_MASK\' (int, 1 bytes) cannot hold the value 0xff00');
  assert.is(fail(v('CONFIG_NEG', 'int', 0, 4)), '.kconfig variable \'CONFIG_NEG\' (int, 4 bytes) cannot hold the value -3');
  assert.is(fail(v('CONFIG_NAME', 'char-array', 0, 4)), '.kconfig variable \'CONFIG_NAME\' (4 bytes) is too small for "(none)"');
  assert.is(fail(v('CONFIG_NAME', 'int', 0, 4)), '.kconfig variable \'CONFIG_NAME\' (int, 4 bytes) cannot hold the value "(none)"');
});

test.run();
