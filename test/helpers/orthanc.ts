import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, openSync, closeSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { freePorts } from './free-port.js';
import { killOnExit } from './kill-on-exit.js';
import { ORTHANC_HINT, requireFile, requireTool } from './peers.js';

/** Debian's Orthanc binary and the places orthanc-dicomweb puts its plugin. */
export const ORTHANC_BINARY = '/usr/sbin/Orthanc';
const DICOMWEB_PLUGIN_CANDIDATES = [
  '/usr/share/orthanc/plugins/libOrthancDicomWeb.so',
  '/usr/lib/orthanc/libOrthancDicomWeb.so',
];

export function findDicomWebPlugin(): string | undefined {
  return DICOMWEB_PLUGIN_CANDIDATES.find((p) => existsSync(p));
}

/**
 * Whether Orthanc and its DICOMweb plugin are installed: false lets a test skip on a developer
 * machine; under CI=true a missing one throws (CI never skips).
 */
export function requireOrthanc(): boolean {
  return requireTool(ORTHANC_BINARY, ORTHANC_HINT) && (findDicomWebPlugin() !== undefined || requireFile(DICOMWEB_PLUGIN_CANDIDATES[0]!, ORTHANC_HINT));
}

export interface OrthancOptions {
  aeTitle?: string;
  /** Orthanc's DicomModalities: name -> [AE title, host, port]. */
  modalities?: Record<string, [string, string, number]>;
  /** DicomWeb.Servers: name -> base URL ending in '/dicom-web/' (or whatever root), or [url, username, password]. */
  dicomWebServers?: Record<string, string | [string, string, string]>;
  /** Extra top-level configuration keys; override the defaults below. */
  extraConfig?: Record<string, unknown>;
  /** Extra environment; TCP_NODELAY=1 is set unless overridden here. */
  env?: NodeJS.ProcessEnv;
  /** How long to wait for GET /system, in ms. */
  startTimeoutMs?: number;
  /** HTTP basic authentication: enables AuthenticationEnabled with this one RegisteredUsers entry. */
  credentials?: { user: string; password: string };
  /** Where the instance's temporary directory (storage, index, configuration) is made; default os.tmpdir(). '/dev/shm' keeps it in memory. */
  parentDir?: string;
  /** Leave the directory in place on stop (the caller removes it, e.g. a benchmark at its end). */
  keepDir?: boolean;
}

export interface OrthancInstance {
  /** Base URL without a trailing slash, e.g. http://127.0.0.1:41234 */
  httpUrl: string;
  dicomPort: number;
  httpPort: number;
  aeTitle: string;
  pid: number;
  dir: string;
  child: ChildProcess;
  logFile: string;
  /** Headers for the REST API: the Authorization of `credentials`, or none. */
  authHeaders: Record<string, string>;
  /** SIGTERM, then SIGKILL after 10 s; waits for exit and removes the directory (unless `keepDir`). */
  stop(): Promise<void>;
}

/**
 * Starts a private Orthanc with its own configuration, storage and index in a fresh temporary
 * directory, on ports chosen at run time (Orthanc 1.10 cannot bind port 0, so they come from
 * freePorts; a port taken in between shows as an early exit and we retry). Never touches the
 * system Orthanc service: it is stopped by its own PID only.
 */
export async function startOrthanc(options: OrthancOptions = {}): Promise<OrthancInstance> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce(options);
    } catch (err) {
      lastError = err;
    }
  }
  throw lastError;
}

