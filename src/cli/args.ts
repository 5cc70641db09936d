// Command-line plumbing shared by the verbs: node:util parseArgs with one-line errors, bpftool's
// global -j/--json and -p/--pretty, and object references (`ID`, `id ID`, `pinned PATH`).
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A mistake in the command line or a request that cannot be met: one line, exit code 1. */
export class UsageError extends Error {}

/** What a verb prints: text, or a value as JSON. */
export interface Output {
  json: boolean;
  pretty: boolean;
}

export const GLOBAL_OPTIONS = {
  json: { type: 'boolean', short: 'j' },
  pretty: { type: 'boolean', short: 'p' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

type Options = NonNullable<ParseArgsConfig['options']>;

/** parseArgs (strict, positionals allowed) with errors as UsageError naming the verb. */
export interface Parsed {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

export function parse(verb: string, argv: string[], options: Options = {}): Parsed {
  try {
    return parseArgs({ args: argv, options: { ...GLOBAL_OPTIONS, ...options }, allowPositionals: true, strict: true }) as Parsed;
  } catch (e) {
    const err = e as Error & { code?: string };
    const option = /'([^']+)'/.exec(err.message)?.[1];
    if (err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw new UsageError(`unknown option ${option ?? err.message} for ${verb}`);
    if (err.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') throw new UsageError(`${verb}: ${err.message.split('\n')[0]}`);
    throw new UsageError(`${verb}: ${err.message.split('\n')[0]}`);
  }
}

export function outputOf(values: Parsed['values']): Output {
  return { json: values.json === true || values.pretty === true, pretty: values.pretty === true };
}

/** JSON as bpftool writes it: compact with -j, indented with -p; bigints as plain numbers. */
export function toJson(value: unknown, out: Output): string {
  const marks: string[] = [];
  const text = JSON.stringify(value, (_k, v: unknown) => {
    if (typeof v !== 'bigint') return v;
    marks.push(v.toString());
    return `\u0000bigint${marks.length - 1}\u0000`;
  }, out.pretty ? 2 : undefined);
  return text.replace(/"\\u0000bigint(\d+)\\u0000"/g, (_m, i: string) => marks[Number(i)]!);
}

/** A kernel object named on the command line: by id, or by its pin. */
export type ObjectRef = { id: number } | { pinned: string };

/** Reads `ID`, `id ID` or `pinned PATH` from the front of positionals (consumed). */
export function objectRef(verb: string, positionals: string[]): ObjectRef {
  const first = positionals.shift();
  if (first === undefined) throw new UsageError(`${verb} needs an ID (or id ID, pinned PATH)`);
  if (first === 'pinned') {
    const path = positionals.shift();
    if (path === undefined) throw new UsageError(`${verb}: pinned needs a PATH`);
    return { pinned: path };
  }
  const text = first === 'id' ? positionals.shift() : first;
  if (text === undefined || !/^\d+$/.test(text) || Number(text) > 0xffffffff || Number(text) === 0) {
    throw new UsageError(`${verb}: ${JSON.stringify(text ?? '')} is not an id (a positive integer)`);
  }
  return { id: Number(text) };
}

/** Refuses positionals left over after a verb took what it needs. */
export function noMore(verb: string, positionals: readonly string[]): void {
  if (positionals.length) throw new UsageError(`${verb}: unexpected ${JSON.stringify(positionals[0])}`);
}
