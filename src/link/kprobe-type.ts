// goebpf's KprobeAttachType (entry or return probe) with its Prefix() and String(); no kernel access.
/** goebpf's KprobeAttachType: an entry probe or a return probe. */
export enum KprobeAttachType {
  Entry = 0,
  Return = 1,
}

// eslint-disable-next-line @typescript-eslint/no-namespace
export namespace KprobeAttachType {
  /** The tracefs event prefix: 'p' (entry) or 'r' (return), as goebpf's Prefix(). */
  export function prefix(type: KprobeAttachType): 'p' | 'r' {
    return type === KprobeAttachType.Return ? 'r' : 'p';
  }
  /** 'kprobe' or 'kretprobe', as goebpf's String(). */
  export function toString(type: KprobeAttachType): string {
    return type === KprobeAttachType.Return ? 'kretprobe' : 'kprobe';
  }
}
