/**
 * `fn` over `items`, `size` at a time (each group once the previous one is done), results in the
 * items' order: file-system calls that each take a trip through libuv's thread pool (4 threads)
 * overlap without queueing thousands of them at once.
 */
export async function mapInGroups<T, R>(items: readonly T[], size: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += size) out.push(...(await Promise.all(items.slice(i, i + size).map(fn))));
  return out;
}
