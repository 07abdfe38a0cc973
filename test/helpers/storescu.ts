import { spawn } from 'node:child_process';

export interface StorescuOptions {
  host: string;
  port: number;
  /** Called AE title. */
  aec: string;
  /** Files or directories (scanned recursively). */
  paths: string[];
  /** -v: one "Sending file" and one "Received Store Response" line per instance. */
  verbose?: boolean;
  extraArgs?: string[];
  /** Called with each chunk of stdout and stderr as it arrives (to act on progress). */
  onOutput?: (chunk: string) => void;
}

export interface StorescuRun {
  /** Wall time from spawn to exit, in ms. */
  ms: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
}

/**
 * Runs dcmtk's storescu once: one association for every file. TCP_NODELAY=1 turns Nagle off in
 * dcmtk (Debian builds leave it on: about 40 ms lost per C-STORE otherwise).
 */
export function runStorescu(options: StorescuOptions, onSpawn?: (pid: number, kill: () => void) => void): Promise<StorescuRun> {
  const args = [...(options.verbose ? ['-v'] : []), '-aec', options.aec, '+sd', '+r', ...(options.extraArgs ?? []), options.host, String(options.port), ...options.paths];
  const started = performance.now();
  const child = spawn('storescu', args, { env: { ...process.env, TCP_NODELAY: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    output += text;
    options.onOutput?.(text);
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  if (child.pid !== undefined && onSpawn) onSpawn(child.pid, () => child.kill('SIGKILL'));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ ms: performance.now() - started, code, signal, output }));
  });
}

/**
 * Parses storescu -v output into the files whose C-STORE was answered with Success: each
 * "Sending file: PATH" is followed, once the response arrives, by "Received Store Response (Success)"
 * (a warning status prints "(Warning...)", a failure anything else).
 */
export function acknowledgedFiles(output: string): string[] {
  const acknowledged: string[] = [];
  let current: string | undefined;
  for (const line of output.split('\n')) {
    const sending = /^I: Sending file: (.+)$/.exec(line.trimEnd());
    if (sending) {
      current = sending[1];
      continue;
    }
    if (current && /^I: Received Store Response \((Success|Warning)/.test(line)) {
      acknowledged.push(current);
      current = undefined;
    }
  }
  return acknowledged;
}
