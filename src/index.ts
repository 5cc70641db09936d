// ebpf: the package's main entry point, a plain list of re-exports.
export * from './inspect.js';
