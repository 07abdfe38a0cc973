import { setFlagsFromString } from 'node:v8';

/**
 * How much bytecode a function runs before V8 optimizes it with TurboFan (`--interrupt-budget`;
 * 132 KB in Node 20's V8), raised for the node. The receiving path runs a few hundred times per
 * series: with the default, V8 compiled most of it with TurboFan in every series (a fresh process,
 * or a running one whose code was flushed between series), on its helper threads, and that cost
 * more than the optimized code saved. The analysis loops run millions of iterations and still tier
 * up within their first milliseconds. Measured on C-STORE, fresh node per series, paired rounds in
 * one run: 0.82 -> 0.67 and 0.72 -> 0.57 CPU s (medians of 8 and 6; every pair but one lower);
 * STOW-RS within the noise; the ICH analysis no slower (README, Benchmarks).
 */
export const INTERRUPT_BUDGET = 4 * 1024 * 1024;

/** Applies the node's V8 settings; call before the node's code runs hot (they are process-wide, worker threads included). */
export function tuneV8(): void {
  setFlagsFromString(`--interrupt-budget=${INTERRUPT_BUDGET}`);
}
