// BTF-defined maps in hand-built objects: each encoding libbpf accepts, and each defect libbpf
// rejects, with a message naming the map and the member.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ElfError, inspect, type ObjectInfo } from '../../src/inspect.js';
import { buildElf, SHF, SHT, STB, STT } from '../elf/elf-builder.js';
import { BtfBuilder, type MemberDef } from './btf-builder.js';

const MAP = { HASH: 1, ARRAY: 2, PROG_ARRAY: 3, ARRAY_OF_MAPS: 12, BLOOM: 30 };

/** A BTF with `int`, `__u32` and helpers for map definitions (`__uint`, `__type`, `__array`). */
class MapBtf extends BtfBuilder {
  readonly i32 = this.int('int', 4, 32, 1);
  readonly u32 = this.typedef('__u32', this.int('unsigned int', 4));
  private readonly defs: { name: string; type: number; linkage: number }[] = [];

  uint(name: string, n: number): MemberDef {
    return { name, type: this.ptr(this.array(this.i32, this.i32, n)) };
  }
  type_(name: string, t: number): MemberDef { return { name, type: this.ptr(t) }; }

  /** A map definition struct: its members 8 bytes apart unless one gives its own bitOffset. */
  map(name: string, members: MemberDef[], linkage = 1): number {
    const def = this.struct('', members.length * 8, members.map((m, i) => ({ ...m, bitOffset: m.bitOffset ?? i * 64 })));
    this.defs.push({ name, type: def, linkage });
    return def;
  }

  object(bigEndian = false): Uint8Array {
    const sizes = this.defs.map((d) => (this.types[d.type - 1]![2]! as number));
    const vars = this.defs.map((d) => this.var(d.name, d.type, d.linkage));
    this.datasec('.maps', 0, vars.map((v, i) => [v, 0, sizes[i]!])); // offsets 0, as clang leaves them
    let offset = 0;
    const symbols = this.defs.map((d, i) => {
      const s = { name: d.name, section: '.maps', value: offset, size: sizes[i]!, type: STT.OBJECT, bind: STB.GLOBAL };
      offset += sizes[i]!;
      return s;
    });
    return buildElf({
      bigEndian,
      sections: [
        { name: '.maps', type: SHT.PROGBITS, flags: SHF.WRITE | SHF.ALLOC, data: new Uint8Array(offset) },
        { name: '.BTF', type: SHT.PROGBITS, data: this.build(bigEndian) },
      ],
      symbols,
    }).bytes;
  }
}

function rejects(bytes: Uint8Array, message: RegExp): void {
  try {
    inspect(bytes);
  } catch (e) {
    assert.instance(e, ElfError);
    assert.match((e as Error).message, message);
    assert.is((e as ElfError).status, 3, (e as Error).message);
    return;
  }
  assert.unreachable(`accepted; expected ${message}`);
}

function mapsOf(info: ObjectInfo) {
  return info.maps.map((m) => ({ name: m.name, type: m.type, key: m.keySize, value: m.valueSize, max: m.maxEntries, flags: m.flags, pinning: m.pinning, numa: m.numaNode, extra: m.mapExtra, inner: m.innerMap, template: m.innerTemplate }));
}

