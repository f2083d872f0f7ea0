// The retry arithmetic: full-jitter bounds and Retry-After parsing.
import { backoffDelay, parseRetryAfter, DEFAULT_RETRY } from '../../src/transport/retry';
import { classifyStatus } from '../../src/transport/attempt';

it('full jitter stays within [0, min(maxDelay, base * 2^(n-1))]', () => {
  const policy = { ...DEFAULT_RETRY, baseDelayMs: 100, maxDelayMs: 1000 };
  expect([1, 2, 3, 4, 5, 10].map((n) => backoffDelay(n, policy, () => 0.999999))).toEqual([99, 199, 399, 799, 999, 999]);
  expect(backoffDelay(3, policy, () => 0)).toBe(0);
});

it('Retry-After: seconds, HTTP date, capped, garbage ignored', () => {
  const now = Date.parse('Wed, 26 Nov 2025 03:00:00 GMT');
  expect(parseRetryAfter('2', 30000, now)).toBe(2000);
  expect(parseRetryAfter(' 120 ', 30000, now)).toBe(30000);
  expect(parseRetryAfter('Wed, 26 Nov 2025 03:00:05 GMT', 30000, now)).toBe(5000);
  expect(parseRetryAfter('Wed, 26 Nov 2025 02:59:00 GMT', 30000, now)).toBe(0);
  expect(parseRetryAfter('soon', 30000, now)).toBeUndefined();
  expect(parseRetryAfter('-1', 30000, now)).toBeUndefined();
  expect(parseRetryAfter(null, 30000, now)).toBeUndefined();
});

it('status classes', () => {
  expect([200, 204, 400, 401, 403, 404, 405, 408, 410, 413, 429, 500, 503].map((s) => [s, classifyStatus(s)])).toEqual([
    [200, 'delivered'], [204, 'delivered'], [400, 'drop'], [401, 'stop'], [403, 'stop'], [404, 'stop'], [405, 'drop'],
    [408, 'retry'], [410, 'stop'], [413, 'drop'], [429, 'retry'], [500, 'retry'], [503, 'retry'],
  ]);
});
