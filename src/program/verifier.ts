// The verifier's log: what a failed BPF_PROG_LOAD says, and how much of it an error message quotes.
import { describeProgram, type ProgramOrigin } from '../sys/describe.js';
import { SyscallError } from '../sys/errors.js';

/** Lines the verifier appends after its verdict; they say nothing about why a program failed. */
const SUMMARY_LINE = /^(processed \d+ insns|verification time|stack depth|max_states_per_insn|mark_read|peak_states|Func#|func#)/;
/** A line naming the instruction being checked: "12: (61) r2 = *(u32 *)(r1 +0)" or "12: R1=ctx() ...". */
const INSN_LINE = /^\d+: /;
/** The source line the verifier prints before an instruction when the program has line info. */
const SOURCE_LINE = /^; /;
/** How many lines before the verdict an error message quotes, at most. */
const CONTEXT_LINES = 3;

/** The log's lines without the trailing empty line(s). */
export function logLines(log: string): string[] {
  const lines = log.split('\n');
  while (lines.length > 0 && lines[lines.length - 1]!.trim() === '') lines.pop();
  return lines;
}

/**
 * The lines that explain a rejection: the verdict (last line before the summary statistics) and the
 * lines just before it, back to the instruction it concerns (at most CONTEXT_LINES of context) and
 * that instruction's source line when the program has line info.
 */
export function decisiveLines(log: string): string[] {
  const lines = logLines(log);
  let end = lines.length;
  while (end > 0 && SUMMARY_LINE.test(lines[end - 1]!)) end--;
  if (end === 0) return lines.slice(-1);
  let start = end - 1;
  while (start > 0 && end - start <= CONTEXT_LINES && !INSN_LINE.test(lines[start]!)) start--;
  if (start > 0 && SOURCE_LINE.test(lines[start - 1]!)) start--;
  return lines.slice(start, end);
}

/**
 * BPF_PROG_LOAD refused a program and the verifier said why. The message quotes the decisive lines of
 * the log; the whole log is on `.log`.
 */
export class VerifierError extends SyscallError {
  override name = 'VerifierError';
  /** The whole verifier log (its tail only, when `truncated`). */
  readonly log: string;
  /** The program's name as given. */
  readonly program: string;
  readonly section: string | undefined;
  /** The log did not fit the largest buffer tried; `.log` holds what the kernel kept. */
  readonly truncated: boolean;

  constructor(errno: number, origin: ProgramOrigin, log: string, truncated: boolean) {
    const quoted = decisiveLines(log);
    const omitted = logLines(log).length - quoted.length;
    const tail = [
      ...quoted.map((line) => `\t${line}`),
      ...(omitted > 0 || truncated ? [`\t(${omitted} earlier line(s)${truncated ? ', log truncated' : ''}; whole log on .log)`] : []),
    ];
    super(errno, 'BPF_PROG_LOAD', `${describeProgram(origin)} rejected by the verifier:\n${tail.join('\n')}`);
    this.log = log;
    this.program = origin.program;
    this.section = origin.section;
    this.truncated = truncated;
  }

  /** The log split into lines. */
  get lines(): string[] {
    return logLines(this.log);
  }
}
