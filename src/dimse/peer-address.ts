import { MedgeError } from '../errors.js';

export interface PeerAddress {
  aeTitle: string;
  host: string;
  port: number;
}

/**
 * Parses "AE@host:port" (IPv6 hosts in brackets: "AE@[::1]:104"). AE titles are 1 to 16
 * characters without backslash or control characters (PS3.5 6.2, AE).
 */
export function parsePeerAddress(text: string): PeerAddress {
  const m = /^([^@]{1,16})@(\[[^\]]+\]|[^:@]+):(\d{1,5})$/.exec(text.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port < 1 || port > 65535 || /[\\\x00-\x1f]/.test(m[1]!) || m[1]!.trim() === '') {
    throw new MedgeError('MEDGE_ERR_CLI_USAGE', `'${text}' is not a peer address; expected AE@host:port, for example PACS@10.0.0.5:104`, { value: text });
  }
  return { aeTitle: m[1]!.trim(), host: m[2]!.replace(/^\[|\]$/g, ''), port };
}
