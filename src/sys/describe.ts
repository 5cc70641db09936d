// How every error message names what it is about, in libbpf's style: `map 'counts'`,
// `program 'xdp_pass' (section 'xdp')`, `section '.maps'`, with the object's path first where the
// load knows it (`test/fixtures/x.o: map 'counts': ...`). Browser-safe: no imports.

/** `'name'`: a name quoted as libbpf quotes it. */
export function quoted(name: string): string {
  return `'${name}'`;
}

/** `map 'name'`: how errors name a map. */
export function describeMap(name: string): string {
  return `map '${name}'`;
}

/** `section 'name'`: how errors name an ELF section. */
export function describeSection(name: string): string {
  return `section '${name}'`;
}

/** A program in an error message: its name as given (not the kernel's truncated copy) and its ELF section. */
export interface ProgramOrigin {
  /** The program's name as given (not the kernel's truncated copy). */
  program: string;
  section?: string | undefined;
}

/** `program 'name' (section 'sec')`: how errors name a program; the section only where known. */
export function describeProgram(origin: ProgramOrigin): string {
  return `program '${origin.program}'${origin.section ? ` (${describeSection(origin.section)})` : ''}`;
}

/** `path: what`: a message prefixed with the object it is about, when known. */
export function inObject(object: string | undefined, what: string): string {
  return object === undefined || object === '' ? what : `${object}: ${what}`;
}
