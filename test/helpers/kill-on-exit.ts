import type { ChildProcess } from 'node:child_process';

const live = new Set<ChildProcess>();
let hooked = false;

/**
 * SIGKILLs `child` if this process exits first: a test or benchmark that dies (an uncaught error,
 * an EPIPE on a closed pipe) must not leave an Orthanc or a medge node running, holding ports,
 * memory and CPU that the next run measures. Nothing can run after SIGKILL of this process itself.
 */
export function killOnExit(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
  if (hooked) return;
  hooked = true;
  process.once('exit', () => {
    for (const c of live) c.kill('SIGKILL');
  });
}
