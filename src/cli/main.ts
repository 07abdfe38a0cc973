import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isMedgeError } from '../errors.js';

const HELP = `medge: edge AI node for medical imaging

Usage: medge <command> [options]

Commands:
  start   run the node: DIMSE SCP, DICOMweb, HTTP API (medge start --help)
  echo    C-ECHO a DICOM node: medge echo AE@host:port
  send    C-STORE files to a DICOM node: medge send DIR --to AE@host:port
  phantom write a synthetic head CT series with ground truth (medge phantom --help)
  analyze analyse the series under a directory offline: medge analyze DIR [--json] [--truth FILE]
  demo    play a head CT with a bleed into a node and watch the timeline and the alert (medge demo --help)
  deid    de-identify the files under a directory (DICOM PS3.15 Annex E), offline: medge deid DIR --out DIR
  uplink  the uplink to the cloud PACS of a running node: medge uplink status | retry ID|--all
  backup  copy the index (analyses, alerts, records) consistently, even while the node runs: medge backup --to FILE

Options:
  -h, --help     this text; 'medge <command> --help' for a command
  -v, --version  the version

Documentation: README.md and docs/ in the package.`;

type Command = (argv: string[]) => Promise<number>;

const COMMANDS: Record<string, () => Promise<Command>> = {
  start: async () => (await import('./commands/start.js')).runStart,
  echo: async () => (await import('./commands/echo.js')).runEcho,
  send: async () => (await import('./commands/send.js')).runSend,
  phantom: async () => (await import('./commands/phantom.js')).runPhantom,
  analyze: async () => (await import('./commands/analyze.js')).runAnalyze,
  demo: async () => (await import('./commands/demo.js')).runDemo,
  deid: async () => (await import('./commands/deid.js')).runDeid,
  uplink: async () => (await import('./commands/uplink.js')).runUplink,
  backup: async () => (await import('./commands/backup.js')).runBackup,
};

/** Runs the medge command line; resolves to the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '-h' || name === '--help' || name === 'help') {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  if (name === '-v' || name === '--version') {
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  const load = COMMANDS[name];
  if (!load) {
    process.stderr.write(`medge: unknown command '${name}'\n\n${HELP}\n`);
    return 2;
  }
  try {
    return await (await load())(rest);
  } catch (err) {
    if (isMedgeError(err)) {
      process.stderr.write(`medge ${name}: ${err.message} [${err.code}]\n`);
      return err.code === 'MEDGE_ERR_CLI_USAGE' ? 2 : 1;
    }
    throw err;
  }
}

function version(): string {
  const pkg = fileURLToPath(new URL('../../../package.json', import.meta.url));
  return (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version;
}
