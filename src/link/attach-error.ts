// What the network hooks (xdp.ts, tc.ts, socket-filter.ts) share: the program shape they take, checks
// made before any syscall (AttachError, thrown through badInput), and AttachRefusedError: an
// attach the kernel refused, naming the program, the hook and the target, with the kernel's
// extended-ack text and the usual causes of that errno for that hook.
import { describeProgram, describeSection } from '../sys/describe.js';
import { objGetInfoByFd } from '../sys/bpf.js';
import { errnoCode, SyscallError } from '../sys/errors.js';
import { PROG_INFO, ProgramType, programTypeName } from '../sys/generated.js';
import { AttachError } from './target.js';

/** What attaching needs of a program: its fd (loaded), name and type. `Program` has all three. */
export interface AttachableProgram {
  readonly name: string;
  readonly type: ProgramType;
  /** The loaded program's fd (Program's getter throws when it is not loaded). */
  readonly fd: number;
}

/** Where an attach goes, for messages: "program 'x' on xdp veth0". */
export interface AttachPlace {
  program: string;
  hook: string;
  target: string;
}

export function describePlace(place: AttachPlace): string {
  return `${describeProgram({ program: place.program })} on ${place.hook} ${place.target}`;
}

/** Bad input to an attach, found before any syscall: the one AttachError every hook throws, naming program, hook and target. */
export function badInput(place: AttachPlace, why: string): AttachError {
  return new AttachError(place.program, place.hook, place.target, why);
}

/** An attach (or detach/update) the kernel refused. */
export class AttachRefusedError extends SyscallError {
  override name = 'AttachRefusedError';
  readonly program: string;
  readonly hook: string;
  readonly target: string;
  /** The kernel's own explanation (netlink extended ack), when it gave one. */
  readonly extack: string | undefined;
  /** The usual causes of this errno on this hook, as shown in the message. */
  readonly hint: string | undefined;

  constructor(errno: number, syscall: string, place: AttachPlace, extack?: string, hint?: string) {
    const parts = [describePlace(place), extack, hint].filter((part): part is string => part !== undefined && part !== '');
    super(errno, syscall, parts.join(': '));
    this.program = place.program;
    this.hook = place.hook;
    this.target = place.target;
    this.extack = extack;
    this.hint = hint;
  }
}

/** Re-throws a SyscallError from an attach as an AttachRefusedError with hints (by errno code); others unchanged. */
export function attachError(e: unknown, place: AttachPlace, hints: Partial<Record<string, string>>): unknown {
  if (!(e instanceof SyscallError) || e instanceof AttachRefusedError) return e;
  const extack = 'extack' in e && typeof e.extack === 'string' ? e.extack : undefined;
  return new AttachRefusedError(e.errno, e.syscall, place, extack, hints[errnoCode(e.errno)]);
}

/**
 * The program's fd after checking, before any syscall, that it is loaded and of one of the types the
 * hook runs. Throws a TypeError naming program, hook and target otherwise.
 */
export function checkProgram(program: AttachableProgram, types: readonly ProgramType[], place: AttachPlace, section: string): number {
  if (program === null || typeof program !== 'object') throw badInput({ ...place, program: String(program) }, 'expected a loaded program');
  if (!types.includes(program.type)) {
    const wanted = types.map((type) => programTypeName(type)).join(' or ');
    throw badInput(place, `it is a ${programTypeName(program.type)} program; ${place.hook} runs ${wanted} programs (${describeSection(section)})`);
  }
  let fd: number;
  try {
    fd = program.fd;
  } catch (e) {
    throw badInput(place, `the program is not loaded (${e instanceof Error ? e.message : String(e)})`);
  }
  if (!Number.isInteger(fd) || fd < 0) throw badInput(place, `the program is not loaded (fd ${fd})`);
  return fd;
}

/** The kernel's id of the program behind fd. */
export function programId(fd: number): number {
  const info = new Uint8Array(PROG_INFO.SIZE);
  objGetInfoByFd(fd, info);
  return new DataView(info.buffer).getUint32(PROG_INFO.id.offset, true);
}
