export { Program, ProgramType, INSTRUCTION_SIZE, type ProgramSpec, type ProgramBtf, type LoadOptions, type TestRunOptions, type TestRunResult } from './program.js';
export { VerifierError, decisiveLines } from './verifier.js';
export { getProgramInfoByFd, getProgramInfoById, listPrograms, programIds, enableRunTimeStats, type ProgramInfo } from './info.js';
export { kernelObjectName } from './name.js';
export { System, createSystem, UnsupportedError, KernelSymbolError, type SystemLoadOptions } from './system.js';
export type { MapOptions } from './elf-map.js';
export { ConstantError, rodataWithConstants, type ConstantValue, type Constants } from './constants.js';
export type { ProgramLike, SystemLike } from './like.js';
export { disassembleLoaded, disassembleProgramById, btfBytesById, type LoadedDisassembly, type LoadedFunction } from './disassemble.js';
