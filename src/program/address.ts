// Addresses of buffers for pointers nested inside structures the kernel reads or fills (bpf_prog_info's
// map_ids and xlated_prog_insns, a fifth pointer of BPF_PROG_LOAD): the bridge patches pointers only
// into bpf_attr itself, and at most four of them.
import { native } from '../sys/native.js';

/** A bpf(2) command no kernel knows: the call fails with EINVAL before reading anything. */
const NO_SUCH_COMMAND = 0x7fff_ffff;
const scratch = new Uint8Array(8);
const scratchView = new DataView(scratch.buffer);

/**
 * The address of view's first byte, learnt from the bridge's pointer fix-up on a bpf(2) call that the
 * kernel refuses. The address stays valid while view is reachable: the bridge's access moved the
 * view's bytes off the V8 heap for good, where the collector never moves them. Keep view alive (hold a
 * reference) until the kernel call using the address has returned.
 */
export function addressOf(view: ArrayBufferView): bigint {
  native().bpf(NO_SUCH_COMMAND, scratch, 0, view);
  return scratchView.getBigUint64(0, true);
}
