export class JpegDctError extends Error {}
export function decodeJpegDct(_data: Uint8Array): { samples: Uint8Array; width: number; height: number; components: number; precision: number } {
  throw new JpegDctError('12-bit DCT JPEG is not decoded yet');
}
