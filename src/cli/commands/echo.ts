import { echo } from '../../dimse/scu.js';
import { parsePeerAddress } from '../../dimse/peer-address.js';
import { intOption, parseCommandArgs } from '../parse-args.js';
import { TLS_FLAGS, TLS_HELP, tlsAdvice, tlsFromFlags } from '../tls-flags.js';
import { USER_FLAGS, USER_HELP, userAdvice, userFromFlags } from '../user-flags.js';

const HELP = `Usage: medge echo AE@host:port [options]

Checks that a DICOM peer answers: opens an association, sends C-ECHO (Verification), releases.
Prints the round-trip time; exit status 0 when the peer answered Success, 1 otherwise.

Options:
  --calling-ae TITLE   our AE title in the association      [MEDGE]
  --timeout S          seconds to wait for each answer      [10]
${TLS_HELP}
${USER_HELP}
  -h, --help           this text

Examples: medge echo ORTHANC@127.0.0.1:4242 --calling-ae MEDGE
          medge echo MEDGE@10.0.0.7:2762 --ca /etc/medge/ca.pem    (a TLS listener)`;

export async function runEcho(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    'echo',
    argv,
    { 'calling-ae': { type: 'string' }, timeout: { type: 'string' }, ...TLS_FLAGS, ...USER_FLAGS, help: { type: 'boolean', short: 'h' } },
    true,
  );
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  if (positionals.length !== 1) {
    process.stderr.write(`medge echo: expected one peer AE@host:port\n${HELP}\n`);
    return 2;
  }
  const peer = parsePeerAddress(positionals[0]!);
  const timeoutMs = (intOption('--timeout', values.timeout) ?? 10) * 1000;
  const tls = await tlsFromFlags(values);
  const user = userFromFlags(values);
  try {
    const r = await echo({ host: peer.host, port: peer.port, calledAe: peer.aeTitle, callingAe: values['calling-ae'] ?? 'MEDGE', timeoutMs, tls, user });
    process.stdout.write(`C-ECHO ${peer.aeTitle}@${peer.host}:${peer.port}: Success in ${r.elapsedMs.toFixed(1)} ms\n`);
    return 0;
  } catch (err) {
    const e = err as Error & { code?: string };
    const advice = tlsAdvice(err) ?? userAdvice(err, user) ?? (!tls && (e.code === 'MEDGE_ERR_DIMSE_ABORTED' || e.code === 'MEDGE_ERR_DIMSE_PDU') ? 'if this is a DICOM TLS port, add --tls (and --ca)' : undefined);
    process.stderr.write(`C-ECHO ${peer.aeTitle}@${peer.host}:${peer.port} failed: ${e.code ? `${e.code}: ` : ''}${e.message}${advice ? `: ${advice}` : ''}\n`);
    return 1;
  }
}
