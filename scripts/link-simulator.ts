/**
 * Runs the WAN link simulator by hand, in front of any TCP service (an Orthanc, a cloud PACS):
 *   node dist/scripts/link-simulator.js HOST:PORT [--rate-mbit 50] [--delay-ms 20] [--port 0]
 * then type on stdin: `cut refuse|drop|blackhole`, `restore`, `rate MBIT` (0 = no cap),
 * `delay MS`, `stats`, `quit`. --delay-ms is one way: 20 gives a 40 ms round trip.
 */
import { createInterface } from 'node:readline';
import { createLinkSimulator, type LinkCutMode } from '../src/uplink/link-simulator.js';

const MBIT = 1_000_000;
const USAGE = 'usage: link-simulator HOST:PORT [--rate-mbit N] [--delay-ms N] [--port N]';

async function main(argv: string[]): Promise<void> {
  const target = argv[0]?.match(/^(.+):(\d+)$/);
  if (!target) throw new Error(USAGE);
  const flag = (name: string): number | undefined => {
    const i = argv.indexOf(name);
    if (i < 0) return undefined;
    const v = Number(argv[i + 1]);
    if (!Number.isFinite(v) || v < 0) throw new Error(`${name} needs a number >= 0; ${USAGE}`);
    return v;
  };
  const rateMbit = flag('--rate-mbit');
  const link = await createLinkSimulator({
    target: { host: target[1]!, port: Number(target[2]) },
    rateBitsPerSecond: rateMbit ? rateMbit * MBIT : undefined,
    delayMs: flag('--delay-ms') ?? 0,
    listen: { port: flag('--port') ?? 0 },
  });
  console.log(`link simulator on ${link.host}:${link.port} -> ${target[1]}:${target[2]} (${rateMbit ?? 'no'} Mbit/s cap, ${flag('--delay-ms') ?? 0} ms one way)`);
  const lines = createInterface({ input: process.stdin });
  const stop = async () => {
    lines.close();
    await link.close();
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
  for await (const line of lines) {
    const [cmd, arg] = line.trim().split(/\s+/);
    try {
      if (cmd === 'cut' && (arg === 'refuse' || arg === 'drop' || arg === 'blackhole')) await link.cut(arg as LinkCutMode);
      else if (cmd === 'restore') await link.restore();
      else if (cmd === 'rate') link.setRate(Number(arg) * MBIT);
      else if (cmd === 'delay') link.setDelay(Number(arg));
      else if (cmd === 'quit') break;
      else if (cmd !== 'stats') console.log('commands: cut refuse|drop|blackhole, restore, rate MBIT, delay MS, stats, quit');
      console.log(JSON.stringify(link.stats()));
    } catch (err) {
      console.error(err instanceof Error ? err.message : err);
    }
  }
  await stop();
}

main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
