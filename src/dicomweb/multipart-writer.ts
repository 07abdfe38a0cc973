import { randomBytes } from 'node:crypto';

/**
 * The framing of the multipart/related bodies the node writes (RFC 2046 5.1.1 with CRLF line ends,
 * PS3.18 8.6.1.2 and 8.7.3.5): STOW-RS requests to an archive, WADO-RS instances and frames.
 */

/** A boundary that no DICOM file will contain by chance (96 random bits, RFC 2046 5.1.1). */
export function newBoundary(): string {
  return `medge-${randomBytes(12).toString('hex')}`;
}

/** The delimiter and headers before a part's bytes; Content-Length when the length is given. */
export function partHead(boundary: string, type: string, length?: number): Buffer {
  const size = length === undefined ? '' : `Content-Length: ${length}\r\n`;
  return Buffer.from(`--${boundary}\r\nContent-Type: ${type}\r\n${size}\r\n`, 'latin1');
}

/** What follows each part's bytes. */
export const PART_END = Buffer.from('\r\n', 'latin1');

/** The close delimiter, after the last part. */
export function closeDelimiter(boundary: string): Buffer {
  return Buffer.from(`--${boundary}--\r\n`, 'latin1');
}
