import { spawn, type ChildProcess } from 'node:child_process';
import { readFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { killOnExit } from './kill-on-exit.js';
import { repoRoot } from './real-data.js';

export interface MedgeOptions {
  /** Data directory; a fresh temporary one when absent. Reuse it to test a restart. */
  dataDir?: string;
  /** Extra arguments after `start --data DIR --dicom-port 0 --http-port 0`. */
  args?: string[];
  env?: NodeJS.ProcessEnv;
  /** Maximum wait for DIR/ports.json, in ms. */
  startTimeoutMs?: number;
}

export interface MedgeProcess {
  dicomPort: number;
  httpPort: number;
  /** PID written in ports.json (the process that owns the listeners). */
  pid: number;
  dataDir: string;
  httpUrl: string;
  child: ChildProcess;
  /** Last 64 KiB of stdout and stderr together. */
  output(): string;
  /** SIGTERM, SIGKILL after 10 s; resolves once the process has exited. */
  stop(): Promise<void>;
  /** SIGKILL at once (a crash); resolves once the process has exited. */
  kill(): Promise<void>;
}

interface PortsFile {
  dicom: number;
  http: number;
  pid: number;
}

const OUTPUT_LIMIT = 64 * 1024;

/**
 * Spawns `node bin/medge.js start` on port 0 for both listeners and waits until it has written
 * DIR/ports.json with its own (new) PID. If the process exits first, the error carries its output.
 */
export async function startMedge(options: MedgeOptions = {}): Promise<MedgeProcess> {
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'medge-data-')));
  const portsFile = join(dataDir, 'ports.json');
  const stale = await readPorts(portsFile);
  const root = repoRoot();
  const args = [join(root, 'bin', 'medge.js'), 'start', '--data', dataDir, '--dicom-port', '0', '--http-port', '0', ...(options.args ?? [])];
  const child = spawn(process.execPath, args, {
    cwd: root,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  killOnExit(child);
  let output = '';
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-OUTPUT_LIMIT);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const hasExited = () => child.exitCode !== null || child.signalCode !== null;

  const waitExit = async (signal: NodeJS.Signals, graceMs: number) => {
    if (!hasExited()) {
      child.kill(signal);
      const timer = graceMs > 0 ? setTimeout(() => child.kill('SIGKILL'), graceMs) : undefined;
      await exited;
      if (timer) clearTimeout(timer);
    }
  };

  const deadline = Date.now() + (options.startTimeoutMs ?? 20_000);
  while (Date.now() < deadline) {
    if (hasExited()) {
      throw new Error(`medge exited before writing ports.json (code ${child.exitCode}, signal ${child.signalCode}):\n${output}`);
    }
    const ports = await readPorts(portsFile);
    if (ports && ports.pid !== stale?.pid && (ports.pid === child.pid || isAlive(ports.pid))) {
      return {
        dicomPort: ports.dicom,
        httpPort: ports.http,
        pid: ports.pid,
        dataDir,
        httpUrl: `http://127.0.0.1:${ports.http}`,
        child,
        output: () => output,
        stop: () => waitExit('SIGTERM', 10_000),
        kill: () => waitExit('SIGKILL', 0),
      };
    }
    await delay(25);
  }
  await waitExit('SIGKILL', 0);
  throw new Error(`medge did not write ${portsFile} within the timeout:\n${output}`);
}

async function readPorts(path: string): Promise<PortsFile | undefined> {
  try {
    const parsed = JSON.parse(await readFile(path, 'utf8')) as Partial<PortsFile>;
    if (typeof parsed.dicom === 'number' && typeof parsed.http === 'number' && typeof parsed.pid === 'number') {
      return parsed as PortsFile;
    }
  } catch {
    // absent or half written
  }
  return undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
