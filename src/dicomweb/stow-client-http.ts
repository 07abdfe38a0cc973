import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders, type ClientRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { responseError, timeoutError, transportError, type Destination } from './stow-client-errors.js';

/**
 * The HTTP side of an outbound DICOMweb destination (STOW-RS, QIDO-RS): one keep-alive agent,
 * authentication, a custom CA, an inactivity timeout, a bounded answer. node:http(s) rather than
 * fetch: fetch cannot take a per-destination CA without undici, which medge does not depend on.
 */

export type DicomwebAuth = { basic: { user: string; password: string } } | { bearer: string };

export interface HttpDestinationOptions {
  /** e.g. https://pacs.example.org/dicom-web (a trailing slash is ignored). */
  baseUrl: string;
  auth?: DicomwebAuth;
  /** PEM of the CA(s) to trust for this destination; it replaces Node's built-in list for it (tls.createSecureContext). */
  ca?: Buffer | string;
  /** The node's certificate chain and private key, PEM, for a destination that authenticates its clients (mutual TLS). */
  cert?: Buffer | string;
  key?: Buffer | string;
  /** Default true. false accepts any certificate: for tests, never for a real destination. */
  rejectUnauthorized?: boolean;
  /** Give up when nothing moves (connect, bytes sent, bytes received) for this long; default 30 000 ms. */
  timeoutMs?: number;
  /** Parallel connections to the destination; default 4. */
  maxSockets?: number;
}

/** A request body that can be produced again (a retry on a fresh connection re-reads it). */
export interface BodySource {
  length: number;
  chunks(): AsyncIterable<Buffer>;
}

export interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** Answers larger than this are not STOW or QIDO answers we want to hold (16 MiB). */
const MAX_ANSWER_BYTES = 16 * 1024 * 1024;
const DEFAULT_TIMEOUT_MS = 30_000;

/** Marks an error on a kept-alive socket the server had closed meanwhile (safe to retry once). */
class StaleSocket {
  constructor(readonly error: unknown) {}
}

export class HttpDestination implements Destination {
  /** The base URL without credentials or trailing slash. */
  readonly url: string;
  private readonly base: URL;
  private readonly agent: HttpAgent;
  private readonly authHeader: string | undefined;
  private readonly timeoutMs: number;

  constructor(options: HttpDestinationOptions) {
    const base = new URL(options.baseUrl);
    if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new TypeError(`a DICOMweb base URL must be http(s), got ${base.protocol}`);
    let auth = options.auth;
    if (!auth && base.username) auth = { basic: { user: decodeURIComponent(base.username), password: decodeURIComponent(base.password) } };
    base.username = '';
    base.password = '';
    base.pathname = base.pathname.replace(/\/+$/, '');
    base.search = '';
    this.base = base;
    this.url = base.toString().replace(/\/$/, '');
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const common = { keepAlive: true, maxSockets: options.maxSockets ?? 4 };
    this.agent = base.protocol === 'https:' ? new HttpsAgent({ ...common, ca: options.ca, cert: options.cert, key: options.key, rejectUnauthorized: options.rejectUnauthorized ?? true, minVersion: 'TLSv1.2' }) : new HttpAgent(common);
    if (auth && 'basic' in auth) this.authHeader = `Basic ${Buffer.from(`${auth.basic.user}:${auth.basic.password}`, 'utf8').toString('base64')}`;
    else if (auth) this.authHeader = `Bearer ${auth.bearer}`;
  }

  /**
   * Sends one request under the base URL (`path` starts with '/', may carry a query) and returns
   * the whole answer, whatever its status. Rejects only for the transport (classified
   * MedgeError). A kept-alive socket found closed by the server is retried once on a new one.
   */
  async request(method: string, path: string, options: { headers?: Record<string, string>; body?: BodySource } = {}): Promise<HttpAnswer> {
    try {
      return await this.once(method, path, options);
    } catch (err) {
      if (!(err instanceof StaleSocket)) throw err;
      try {
        return await this.once(method, path, options);
      } catch (again) {
        throw transportError(again instanceof StaleSocket ? again.error : again, this);
      }
    }
  }

  close(): void {
    this.agent.destroy();
  }

  private once(method: string, path: string, options: { headers?: Record<string, string>; body?: BodySource }): Promise<HttpAnswer> {
    const url = new URL(this.base.pathname + path, this.base);
    const headers: Record<string, string | number> = { ...options.headers, 'content-length': options.body?.length ?? 0 };
    if (this.authHeader) headers.authorization = this.authHeader;
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      let settled = false;
      let phase = 'connecting';
      let answered = false;
      let timer: NodeJS.Timeout | undefined;
      const req: ClientRequest = send(url, { method, headers, agent: this.agent });
      const fail = (err: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        req.destroy();
        reject(err);
      };
      const touch = () => {
        clearTimeout(timer);
        if (!settled) timer = setTimeout(() => fail(timeoutError(this.timeoutMs, this, phase)), this.timeoutMs);
      };
      touch();
      req.on('socket', (socket) => {
        const connected = () => {
          phase = options.body ? 'sending' : 'waiting for the answer';
          touch();
        };
        if (socket.connecting) socket.once(url.protocol === 'https:' ? 'secureConnect' : 'connect', connected);
        else connected();
      });
      req.on('error', (err: NodeJS.ErrnoException) => {
        const stale = req.reusedSocket && !answered && (err.code === 'ECONNRESET' || err.code === 'EPIPE');
        fail(stale ? new StaleSocket(err) : transportError(err, this));
      });
      req.on('response', (res) => {
        answered = true;
        phase = 'receiving the answer';
        touch();
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_ANSWER_BYTES) return fail(responseError(res.statusCode ?? 0, this, `its answer is over ${MAX_ANSWER_BYTES} bytes`));
          chunks.push(c);
          touch();
        });
        res.on('error', (err) => fail(transportError(err, this)));
        res.on('end', () => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          // An answer before the whole body was sent (401, 413...) leaves the socket unusable.
          if (!req.writableFinished) req.destroy();
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
        });
      });
      if (!options.body) {
        req.end();
        return;
      }
      pump(req, options.body, touch, () => answered || settled).then(
        () => {
          if (!settled && !answered) phase = 'waiting for the answer';
        },
        (err) => fail(err),
      );
    });
  }
}

/** Streams the body with backpressure; stops early when the server has already answered. */
async function pump(req: ClientRequest, body: BodySource, progress: () => void, stop: () => boolean): Promise<void> {
  for await (const chunk of body.chunks()) {
    if (stop() || req.destroyed) return;
    if (!req.write(chunk)) await drained(req);
    progress();
  }
  if (!stop() && !req.destroyed) req.end();
}

function drained(req: ClientRequest): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      req.off('drain', done);
      req.off('close', done);
      resolve();
    };
    req.on('drain', done);
    req.on('close', done);
  });
}
