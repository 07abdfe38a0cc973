/**
 * Sending and retrieve benchmark. A synthetic 200-slice 512x512 CT series (105 MB) goes to dcmtk's
 * storescp (`--ignore`: it reads every byte and drops it; TCP_NODELAY=1) two ways, alternating,
 * medians over the rounds:
 *   - `medge send` beside dcmtk's storescu, the anchor for a C-STORE SCU (medge's own figure is the
 *     one it prints, without Node's start-up);
 *   - a C-MOVE asked by dcmtk's movescu from a medge node, beside the same C-MOVE from a private
 *     Orthanc 1.10 holding the same series, with each performer's CPU seconds.
 * Run with `npm run bench:retrieve [-- --rounds 3 --max-pdu 16384 --work DIR]`.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { writeSyntheticCtSeries } from '../src/dicom/synthetic/ct-series.js';
import { runTool } from '../src/dimse/int-test-harness.js';
import { freePort } from '../test/helpers/free-port.js';
import { killOnExit } from '../test/helpers/kill-on-exit.js';
import { startMedge } from '../test/helpers/medge-process.js';
import { startOrthanc } from '../test/helpers/orthanc.js';
import { repoRoot } from '../test/helpers/real-data.js';
import { runStorescu } from '../test/helpers/storescu.js';
import { cpuSeconds } from './lib/proc-stats.js';
import { formatTable, median } from './lib/table.js';

const { values: opts } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    'max-pdu': { type: 'string', default: '16384' },
    work: { type: 'string' },
  },
});

interface Sample {
  mode: 'send' | 'move';
  who: 'medge' | 'anchor';
  ips: number;
  cpu?: number;
}

async function main(): Promise<void> {
  const work = opts.work ?? (await mkdtemp(join(tmpdir(), 'medge-bench-retrieve-')));
  const children: { kill(): void }[] = [];
  try {
    const series = await writeSyntheticCtSeries({ dir: join(work, 'series'), slices: 200, rows: 512, columns: 512, seed: 42 });
    const n = series.files.length;
    const destPort = await freePort();
    const dest = spawn('storescp', ['-aet', 'DEST', '--ignore', '--max-pdu', opts['max-pdu'], String(destPort)], { stdio: 'ignore', env: { ...process.env, TCP_NODELAY: '1' } });
    killOnExit(dest);
    children.push(dest);
    for (let i = 0; i < 100 && (await runTool('echoscu', ['-aec', 'DEST', '-to', '1', '127.0.0.1', String(destPort)])).code !== 0; i++) await new Promise((r) => setTimeout(r, 50));

    const config = join(work, 'medge.yaml');
    await writeFile(config, `dicom:\n  remoteAes:\n    - aeTitle: DEST\n      host: 127.0.0.1\n      port: ${destPort}\n`);
    const medge = await startMedge({ dataDir: join(work, 'medge-data'), args: ['--config', config, '--ae-title', 'MEDGE'] });
    children.push({ kill: () => void medge.stop() });
    const orthanc = await startOrthanc({ aeTitle: 'ORTHANC', parentDir: work, modalities: { dest: ['DEST', '127.0.0.1', destPort], mover: ['MOVER', '127.0.0.1', 104] } });
    children.push({ kill: () => void orthanc.stop() });
    for (const [port, aec] of [[medge.dicomPort, 'MEDGE'], [orthanc.dicomPort, 'ORTHANC']] as const) {
      const stored = await runStorescu({ host: '127.0.0.1', port, aec, paths: [join(work, 'series')] });
      if (stored.code !== 0) throw new Error(`storing into ${aec} failed: ${stored.output.slice(-400)}`);
    }
    console.log(`workload: ${n} instances, ${(series.bytes / 1e6).toFixed(1)} MB; destination storescp --ignore, maximum PDU ${opts['max-pdu']}`);

    const samples: Sample[] = [];
    const rounds = Number(opts.rounds);
    for (let round = 1; round <= rounds; round++) {
      const order: Sample['who'][] = round % 2 ? ['medge', 'anchor'] : ['anchor', 'medge'];
      for (const who of order) {
        const s = who === 'medge' ? medgeSend(work, destPort) : await storescuSend(work, destPort, n);
        samples.push({ mode: 'send', who, ips: s });
        console.log(`round ${round} send ${who === 'medge' ? 'medge send' : 'storescu  '}  ${s.toFixed(0)} inst/s`);
      }
      for (const who of order) {
        const [port, aec, pid] = who === 'medge' ? [medge.dicomPort, 'MEDGE', medge.pid] : [orthanc.dicomPort, 'ORTHANC', orthanc.pid];
        const cpu0 = cpuSeconds(pid);
        const t0 = performance.now();
        const moved = await runTool('movescu', ['-v', '-S', '-aet', 'MOVER', '-aec', aec, '-aem', 'DEST', '-k', '0008,0052=STUDY', '-k', `0020,000d=${series.studyUid}`, '127.0.0.1', String(port)]);
        const seconds = (performance.now() - t0) / 1000;
        if (!/Final Move Response \(Success\)/.test(moved.output)) throw new Error(`C-MOVE from ${aec} did not succeed: ${moved.output.slice(-400)}`);
        const cpu = cpuSeconds(pid) - cpu0;
        samples.push({ mode: 'move', who, ips: n / seconds, cpu });
        console.log(`round ${round} move ${who === 'medge' ? 'medge     ' : 'orthanc   '}  ${(n / seconds).toFixed(0)} inst/s, ${cpu.toFixed(2)} CPU s`);
      }
    }
    const med = (mode: Sample['mode'], who: Sample['who'], key: 'ips' | 'cpu') => median(samples.filter((s) => s.mode === mode && s.who === who).map((s) => s[key] ?? NaN));
    console.log(`\nmedians over ${rounds} rounds\n`);
    console.log(formatTable(['mode', 'medge inst/s', 'anchor inst/s', 'ratio', 'medge CPU s', 'anchor CPU s', 'anchor'], [
      ['C-STORE SCU to storescp', med('send', 'medge', 'ips'), med('send', 'anchor', 'ips'), med('send', 'medge', 'ips') / med('send', 'anchor', 'ips'), undefined, undefined, 'dcmtk storescu'],
      ['C-MOVE to storescp', med('move', 'medge', 'ips'), med('move', 'anchor', 'ips'), med('move', 'medge', 'ips') / med('move', 'anchor', 'ips'), med('move', 'medge', 'cpu'), med('move', 'anchor', 'cpu'), 'Orthanc 1.10'],
    ]));
  } finally {
    for (const c of children) c.kill();
    await new Promise((r) => setTimeout(r, 500));
    if (!opts.work) await rm(work, { recursive: true, force: true });
  }
}

/** `medge send` as a user runs it; its own summary line, which leaves out Node's start-up. */
function medgeSend(work: string, destPort: number): number {
  const r = spawnSync(process.execPath, [join(repoRoot(), 'bin', 'medge.js'), 'send', join(work, 'series'), '--to', `DEST@127.0.0.1:${destPort}`], { encoding: 'utf8' });
  const m = /([\d.]+) instances\/s/.exec(r.stdout);
  if (r.status !== 0 || !m) throw new Error(`medge send failed: ${r.stdout}${r.stderr}`);
  return Number(m[1]);
}

async function storescuSend(work: string, destPort: number, n: number): Promise<number> {
  const r = await runStorescu({ host: '127.0.0.1', port: destPort, aec: 'DEST', paths: [join(work, 'series')] });
  if (r.code !== 0) throw new Error(`storescu failed: ${r.output.slice(-400)}`);
  return n / (r.ms / 1000);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
