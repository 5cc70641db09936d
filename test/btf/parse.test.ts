// .BTF parsed on its own (parseBtf): every kind decoded field by field and rendered as C, in both
// byte orders.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseBtf } from '../../src/btf/index.js';
import { sampleBtf } from './sample-btf.js';

for (const bigEndian of [false, true]) {
  const label = bigEndian ? 'big-endian' : 'little-endian';
  const sample = sampleBtf();
  const bytes = sample.builder.build(bigEndian);
  const { btf } = parseBtf(bytes);
  const types = btf.types!;
  const t = (name: string) => types[sample.ids[name]!]!;

  test(`${label}: header facts`, () => {
    assert.is(btf.endian, bigEndian ? 'big' : 'little');
    assert.is(btf.typeCount, sample.builder.types.length + 1);
    assert.is(btf.hasExt, false);
    assert.equal(btf.extSections, []);
    assert.equal(types[0], { id: 0, kind: 'void', name: '', c: 'void' });
  });

  test(`${label}: every type renders as its C text`, () => {
    for (const [id, text] of sample.c) assert.is(types[id]!.c, text, `type [${id}] ${types[id]!.kind}`);
  });

  test(`${label}: ints, floats, pointers, arrays`, () => {
    assert.equal(t('int'), { id: 1, kind: 'int', name: 'int', c: 'int', size: 4, encoding: { bits: 32, offset: 0, signed: true, char: false, bool: false } });
    assert.equal(t('char').encoding, { bits: 8, offset: 0, signed: false, char: true, bool: false });
    assert.equal(t('double'), { id: sample.ids['double']!, kind: 'float', name: 'double', c: 'double', size: 8 });
    assert.is(t('charPtr').type, sample.ids['char']);
    assert.equal([t('chars').type, t('chars').indexType, t('chars').nelems], [sample.ids['char'], sample.ids['uint'], 16]);
  });

  test(`${label}: struct and union members, bitfields`, () => {
    const foo = t('foo');
    assert.equal([foo.kind, foo.size, foo.kindFlag], ['struct', 24, true]);
    assert.equal(foo.members, [
      { name: 'a', type: 1, bitOffset: 0, bitfieldSize: 0 },
      { name: 'b', type: sample.ids['chars']!, bitOffset: 32, bitfieldSize: 0 },
      { name: 'flags', type: sample.ids['uint']!, bitOffset: 160, bitfieldSize: 3 },
    ]);
    assert.is(t('bar').kind, 'union');
    assert.is(t('anon').name, '');
  });

  test(`${label}: enums, signed and 64-bit`, () => {
    assert.equal(t('color').values, [{ name: 'RED', value: -1 }, { name: 'GREEN', value: 2 }]);
    assert.is(t('color').kindFlag, true);
    assert.equal(t('big').values, [{ name: 'HUGE', value: '1152921504606846976' }, { name: 'SMALL', value: 7 }]);
    assert.is(t('big').kind, 'enum64');
  });

  test(`${label}: functions, variables, datasec, tags`, () => {
    assert.equal(t('proto').params, [{ name: 'x', type: 1 }, { name: 's', type: sample.ids['constCharPtr']! }]);
    assert.equal([t('func').kind, t('func').type, t('func').linkage], ['func', sample.ids['proto'], 'global']);
    assert.is(t('staticFunc').linkage, 'static');
    assert.is(t('externVar').linkage, 'extern');
    assert.equal(t('data').vars, [{ type: sample.ids['counter']!, offset: 0, size: 4 }]);
    assert.equal([t('tag').type, t('tag').componentIndex], [sample.ids['func'], -1]);
    assert.is(t('memberTag').componentIndex, 1);
    assert.equal([t('user').kind, t('user').name, t('user').type], ['type_tag', 'user', 1]);
    assert.equal([t('opaque').kind, t('opaque').kindFlag], ['fwd', true]);
  });

  test(`${label}: the result is plain JSON`, () => {
    assert.equal(JSON.parse(JSON.stringify(btf)), btf);
  });
}

test('both byte orders decode to the same types', () => {
  const le = parseBtf(sampleBtf().builder.build(false)).btf;
  const be = parseBtf(sampleBtf().builder.build(true)).btf;
  assert.equal(be.types, le.types);
});

test.run();
