// Bounded parallelism: enough requests in flight to hide API-server latency, few enough not to be
// throttled (client-go's default is 5 QPS/10 burst; real API servers' priority-and-fairness queues).

/**
 * Runs `fn` over `items` with at most `limit` in flight, in input order of results. Every item is
 * attempted even when some fail; the outcomes are returned as settled results.
 */
export async function mapSettled<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<PromiseSettledResult<R>[]> {
  const results: PromiseSettledResult<R>[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      try {
        results[i] = { status: 'fulfilled', value: await fn(items[i] as T, i) };
      } catch (reason) {
        results[i] = { status: 'rejected', reason };
      }
    }
  };
  const n = Math.max(1, Math.min(limit, items.length));
  await Promise.all(Array.from({ length: n }, worker));
  return results;
}
