import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';

/** A boundary that cannot occur in the instances by chance. */
export function newBoundary(): string {
  return `medge-bench-${randomUUID()}`;
}

/** Writes a STOW-RS multipart/related body (PS3.18 10.5) of the given Part 10 files; returns its size. */
export async function writeMultipartBody(files: string[], outFile: string, boundary: string): Promise<number> {
  const handle = await open(outFile, 'w');
  let bytes = 0;
  try {
    for (const file of files) {
      const part = Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`, 'latin1');
      await handle.write(part);
      // Streamed, so that a 500 MB instance is not held in memory.
      for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
        await handle.write(chunk as Buffer);
        bytes += (chunk as Buffer).length;
      }
      await handle.write(Buffer.from('\r\n', 'latin1'));
      bytes += part.length + 2;
    }
    const end = Buffer.from(`--${boundary}--\r\n`, 'latin1');
    await handle.write(end);
    bytes += end.length;
  } finally {
    await handle.close();
  }
  return bytes;
}

export interface StowRun {
  ms: number;
  status: number;
  body: string;
}

/**
 * POSTs a body file with curl (-T streams it from disk with a Content-Length; 'Expect:' stops
 * curl from waiting for 100-continue). url is the STOW-RS endpoint, e.g. BASE/dicom-web/studies.
 */
export function curlStow(url: string, bodyFile: string, boundary: string): Promise<StowRun> {
  const args = [
    '-sS', '-X', 'POST', '-T', bodyFile, '-H', 'Expect:',
    '-H', `Content-Type: multipart/related; type="application/dicom"; boundary=${boundary}`,
    '-H', 'Accept: application/dicom+json',
    '-w', '\n%{http_code}', url,
  ];
  const started = performance.now();
  const child = spawn('curl', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      const ms = performance.now() - started;
      const cut = out.lastIndexOf('\n');
      const status = Number(out.slice(cut + 1)) || 0;
      resolve({ ms, status, body: code === 0 ? out.slice(0, cut) : `curl exit ${code}: ${err}` });
    });
  });
}
