import { loadConfig, type ConfigOverrides } from '../../config/load.js';
import { createLogger } from '../../observability/log.js';
import { startNode } from '../../node.js';
import { intOption, parseCommandArgs } from '../parse-args.js';
import { tuneV8 } from '../../util/v8-tuning.js';

const HELP = `Usage: medge start [options]

Runs the node: a DIMSE SCP (C-ECHO, C-STORE, C-FIND) and an HTTP server with DICOMweb
(STOW-RS, QIDO-RS, WADO-RS), GET /api/health and GET /metrics.

Options:
  --config FILE      YAML configuration file (see medge.sample.yaml)
  --data DIR         data directory: instances, index.sqlite, ports.json   [./data]
  --dicom-port N     DIMSE port; 0 picks a free port                       [11112]
  --dicom-tls-port N DICOM TLS port, for the TLS listener of the configuration
                     file (dicom.tls: port, certFile, keyFile, caFile); 0 picks
                     a free port
  --http-port N      HTTP port; 0 picks a free port                        [8080]
  --ae-title TITLE   this node's AE title                                  [MEDGE]
  --log-level LEVEL  fatal, error, warn, info, debug, trace, silent        [info]
  --check-store      check every stored file against the index before listening
                     (after restoring a backup or removing files by hand); by
                     default a start checks nothing after a clean stop and, after
                     a crash, only the directories changed shortly before it
  --rebuild-index    when index.sqlite is damaged (the start says so): move it
                     aside to index.sqlite.damaged-<time> and index every stored
                     file again; analyses, alerts, upload, removal and
                     de-identification records are only in the index and start
                     empty (restore index.sqlite from a backup to keep them)
  -h, --help         this text

Precedence: defaults < configuration file < MEDGE_* environment variables < flags.
The ports in use are printed at start and written to DIR/ports.json. SIGTERM or SIGINT stops the
node; SIGHUP re-reads the certificate files of the DICOM TLS listener and of HTTPS (a renewal).`;

export async function runStart(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs('start', argv, {
    config: { type: 'string' },
    data: { type: 'string' },
    'dicom-port': { type: 'string' },
    'dicom-tls-port': { type: 'string' },
    'http-port': { type: 'string' },
    'ae-title': { type: 'string' },
    'log-level': { type: 'string' },
    'check-store': { type: 'boolean' },
    'rebuild-index': { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const overrides: ConfigOverrides = {
    dataDir: values.data,
    dicom: {
      port: intOption('--dicom-port', values['dicom-port']),
      aeTitle: values['ae-title'],
      // Merged into dicom.tls of the file; alone it names no certificate, which validation says.
      tls: values['dicom-tls-port'] !== undefined ? ({ port: intOption('--dicom-tls-port', values['dicom-tls-port']) } as never) : undefined,
    },
    http: { port: intOption('--http-port', values['http-port']) },
    log: { level: values['log-level'] as never },
    store: { checkAllAtStart: values['check-store'] },
  };
  const config = loadConfig({ file: values.config, env: process.env, overrides });
  const log = createLogger(config.log.level);
  tuneV8();
  const node = await startNode(config, log, { rebuildIndex: values['rebuild-index'] });
  const tls = node.ports.dicomTls !== undefined ? `, DICOM TLS port ${node.ports.dicomTls}` : '';
  process.stdout.write(`medge ${config.dicom.aeTitle} listening: DICOM port ${node.ports.dicom}${tls}, ${config.http.tls ? 'HTTPS' : 'HTTP'} port ${node.ports.http}\n`);

  // SIGHUP: renewed certificates of the DICOM TLS listener and of HTTPS are used from the next handshake on.
  const onHangup = () => {
    void node.reloadCertificates().then((any) => {
      if (!any) log.info({ event: 'signal', signal: 'SIGHUP' }, 'no DICOM TLS listener and no HTTPS: nothing to reload');
    });
  };
  process.on('SIGHUP', onHangup);
  await new Promise<void>((resolve) => {
    const onSignal = (signal: string) => {
      log.info({ event: 'signal', signal }, 'stopping');
      process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
      resolve();
    };
    process.on('SIGINT', onSignal).on('SIGTERM', onSignal);
  });
  process.off('SIGHUP', onHangup);
  await node.stop();
  return 0;
}
