// Made-up fds and ids of mock objects, so a MockMap of maps or a prog array can resolve the fd a value
// carries to the mock it stands for, as the kernel resolves real fds. Fds start far above any real
// descriptor so a mock fd handed to a real syscall fails with EBADF instead of hitting a real file.
import type { MockMap } from './map.js';
import type { MockProgram } from './program.js';

export type MockObject = MockMap | MockProgram;

const FIRST_FD = 1 << 24;
let nextFd = FIRST_FD;
let nextId = 1;
const live = new Map<number, MockObject>();

/** A new fd for `object`, valid until releaseFd. */
export function allocateFd(object: MockObject): number {
  const fd = nextFd++;
  live.set(fd, object);
  return fd;
}

export function releaseFd(fd: number): void {
  live.delete(fd);
}

/** The live mock object behind `fd`, or undefined (the kernel's EBADF). */
export function objectByFd(fd: number): MockObject | undefined {
  return live.get(fd);
}

/** The live mock object with this id, or undefined (BPF_*_GET_FD_BY_ID's ENOENT). */
export function objectById(id: number): MockObject | undefined {
  for (const object of live.values()) if (object.id === id) return object;
  return undefined;
}

/** A new object id (what BPF_OBJ_GET_INFO_BY_FD reports, and what map-of-maps lookups return). */
export function allocateId(): number {
  return nextId++;
}
