/**
 * Real local receivers for the alert channels, for the channel tests and the end-to-end test: a
 * webhook endpoint that verifies every signature, an MLLP listener that acknowledges like a RIS, and
 * a FHIR server that answers transactions. Each binds port 0 on 127.0.0.1, records what it accepted,
 * can be told to fail the next requests, and offers `received(n)` to await the n-th accepted
 * delivery instead of sleeping. They verify and parse with their own code, not medge's.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer as createHttpServer, type IncomingHttpHeaders, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/** Resolves waiters once a count reaches theirs. */
class Arrivals {
  count = 0;
  private waiters: { n: number; resolve: () => void }[] = [];
  add(): void {
    this.count++;
    for (const w of this.waiters.filter((w) => this.count >= w.n)) w.resolve();
    this.waiters = this.waiters.filter((w) => this.count < w.n);
  }
  wait(n: number): Promise<void> {
    return this.count >= n ? Promise.resolve() : new Promise((resolve) => this.waiters.push({ n, resolve }));
  }
}

async function listenHttp(handler: (req: IncomingMessage, body: string, res: ServerResponse) => void): Promise<{ server: HttpServer; port: number }> {
  const server = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handler(req, Buffer.concat(chunks).toString('utf8'), res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

function closeHttp(server: HttpServer): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

export interface WebhookReceiver {
  url: string;
  port: number;
  /** Accepted deliveries (valid signature, answered 204). */
  deliveries: { headers: IncomingHttpHeaders; body: string; json: { event: string; alert: Record<string, unknown> } }[];
  /** Requests whose signature or timestamp did not verify (answered 401). */
  rejected: { reason: string; body: string }[];
  /** Every request. */
  requests: number;
  /** The next `n` valid requests are answered `status` (default 500) and not accepted. */
  failNext(n: number, status?: number): void;
  received(n: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * Verifies X-Medge-Signature as docs/alerts.md tells a receiver to: HMAC-SHA256 over
 * `timestamp + "." + raw body`, compared in constant time, timestamp within `toleranceSeconds`.
 */
export async function startWebhookReceiver(options: { secret: string; toleranceSeconds?: number }): Promise<WebhookReceiver> {
  const tolerance = options.toleranceSeconds ?? 300;
  const arrivals = new Arrivals();
  let failures = { n: 0, status: 500 };
  const r: WebhookReceiver = {
    url: '',
    port: 0,
    deliveries: [],
    rejected: [],
    requests: 0,
    failNext: (n, status = 500) => void (failures = { n, status }),
    received: (n) => arrivals.wait(n),
    close: () => closeHttp(server),
  };
  const { server, port } = await listenHttp((req, body, res) => {
    r.requests++;
    const timestamp = String(req.headers['x-medge-timestamp'] ?? '');
    const signature = String(req.headers['x-medge-signature'] ?? '');
    const expected = 'sha256=' + createHmac('sha256', options.secret).update(`${timestamp}.${body}`).digest('hex');
    const signed = signature.length === expected.length && timingSafeEqual(Buffer.from(signature), Buffer.from(expected));
    const fresh = Math.abs(Date.now() / 1000 - Number(timestamp)) <= tolerance;
    if (!signed || !fresh) {
      r.rejected.push({ reason: signed ? 'stale timestamp' : 'bad signature', body });
      res.writeHead(401).end();
      return;
    }
    if (failures.n > 0) {
      failures.n--;
      res.writeHead(failures.status, { 'content-type': 'text/plain' }).end('told to fail');
      return;
    }
    r.deliveries.push({ headers: req.headers, body, json: JSON.parse(body) });
    res.writeHead(204).end();
    arrivals.add();
  });
  r.port = port;
  r.url = `http://127.0.0.1:${port}/hooks/medge`;
  return r;
}

export type MllpFailure = 'AE' | 'AR' | 'close' | 'silent';

export interface MllpListener {
  host: string;
  port: number;
  /** Every message received, with what it was answered ('close' / 'silent' when it was not). */
  messages: { text: string; answer: string }[];
  /** The next `n` messages are answered AE (default), AR, by closing the connection, or not at all. */
  failNext(n: number, how?: MllpFailure): void;
  /** Resolves once `n` messages were answered with the listener's success code. */
  received(n: number): Promise<void>;
  /** Resolves once `n` messages arrived, whatever they were answered. */
  arrived(n: number): Promise<void>;
  close(): Promise<void>;
}

const SB = 0x0b;
const EB = 0x1c;
const CR = 0x0d;

/** An MLLP listener (HL7 v2.5.1 Appendix C) that acknowledges every message like a RIS in original mode. */
export async function startMllpListener(options: { ack?: 'AA' | 'AE' | 'AR'; /** A port reserved beforehand (a RIS that comes up later); default any free port. */ port?: number } = {}): Promise<MllpListener> {
  const ack = options.ack ?? 'AA';
  const arrivals = new Arrivals();
  const any = new Arrivals();
  const sockets = new Set<Socket>();
  let failures: { n: number; how: MllpFailure } = { n: 0, how: 'AE' };
  const messages: MllpListener['messages'] = [];
  const server: TcpServer = createTcpServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let buffered = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      for (;;) {
        const start = buffered.indexOf(SB);
        const end = buffered.indexOf(Buffer.of(EB, CR), start + 1);
        if (start < 0 || end < 0) return;
        const text = buffered.subarray(start + 1, end).toString('utf8');
        buffered = buffered.subarray(end + 2);
        let answer: string = ack;
        if (failures.n > 0) {
          failures.n--;
          answer = failures.how;
        }
        messages.push({ text, answer });
        any.add();
        if (answer === 'close') return void socket.destroy();
        if (answer === 'silent') continue;
        socket.write(Buffer.concat([Buffer.of(SB), Buffer.from(ackFor(text, answer), 'utf8'), Buffer.of(EB, CR)]));
        if (answer === ack) arrivals.add();
      }
    });
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(options.port ?? 0, '127.0.0.1', resolve));
  const close = () => {
    for (const s of sockets) s.destroy();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return { host: '127.0.0.1', port: (server.address() as AddressInfo).port, messages, failNext: (n, how = 'AE') => void (failures = { n, how }), received: (n) => arrivals.wait(n), arrived: (n) => any.wait(n), close };
}

/** An ACK to `message` (HL7 v2.5.1 2.9.2): sender and receiver swapped, MSA-2 = its MSH-10. */
function ackFor(message: string, code: string): string {
  const msh = (message.split('\r')[0] ?? '').split('|');
  const now = new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14);
  const header = ['MSH', '^~\\&', msh[4] ?? '', msh[5] ?? '', msh[2] ?? '', msh[3] ?? '', now, '', 'ACK^R01^ACK', randomBytes(5).toString('hex'), 'P', msh[11] ?? '2.5.1'];
  const text = code === 'AA' ? 'Message accepted' : code === 'AE' ? 'Application error: try again' : 'Message rejected';
  return `${header.join('|')}\rMSA|${code}|${msh[9] ?? ''}|${text}`;
}

export interface FhirServer {
  /** The base URL the channel POSTs transactions to. */
  url: string;
  port: number;
  /** Accepted transaction Bundles. */
  bundles: { type: string; entry: { fullUrl: string; resource: Record<string, unknown> & { resourceType: string }; request: { method: string; url: string; ifNoneExist?: string } }[] }[];
  requests: { headers: IncomingHttpHeaders }[];
  /** The next `n` requests are answered `status` (default 500) with an OperationOutcome. */
  failNext(n: number, status?: number): void;
  received(n: number): Promise<void>;
  close(): Promise<void>;
}

/** A FHIR R4 endpoint that takes transaction Bundles at its base and answers transaction-responses. */
export async function startFhirServer(options: { bearerToken?: string } = {}): Promise<FhirServer> {
  const arrivals = new Arrivals();
  let failures = { n: 0, status: 500 };
  const bundles: FhirServer['bundles'] = [];
  const requests: FhirServer['requests'] = [];
  const outcome = (res: ServerResponse, status: number, code: string) =>
    res.writeHead(status, { 'content-type': 'application/fhir+json' }).end(JSON.stringify({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code }] }));
  let nextId = 1;
  const { server, port } = await listenHttp((req, body, res) => {
    requests.push({ headers: req.headers });
    if (req.method !== 'POST' || req.url !== '/fhir') return outcome(res, 404, 'not-found');
    if (!String(req.headers['content-type']).startsWith('application/fhir+json')) return outcome(res, 415, 'not-supported');
    if (options.bearerToken && req.headers.authorization !== `Bearer ${options.bearerToken}`) return outcome(res, 401, 'login');
    if (failures.n > 0) {
      failures.n--;
      return outcome(res, failures.status, 'transient');
    }
    const bundle = JSON.parse(body) as FhirServer['bundles'][number] & { resourceType: string };
    if (bundle.resourceType !== 'Bundle' || bundle.type !== 'transaction') return outcome(res, 400, 'invalid');
    bundles.push(bundle);
    const entry = bundle.entry.map((e) => ({
      response: { status: e.request.method === 'POST' ? '201 Created' : '200 OK', location: `${e.resource.resourceType}/${nextId++}/_history/1` },
    }));
    res.writeHead(200, { 'content-type': 'application/fhir+json' }).end(JSON.stringify({ resourceType: 'Bundle', type: 'transaction-response', entry }));
    arrivals.add();
  });
  return { url: `http://127.0.0.1:${port}/fhir`, port, bundles, requests, failNext: (n, status = 500) => void (failures = { n, status }), received: (n) => arrivals.wait(n), close: () => closeHttp(server) };
}
