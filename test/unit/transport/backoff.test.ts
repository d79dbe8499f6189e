import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../../src/transport/backoff.js';

describe('backoffDelay', () => {
  it('doubles from the minimum and stays at the cap', () => {
    expect([0, 1, 2, 3, 4, 5, 100].map((n) => backoffDelay(n, 100, 1000))).toEqual([100, 200, 400, 800, 1000, 1000, 1000]);
  });
});
