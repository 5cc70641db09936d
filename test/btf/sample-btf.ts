// One hand-built BTF holding every kind, with the C text each type renders as.
import { BtfBuilder } from './btf-builder.js';

export interface SampleBtf {
  builder: BtfBuilder;
  ids: Record<string, number>;
  /** Expected rendering by type id. */
  c: Map<number, string>;
}

export function sampleBtf(): SampleBtf {
  const b = new BtfBuilder();
  const c = new Map<number, string>();
  const ids: Record<string, number> = {};
  const add = (name: string, id: number, text: string): number => {
    ids[name] = id;
    c.set(id, text);
    return id;
  };
  const int = add('int', b.int('int', 4, 32, 1), 'int');
  const char = add('char', b.int('char', 1, 8, 2), 'char');
  const uint = add('uint', b.int('unsigned int', 4), 'unsigned int');
  const charPtr = add('charPtr', b.ptr(char), 'char *');
  const constChar = add('constChar', b.const(char), 'const char');
  const constCharPtr = add('constCharPtr', b.ptr(constChar), 'const char *');
  const chars = add('chars', b.array(char, uint, 16), 'char[16]');
  const foo = add('foo', b.struct('foo', 24, [
    { name: 'a', type: int, bitOffset: 0 },
    { name: 'b', type: chars, bitOffset: 32 },
    { name: 'flags', type: uint, bitOffset: 160, bitfieldSize: 3 },
  ], false, true), 'struct foo {\n\tint a;\n\tchar b[16];\n\tunsigned int flags: 3;\n};');
  const bar = add('bar', b.struct('bar', 4, [{ name: 'i', type: int }, { name: 'u', type: uint }], true),
    'union bar {\n\tint i;\n\tunsigned int u;\n};');
  add('color', b.enum('color', 4, [['RED', -1], ['GREEN', 2]], true), 'enum color {\n\tRED = -1,\n\tGREEN = 2,\n};');
  add('opaque', b.fwd('opaque', true), 'union opaque;');
  add('fooT', b.typedef('foo_t', foo), 'typedef struct foo foo_t;');
  add('volatileInt', b.volatile(int), 'volatile int');
  add('restrictPtr', b.restrict(charPtr), 'char *restrict');
  const proto = add('proto', b.funcProto(int, [['x', int], ['s', constCharPtr]]), 'int (int x, const char *s)');
  const func = add('func', b.func('do_it', proto), 'int do_it(int x, const char *s);');
  const fnPtr = add('fnPtr', b.ptr(proto), 'int (*)(int x, const char *s)');
  add('handlerT', b.typedef('handler_t', fnPtr), 'typedef int (*handler_t)(int x, const char *s);');
  const counter = add('counter', b.var('counter', int), 'int counter;');
  add('data', b.datasec('.data', 4, [[counter, 0, 4]]), '/* section ".data", 4 bytes */\nint counter; /* offset 0, 4 bytes */');
  add('double', b.float('double', 8), 'double');
  add('tag', b.declTag('kfunc', func, -1), '__attribute__((btf_decl_tag("kfunc"))) /* on [16] func do_it */');
  const user = add('user', b.typeTag('user', int), '__attribute__((btf_type_tag("user"))) int');
  add('userPtr', b.ptr(user), '__attribute__((btf_type_tag("user"))) int *');
  add('big', b.enum64('big', [['HUGE', 1n << 60n], ['SMALL', 7n]]), 'enum big {\n\tHUGE = 1152921504606846976,\n\tSMALL = 7,\n};');
  add('varargs', b.funcProto(int, [['fmt', constCharPtr], ['', 0]]), 'int (const char *fmt, ...)');
  const anon = add('anon', b.struct('', 4, [{ name: 'i', type: int }, { name: 'u', type: uint }], true),
    'union {\n\tint i;\n\tunsigned int u;\n};');
  add('outer', b.struct('outer', 8, [{ name: '', type: anon }, { name: 'x', type: int, bitOffset: 32 }]),
    'struct outer {\n\tunion {\n\t\tint i;\n\t\tunsigned int u;\n\t};\n\tint x;\n};');
  add('constPtr', b.const(charPtr), 'char *const');
  add('memberTag', b.declTag('hot', bar, 1), '__attribute__((btf_decl_tag("hot"))) /* on [9] union bar, member 1 */');
  add('staticFunc', b.func('helper', proto, 0), 'static int helper(int x, const char *s);');
  add('externVar', b.var('jiffies', int, 2), 'extern int jiffies;');
  add('ptrArray', b.ptr(chars), 'char (*)[16]');
  add('voidPtr', b.ptr(0), 'void *');
  return { builder: b, ids, c };
}