async function startOnce(options: OrthancOptions): Promise<OrthancInstance> {
  const plugin = findDicomWebPlugin();
  const dir = await mkdtemp(join(options.parentDir ?? tmpdir(), 'medge-orthanc-'));
  const [httpPort, dicomPort] = await freePorts(2);
  const aeTitle = options.aeTitle ?? 'ORTHANC';
  const servers: Record<string, string[]> = {};
  for (const [name, server] of Object.entries(options.dicomWebServers ?? {})) servers[name] = typeof server === 'string' ? [server] : server;
  const config: Record<string, unknown> = {
    Name: `medge-test-${process.pid}`,
    StorageDirectory: join(dir, 'storage'),
    IndexDirectory: join(dir, 'index'),
    TemporaryDirectory: join(dir, 'tmp'),
    HttpPort: httpPort,
    DicomPort: dicomPort,
    HttpServerEnabled: true,
    DicomServerEnabled: true,
    RemoteAccessAllowed: false,
    AuthenticationEnabled: false,
    OrthancExplorerEnabled: false,
    WebDavEnabled: false,
    DicomAet: aeTitle,
    DicomCheckCalledAet: false,
    DicomAlwaysAllowEcho: true,
    DicomAlwaysAllowStore: true,
    DicomModalities: options.modalities ?? {},
    DicomModalitiesInDatabase: false,
    OrthancPeersInDatabase: false,
    UnknownSopClassAccepted: true,
    StableAge: 2,
    ConcurrentJobs: 2,
    // The default (5 s) keeps an SCU association open for reuse after each job; 0 releases it when
    // the job ends, so the receiving side sees the release (its end-of-series signal) at once.
    DicomAssociationCloseDelay: 0,
    HttpCompressionEnabled: false,
    LuaScripts: [],
    Plugins: plugin ? [plugin] : [],
    DicomWeb: { Enable: true, Root: '/dicom-web/', EnableWado: true, Ssl: false, Servers: servers },
    ...(options.credentials ? { AuthenticationEnabled: true, RegisteredUsers: { [options.credentials.user]: options.credentials.password } } : {}),
    ...options.extraConfig,
  };
  const configFile = join(dir, 'orthanc.json');
  await writeFile(configFile, JSON.stringify(config, null, 2));
  const logFile = join(dir, 'orthanc.log');
  const logFd = openSync(logFile, 'a');
  // Orthanc's DICOM side is DCMTK, which leaves Nagle on unless TCP_NODELAY=1 is in its
  // environment: without it each C-STORE response waits for a delayed ACK (about 48 ms here,
  // 20 instances/s instead of 200).
  const env = { ...process.env, TCP_NODELAY: '1', ...options.env };
  const child = spawn(ORTHANC_BINARY, [configFile], { stdio: ['ignore', logFd, logFd], env });
  killOnExit(child);
  closeSync(logFd);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const httpUrl = `http://127.0.0.1:${httpPort}`;
  const authHeaders: Record<string, string> = options.credentials
    ? { authorization: `Basic ${Buffer.from(`${options.credentials.user}:${options.credentials.password}`).toString('base64')}` }
    : {};
  const pid = child.pid;
  if (pid === undefined) throw new Error('Orthanc did not start (no PID)');

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    if (!options.keepDir) await rm(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + (options.startTimeoutMs ?? 30_000);
  let early: number | null | undefined;
  void exited.then((code) => (early = code));
  while (Date.now() < deadline) {
    if (early !== undefined) {
      const log = safeRead(logFile);
      await rm(dir, { recursive: true, force: true });
      throw new Error(`Orthanc exited early (code ${early}):\n${log.slice(-4000)}`);
    }
    try {
      const res = await fetch(`${httpUrl}/system`, { headers: authHeaders, signal: AbortSignal.timeout(1000) });
      if (res.ok) {
        await res.arrayBuffer();
        return { httpUrl, dicomPort, httpPort, aeTitle, pid, dir, child, logFile, authHeaders, stop };
      }
    } catch {
      // not listening yet
    }
    await delay(100);
  }
  const log = safeRead(logFile);
  await stop();
  throw new Error(`Orthanc did not answer GET /system within the timeout:\n${log.slice(-4000)}`);
}

function safeRead(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** Small REST helper: JSON in, JSON out, throws with the body on a non-2xx answer. */
export async function orthancJson<T = unknown>(base: string, path: string, init: RequestInit = {}): Promise<T> {
  const res = await fetch(`${base}${path}`, init);
  const text = await res.text();
  if (!res.ok) throw new Error(`Orthanc ${init.method ?? 'GET'} ${path}: HTTP ${res.status} ${text.slice(0, 500)}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

/** Uploads Part 10 files with Orthanc's REST API; returns Orthanc's instance and study IDs. */
export async function uploadToOrthanc(orthanc: OrthancInstance, files: string[]): Promise<{ instances: string[]; studies: Set<string> }> {
  const instances: string[] = [];
  const studies = new Set<string>();
  for (const file of files) {
    const answer = await orthancJson<{ ID: string; ParentStudy: string }>(orthanc.httpUrl, '/instances', { method: 'POST', body: await readFile(file) });
    instances.push(answer.ID);
    studies.add(answer.ParentStudy);
  }
  return { instances, studies };
}
