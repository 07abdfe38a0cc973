import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

/**
 * Loads the Emscripten-built decoders that ship inside the @cornerstonejs/codec-* packages,
 * synchronously and from node_modules only (nothing is fetched). The glue's `instantiateWasm` hook
 * lets us compile the .wasm bytes ourselves with the synchronous WebAssembly API; the runtime then
 * finishes its start-up inside the factory call, so the module is usable as soon as the factory
 * returns. That is why decodeFrameSync needs no prior `await`: each codec costs about 20-35 ms the
 * first time it is used in a thread, and initCodecs() can pay that up front.
 */

const require = createRequire(import.meta.url);

/** The WebAssembly global, typed here because the project's lib (ES2023, no DOM) does not declare it. */
interface WebAssemblyApi {
  Module: new (bytes: Uint8Array) => WasmCompiled;
  Instance: new (module: WasmCompiled, imports: object) => WasmInstance;
  RuntimeError: new (message?: string) => Error;
}
interface WasmCompiled {
  readonly __compiled?: never;
}
interface WasmInstance {
  exports: object;
}
const WA = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly;
/** A trap inside WASM code (unreachable, out-of-bounds access, Emscripten abort). */
export const WasmRuntimeError = WA.RuntimeError;

/** The embind decoder classes share this shape (getEncodedBuffer, decode, getDecodedBuffer, getFrameInfo). */
export interface WasmFrameInfo {
  width: number;
  height: number;
  bitsPerSample: number;
  componentCount: number;
  isSigned?: boolean;
}
export interface WasmDecoder {
  getEncodedBuffer(length: number): Uint8Array;
  decode(): void;
  getDecodedBuffer(): Uint8Array;
  getFrameInfo(): WasmFrameInfo;
  delete(): void;
  getNearLossless?(): number;
  getInterleaveMode?(): number;
  getIsReversible?(): boolean;
  getColorSpace?(): number;
}
type WasmModule = Record<string, unknown>;

export type WasmCodecName = 'charls' | 'openjpeg' | 'openjph' | 'libjpeg-turbo-8bit';

const SPECS: Record<WasmCodecName, { js: string; wasm: string; decoderClass: string }> = {
  charls: { js: '@cornerstonejs/codec-charls/decodewasmjs', wasm: '@cornerstonejs/codec-charls/decodewasm', decoderClass: 'JpegLSDecoder' },
  openjpeg: { js: '@cornerstonejs/codec-openjpeg/decodewasmjs', wasm: '@cornerstonejs/codec-openjpeg/decodewasm', decoderClass: 'J2KDecoder' },
  openjph: { js: '@cornerstonejs/codec-openjph/wasmjs', wasm: '@cornerstonejs/codec-openjph/wasm', decoderClass: 'HTJ2KDecoder' },
  'libjpeg-turbo-8bit': {
    js: '@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasmjs',
    wasm: '@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasm',
    decoderClass: 'JPEGDecoder',
  },
};

/** Compiled modules are kept (they are immutable); instances are dropped after a trap (see discardCodec). */
const compiled = new Map<WasmCodecName, WasmCompiled>();
const instances = new Map<WasmCodecName, WasmModule>();

function instantiate(name: WasmCodecName): WasmModule {
  const spec = SPECS[name];
  const factory = require(spec.js) as (arg: Record<string, unknown>) => Promise<unknown>;
  let wasmModule = compiled.get(name);
  if (!wasmModule) {
    wasmModule = new WA.Module(readFileSync(require.resolve(spec.wasm)));
    compiled.set(name, wasmModule);
  }
  const mod = wasmModule;
  const arg: Record<string, unknown> = {
    instantiateWasm(imports: object, receive: (i: WasmInstance, m: WasmCompiled) => void) {
      const instance = new WA.Instance(mod, imports);
      receive(instance, mod);
      return instance.exports;
    },
    // The codecs print their own diagnostics on errors; medge reports them through MedgeError instead.
    print: () => {},
    printErr: () => {},
  };
  // The ready promise rejects only on a failed start-up, which the check below reports synchronously.
  factory(arg).catch(() => {});
  if (typeof arg[spec.decoderClass] !== 'function') {
    throw new Error(`the ${name} WebAssembly module did not start (no ${spec.decoderClass})`);
  }
  return arg;
}

/** The started Emscripten module of a codec (its embind classes; tests use OpenJPH's encoder). */
export function wasmCodecModule(name: WasmCodecName): Record<string, unknown> {
  let m = instances.get(name);
  if (!m) {
    m = instantiate(name);
    instances.set(name, m);
  }
  return m;
}

/** A new decoder object of the codec; the caller must delete() it. */
export function newWasmDecoder(name: WasmCodecName): WasmDecoder {
  const m = wasmCodecModule(name);
  const Ctor = m[SPECS[name].decoderClass] as new () => WasmDecoder;
  return new Ctor();
}

/**
 * Forgets the codec's instance after a trap (an Emscripten abort or a WebAssembly.RuntimeError): its
 * memory may be left inconsistent, so the next frame gets a fresh instance (the compiled module is reused).
 */
export function discardCodec(name: WasmCodecName): void {
  instances.delete(name);
}

/** Starts every WASM codec now, so that the first decode of each syntax does not pay for it. */
export async function initCodecs(): Promise<void> {
  for (const name of Object.keys(SPECS) as WasmCodecName[]) {
    if (!instances.has(name)) instances.set(name, instantiate(name));
  }
}
