import { createServer } from 'node:net';

/**
 * Returns a TCP port that was free a moment ago: binds port 0 on the given host, reads the port the
 * kernel chose, and closes. Only for peers that cannot bind port 0 themselves (Orthanc 1.10,
 * storescp); another process may take the port in between, so callers that can should retry.
 */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ port: 0, host, exclusive: true }, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('free-port: listener has no TCP address'));
        return;
      }
      const { port } = address;
      server.close((err) => (err ? reject(err) : resolve(port)));
    });
  });
}

/** Several distinct free ports (held open together so that they differ). */
export async function freePorts(count: number, host = '127.0.0.1'): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, () =>
      new Promise<import('node:net').Server>((resolve, reject) => {
        const server = createServer();
        server.unref();
        server.once('error', reject);
        server.listen({ port: 0, host, exclusive: true }, () => resolve(server));
      }),
    ),
  );
  const ports = servers.map((s) => {
    const a = s.address();
    if (a === null || typeof a === 'string') throw new Error('free-port: listener has no TCP address');
    return a.port;
  });
  await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  return ports;
}