for (const bigEndian of [false, true]) {
  const label = bigEndian ? 'big-endian' : 'little-endian';

  test(`${label}: every attribute, __ulong map_extra, map-in-map and prog array`, () => {
    const b = new MapBtf();
    const key = b.struct('k', 12, [{ name: 'a', type: b.u32 }, { name: 'b', type: b.u32, bitOffset: 32 }, { name: 'c', type: b.u32, bitOffset: 64 }]);
    b.map('full', [b.uint('type', MAP.HASH), b.uint('max_entries', 100), b.type_('key', key), b.type_('value', b.i32),
      b.uint('map_flags', 1), b.uint('numa_node', 3), b.uint('pinning', 1)]);
    const big = b.enum64('', [['v', 1n << 40n]]);
    b.map('bloom', [b.uint('type', MAP.BLOOM), b.uint('value_size', 8), b.uint('max_entries', 64), { name: 'map_extra', type: big }]);
    const inner = b.struct('inner', 24, [b.uint('type', MAP.ARRAY), b.uint('max_entries', 2), b.uint('value_size', 16)].map((m, i) => ({ ...m, bitOffset: i * 64 })));
    b.map('outer', [b.uint('type', MAP.ARRAY_OF_MAPS), b.uint('max_entries', 8), b.uint('key_size', 4),
      { name: 'values', type: b.array(b.ptr(inner), b.i32, 0) }]);
    const proto = b.funcProto(b.i32, []);
    b.map('jumps', [b.uint('type', MAP.PROG_ARRAY), b.uint('max_entries', 4), b.uint('key_size', 4),
      { name: 'values', type: b.array(b.ptr(proto), b.i32, 0) }]);
    const info = inspect(b.object(bigEndian));
    const plain = { flags: 0, pinning: 0, numa: 0, extra: 0, inner: null, template: false };
    assert.equal(mapsOf(info), [
      { ...plain, name: 'full', type: MAP.HASH, key: 12, value: 4, max: 100, flags: 1, pinning: 1, numa: 3 },
      { ...plain, name: 'bloom', type: MAP.BLOOM, key: 0, value: 8, max: 64, extra: 2 ** 40 },
      { ...plain, name: 'outer', type: MAP.ARRAY_OF_MAPS, key: 4, value: 4, max: 8, inner: 3 },
      { ...plain, name: 'outer.inner', type: MAP.ARRAY, key: 0, value: 16, max: 2, template: true },
      { ...plain, name: 'jumps', type: MAP.PROG_ARRAY, key: 4, value: 4, max: 4 },
    ]);
    assert.equal(info.maps.map((m) => m.definitionOffset), [0, 56, 88, 88, 120]);
    // Where `.values = { [i] = ... }` slots start: after the three 8-byte members before `values`.
    assert.equal(info.maps.map((m) => m.valuesOffset), [null, null, 24, null, 24]);
    assert.is(info.maps[0]!.keyTypeId, key);
  });

  test(`${label}: defects name the map and the member`, () => {
    const one = (members: (b: MapBtf) => MemberDef[], message: RegExp, linkage = 1): void => {
      const b = new MapBtf();
      b.map('m', members(b), linkage);
      rejects(b.object(bigEndian), message);
    };
    one((b) => [b.uint('type', MAP.HASH), b.uint('bogus', 1)], /^map 'm': unknown field 'bogus'$/);
    one((b) => [b.uint('max_entries', 1)], /^map 'm': map type isn't specified$/);
    one((b) => [{ name: 'type', type: b.i32 }], /^map 'm': attr 'type': expected PTR, got int$/);
    one((b) => [{ name: 'max_entries', type: b.ptr(b.i32) }], /^map 'm': attr 'max_entries': expected ARRAY, got int$/);
    one((b) => [b.uint('type', MAP.HASH), b.uint('key_size', 8), b.type_('key', b.u32)], /^map 'm': conflicting key size 8 != 4$/);
    one((b) => [b.uint('type', MAP.HASH), { name: 'value', type: b.i32 }], /^map 'm': value spec is not PTR: int$/);
    one((b) => [b.uint('type', MAP.HASH), b.type_('key', 0)], /^map 'm': can't determine key size for type \[0\]: BTF: type \[0\] \(void\) has no size$/);
    one((b) => [b.uint('type', MAP.HASH), b.uint('pinning', 2)], /^map 'm': invalid pinning value 2/);
    one((b) => [b.uint('type', MAP.HASH), { name: 'values', type: b.array(b.ptr(b.i32), b.i32, 0) }], /^map 'm': 'values' needs a map-in-map or prog-array type/);
    one((b) => [b.uint('type', MAP.ARRAY_OF_MAPS), { name: 'values', type: b.array(b.ptr(b.i32), b.i32, 0) }, b.uint('max_entries', 1)], /^map 'm': 'values' member should be last$/);
    one((b) => [b.uint('type', MAP.ARRAY_OF_MAPS), { name: 'values', type: b.array(b.ptr(b.i32), b.i32, 2) }], /^map 'm': map-in-map inner spec is not a zero-sized array$/);
    one((b) => [b.uint('type', MAP.PROG_ARRAY), { name: 'values', type: b.array(b.ptr(b.funcProto(b.i32, [])), b.i32, 0), bitOffset: 68 }], /^map 'm': 'values' at bit offset 68, not on a byte$/);
    one((b) => [b.uint('type', MAP.ARRAY_OF_MAPS), { name: 'values', type: b.array(b.ptr(b.i32), b.i32, 0) }], /^map 'm': map-in-map inner def is of unexpected kind int$/);
    one((b) => {
      const inner = b.struct('inner', 16, [{ ...b.uint('type', MAP.ARRAY) }, { ...b.uint('pinning', 1), bitOffset: 64 }]);
      return [b.uint('type', MAP.ARRAY_OF_MAPS), { name: 'values', type: b.array(b.ptr(inner), b.i32, 0) }];
    }, /^map 'm.inner': inner def can't be pinned$/);
    one((b) => [b.uint('type', MAP.HASH)], /^map 'm': unsupported map linkage static$/, 0);
    one((b) => [b.uint('type', MAP.HASH), { name: 'map_extra', type: b.enum('', 4, [['a', 1], ['b', 2]]) }], /^map 'm': attr 'map_extra': invalid __ulong \(2 enumerators\)$/);
  });

  test(`${label}: '.maps' without BTF, and a map without a symbol`, () => {
    const noBtf = buildElf({ bigEndian, sections: [{ name: '.maps', type: SHT.PROGBITS, flags: SHF.WRITE | SHF.ALLOC, data: new Uint8Array(8) }] });
    rejects(noBtf.bytes, /section '\.maps' \(index 1\) needs BTF, but the object has no \.BTF section/);
    const b = new MapBtf();
    b.map('m', [b.uint('type', MAP.HASH)]);
    b.datasec('.maps', 0, [[b.var('ghost', b.types.length, 1), 0, 8]]);
    const bytes = buildElf({ bigEndian, sections: [
      { name: '.maps', type: SHT.PROGBITS, flags: SHF.WRITE | SHF.ALLOC, data: new Uint8Array(8) },
      { name: '.BTF', type: SHT.PROGBITS, data: b.build(bigEndian) },
    ] }).bytes;
    rejects(bytes, /^map 'ghost': no symbol of this name in '\.maps'$/);
  });
}

test.run();
