// Values for an object's extern kernel symbols, found in the running kernel as libbpf finds them:
// kfuncs by FUNC name in the kernel's BTF (a name's "___flavor" suffix dropped) with a compatible
// prototype, typed __ksym variables by VAR name there (of a compatible type), untyped ones by address in
// /proc/kallsyms. A weak symbol the kernel lacks is 0; any other miss keeps the symbol unresolved
// with the reason, which the program that uses it reports when it loads.
import { quoted } from '../sys/describe.js';
import { readFileSync } from 'node:fs';
import { KSYM_UNRESOLVED, type CoreObject, type KernelSymbol } from '../elf/open.js';
import { kernelBtf, VMLINUX_BTF } from './kernel-btf.js';

const KALLSYMS = '/proc/kallsyms';

/** One value per symbol, in order, for CoreObject.relocate; reasons[i] says why symbol i is unresolved. */
export interface KernelSymbolValues {
  values: BigUint64Array;
  reasons: Array<string | undefined>;
}

const NO_SYMBOLS: KernelSymbolValues = { values: new BigUint64Array(0), reasons: [] };

type Found = { value: bigint } | { missing: string } | { error: string };

export function resolveKernelSymbols(object: CoreObject): KernelSymbolValues {
  const symbols = object.kernelSymbols();
  if (symbols.length === 0) return NO_SYMBOLS;
  const values = new BigUint64Array(symbols.length);
  const reasons: Array<string | undefined> = [];
  const untyped = symbols.filter((s) => s.kind === 'untyped').map((s) => s.name);
  const addresses = untyped.length > 0 ? kallsymsAddresses(untyped) : new Map<string, Found>();
  for (const [i, symbol] of symbols.entries()) {
    const found = symbol.kind === 'untyped' ? addresses.get(symbol.name)! : inKernelBtf(object, i, symbol);
    if ('value' in found) values[i] = found.value;
    else if ('missing' in found && symbol.weak) values[i] = 0n;
    else {
      values[i] = KSYM_UNRESOLVED;
      reasons[i] = 'missing' in found ? found.missing : found.error;
    }
  }
  return { values, reasons };
}

// libbpf too takes a weak symbol declared with an incompatible type as absent.
function inKernelBtf(object: CoreObject, index: number, symbol: KernelSymbol): Found {
  let btf;
  try {
    btf = kernelBtf();
  } catch (e) {
    return { error: (e as Error).message };
  }
  if (symbol.kind === 'variable') {
    const id = btf.find(symbol.name, 'var');
    if (id === 0) return { missing: `the kernel's BTF (${VMLINUX_BTF}) has no variable ${quoted(symbol.name)}` };
    if (!object.kernelSymbolCompatible(index, btf, id)) return { missing: `its type is not compatible with the kernel's ${quoted(symbol.name)} [${id}]` };
    return { value: BigInt(id) };
  }
  const flavor = symbol.name.indexOf('___');
  const name = flavor > 0 ? symbol.name.slice(0, flavor) : symbol.name;
  const id = btf.find(name, 'func');
  if (id === 0) return { missing: `the kernel's BTF (${VMLINUX_BTF}) has no function ${quoted(name)}` };
  if (!object.kernelSymbolCompatible(index, btf, id)) {
    const params = btf.type(btf.type(id)!.type)?.vlen;
    return {
      missing: symbol.paramCount !== undefined && params !== undefined && params !== symbol.paramCount
        ? `it is declared with ${symbol.paramCount} parameter(s), the kernel's ${quoted(name)} [${id}] takes ${params}`
        : `its prototype is not compatible with the kernel's ${quoted(name)} [${id}] (parameter or return types differ in kind)`,
    };
  }
  return { value: BigInt(id) };
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Addresses of the named symbols in /proc/kallsyms (a ".llvm.<n>" suffix of the kernel's name ignored). */
function kallsymsAddresses(names: readonly string[]): Map<string, Found> {
  const out = new Map<string, Found>();
  let text: string;
  try {
    text = readFileSync(KALLSYMS, 'latin1');
  } catch (e) {
    for (const name of names) out.set(name, { error: `cannot read ${KALLSYMS} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})` });
    return out;
  }
  for (const name of names) {
    const line = new RegExp(`^([0-9a-f]+) \\S ${escapeRegExp(name)}(?:\\.llvm\\.\\d+)?(?:[\\t\\n]|$)`, 'gm');
    const seen = new Set<bigint>();
    for (const m of text.matchAll(line)) seen.add(BigInt(`0x${m[1]!}`));
    const [first, second] = seen;
    if (first === undefined) out.set(name, { missing: `${KALLSYMS} has no symbol ${quoted(name)}` });
    else if (second !== undefined) out.set(name, { error: `${KALLSYMS} has ${quoted(name)} at 0x${first.toString(16)} and 0x${second.toString(16)}: ambiguous` });
    else if (first === 0n) out.set(name, { error: `${KALLSYMS} shows ${quoted(name)} at address 0 (addresses are hidden: kernel.kptr_restrict, or not root)` });
    else out.set(name, { value: first });
  }
  return out;
}
