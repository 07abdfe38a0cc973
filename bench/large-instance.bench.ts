/**
 * Large-instance benchmark: one multi-frame instance of about 524 MB (1000 frames of 512x512x16 bit)
 * sent by storescu (C-STORE) and by curl (STOW-RS, one request) to a fresh medge and a fresh
 * Orthanc. The figure that matters is medge's peak RSS: a receiver that streams to disk stays far
 * below the instance's size. Run with `npm run bench:large [-- --frames 1000 --only medge]`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { writeSyntheticMultiFrame } from '../src/dicom/synthetic/multi-frame.js';
import { cpuSeconds, sampleRss } from './lib/proc-stats.js';
import { startReceiver, storescuTo, stowTo, type ReceiverKind } from './lib/receivers.js';
import { newBoundary, writeMultipartBody } from './lib/stow.js';
import { formatTable } from './lib/table.js';

const { values: opts } = parseArgs({
  options: {
    frames: { type: 'string', default: '1000' },
    only: { type: 'string' },
    work: { type: 'string' },
  },
});

type Mode = 'C-STORE' | 'STOW-RS';

async function main(): Promise<void> {
  const kinds: ReceiverKind[] = opts.only ? [opts.only as ReceiverKind] : ['medge', 'orthanc'];
  const work = opts.work ?? (await mkdtemp(join(tmpdir(), 'medge-bench-large-')));
  try {
    const t0 = performance.now();
    const instance = await writeSyntheticMultiFrame({ file: join(work, 'large.dcm'), frames: Number(opts.frames) });
    const boundary = newBoundary();
    const body = join(work, 'large-stow.bin');
    await writeMultipartBody([instance.file], body, boundary);
    const mb = instance.bytes / 1e6;
    console.log(`workload: one multi-frame instance, ${opts.frames} frames, ${mb.toFixed(1)} MB; prepared in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const rows: Array<Array<string | number | undefined>> = [];
    for (const mode of ['C-STORE', 'STOW-RS'] as Mode[]) {
      for (const kind of kinds) {
        try {
          const receiver = await startReceiver(kind);
          const sampler = sampleRss(receiver.pid);
          try {
            const cpu0 = cpuSeconds(receiver.pid);
            const started = performance.now();
            if (mode === 'C-STORE') await storescuTo(receiver, [[instance.file]]);
            else await stowTo(receiver, [body], boundary);
            const seconds = (performance.now() - started) / 1000;
            const cpu = cpuSeconds(receiver.pid) - cpu0;
            const rss = sampler.stop();
            const stored = await receiver.countInstances(instance.studyUid, instance.seriesUid);
            if (stored !== 1) throw new Error(`${kind} holds ${stored} instances after ${mode}`);
            rows.push([mode, kind, seconds, mb / seconds, cpu, rss]);
            console.log(`${kind} ${mode}: ${seconds.toFixed(1)} s, ${(mb / seconds).toFixed(0)} MB/s, ${cpu.toFixed(2)} CPU s, peak RSS ${rss.toFixed(0)} MB`);
          } finally {
            sampler.stop();
            await receiver.stop();
          }
        } catch (err) {
          const message = err instanceof Error ? err.message : String(err);
          rows.push([mode, kind, undefined, undefined, undefined, undefined]);
          console.log(`${kind} ${mode}: FAILED: ${message.split('\n').slice(0, 6).join(' | ')}`);
        }
      }
    }
    console.log(`\n${formatTable(['mode', 'receiver', 'seconds', 'MB/s', 'CPU s', 'peak RSS MB'], rows)}`);
    const medgePeak = Math.max(...rows.filter((r) => r[1] === 'medge' && typeof r[5] === 'number').map((r) => r[5] as number));
    const verdict = Number.isFinite(medgePeak) ? (medgePeak < 200 ? 'PASS' : 'FAIL') : 'n/a';
    console.log(`\ngoal: medge peak RSS under 200 MB with a ${mb.toFixed(0)} MB instance: ${Number.isFinite(medgePeak) ? medgePeak.toFixed(0) : 'n/a'} MB ${verdict}`);
  } finally {
    if (!opts.work) await rm(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
