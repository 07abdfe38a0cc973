/**
 * Reads of an accepted DIMSE connection into one reusable buffer (net.Socket's `onread` option)
 * instead of a fresh 64 KB allocation per read: the pixel data goes from that buffer straight to
 * the instance file, so the receive path allocates nothing per byte received.
 *
 * Node 20 offers `onread` only to sockets it creates for the caller (net.connect, new Socket), not
 * to those a server accepts; the accepted socket's handle is therefore moved into a new Socket
 * (created with pauseOnCreate so that no byte is read before). That uses the handle field, which
 * is not public API: when it is absent, the accepted socket is used as it is (the reader then
 * works on 'data' events).
 *
 * Contract for the consumer (pdu-reader.ts): a chunk is a view into the shared buffer and is valid
 * until the consumer lets reading go on, that is, until its listener returns true or, after it
 * returned false (the socket is then paused), until it calls socket.resume(). Bytes kept longer
 * must be copied.
 */
import { Socket } from 'node:net';

/** Called with each read; returns false to pause reading until socket.resume(). */
export type ChunkListener = (chunk: Buffer) => boolean;

const listeners = new WeakMap<Socket, (listener: ChunkListener) => void>();

/**
 * A socket reading into a buffer of `size` bytes, owned by this connection, or the accepted
 * socket itself (flowing) when its handle cannot be moved.
 */
export function withReadBuffer(accepted: Socket, size: number): Socket {
  const handle = (accepted as unknown as { _handle?: unknown })._handle;
  if (!handle) {
    accepted.resume();
    return accepted;
  }
  const buffer = Buffer.allocUnsafe(size);
  let listener: ChunkListener | undefined;
  (accepted as unknown as { _handle: unknown })._handle = null;
  // Without its handle, destroying the accepted socket only releases the server's count of it.
  accepted.destroy();
  const socket = new Socket({
    handle,
    pauseOnCreate: true,
    readable: true,
    writable: true,
    onread: {
      buffer,
      callback: (nread: number, buf: Uint8Array) => (listener ? listener(Buffer.from(buf.buffer, buf.byteOffset, nread)) : true),
    },
  } as ConstructorParameters<typeof Socket>[0]);
  listeners.set(socket, (l) => {
    listener = l;
    socket.resume();
  });
  return socket;
}

/** For a socket made by withReadBuffer: installs the one listener and starts reading. */
export function takeChunkListener(socket: Socket): ((listener: ChunkListener) => void) | undefined {
  const set = listeners.get(socket);
  listeners.delete(socket);
  return set;
}
