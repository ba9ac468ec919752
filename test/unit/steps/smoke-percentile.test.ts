import { smokeTable } from '../../../src/report/smoke.js';
import { percentile } from '../../../src/steps/smoke.js';

describe('percentile (nearest rank)', () => {
  const oneToTwenty = Array.from({ length: 20 }, (_, i) => i + 1);
  it.each([
    [oneToTwenty, 95, 19],
    [oneToTwenty, 50, 10],
    [oneToTwenty, 100, 20],
    [[7], 95, 7],
    [[1, 2, 3], 50, 2],
    [[1, 2, 3, 4], 50, 2],
    [[], 95, null],
  ])('of %j at p%d is %p', (values, p, expected) => {
    expect(percentile(values, p)).toBe(expected);
  });
});

describe('smokeTable', () => {
  it('keeps a path with a pipe inside its cell', () => {
    const table = smokeTable({
      ok: true,
      checks: [
        {
          method: 'GET',
          path: '/search?q=a|b',
          url: 'https://x/search?q=a|b',
          requests: 1,
          expectedStatus: 200,
          statuses: { '200': 1 },
          errors: 0,
          p50Ms: 3,
          p95Ms: 3,
          maxMs: 3,
          p95LimitMs: 500,
          ok: true,
        },
      ],
    });
    expect(table.split('\n')[2]).toBe(
      '| ✅ | `GET /search?q=a\\|b` | 1 | 200 ×1 (200) | 3 ms | 3 ms (limit 500 ms) | 3 ms | passed |',
    );
  });
});
