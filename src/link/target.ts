// What every hook needs of a program, and the errors an attach throws: bad input (wrong program type
// for the hook, a program not loaded or closed, a target that cannot exist) is an AttachError before
// any syscall; a refusal by the kernel is a SyscallError naming program, hook and target with the
// usual causes.
import { describeProgram } from '../sys/describe.js';
import { SyscallError } from '../sys/errors.js';
import { programTypeName, type AttachType, type ProgramType } from '../sys/generated.js';

/** The program side of an attach: Program, or anything with its fd, name and types. */
export interface AttachableProgram {
  readonly name: string;
  readonly section: string | undefined;
  readonly type: ProgramType;
  readonly expectedAttachType: AttachType | undefined;
  readonly loaded: boolean;
  /** Throws when not loaded or closed. */
  readonly fd: number;
  /** What the section names after the type (`syscalls/sys_enter_execve` in `tracepoint/syscalls/sys_enter_execve`). */
  readonly sectionTarget?: string | undefined;
}

/** An attach refused before any syscall: the message names program, hook and target and says why. */
export class AttachError extends Error {
  override name = 'AttachError';
  readonly program: string;
  readonly hook: string;
  readonly target: string;

  constructor(program: AttachableProgram | string, hook: string, target: string, why: string) {
    const name = typeof program === 'string' ? describeProgram({ program }) : describe(program);
    super(`${name}: cannot attach to ${hook}${target ? ` ${target}` : ''}: ${why}`);
    this.program = typeof program === 'string' ? program : program.name;
    this.hook = hook;
    this.target = target;
  }
}

/** "program 'x' (section 'y')" (see describeProgram). */
export function describe(program: { name: string; section: string | undefined }): string {
  return describeProgram({ program: program.name, section: program.section });
}

/** The program's fd, after checking it is loaded and of one of `types` for the hook. */
export function programFd(program: AttachableProgram, hook: string, target: string, types: readonly ProgramType[]): number {
  if (!types.includes(program.type)) {
    throw new AttachError(program, hook, target, `the program is of type ${programTypeName(program.type)}; ${hook} takes ${types.map(programTypeName).join(' or ')} programs`);
  }
  return liveFd(program, hook, target);
}

/** The program's fd, or an AttachError saying it is not loaded / closed. */
export function liveFd(program: AttachableProgram, hook: string, target: string): number {
  if (!program.loaded) throw new AttachError(program, hook, target, 'the program is not loaded (load() it first) or was closed');
  return program.fd;
}

/** Re-throws a kernel refusal as a SyscallError naming program, hook and target, with the usual causes. */
export function kernelRefusal(e: unknown, program: AttachableProgram, hook: string, target: string, causes = ''): never {
  if (e instanceof SyscallError) {
    throw new SyscallError(e.errno, e.syscall, `${describe(program)} on ${hook} ${target}${causes ? ` (${causes})` : ''}`);
  }
  throw e;
}
