import { describe, expect, it } from 'vitest';
import { ByteBudget } from '../../../src/util/byte-budget.ts';

describe('ByteBudget', () => {
  it('grants up to its capacity, never past it, and reports every change', () => {
    const changes: number[] = [];
    const budget = new ByteBudget(100, (used) => changes.push(used));
    expect(budget.tryAcquire(60)).toBe(true);
    expect(budget.tryAcquire(41)).toBe(false);
    expect(budget.tryAcquire(40)).toBe(true);
    expect(budget.used).toBe(100);
    expect(budget.tryAcquire(1)).toBe(false);
    budget.release(60);
    expect(budget.used).toBe(40);
    expect(changes).toEqual([60, 100, 40]);
  });

  it('never goes below zero on an over-release', () => {
    const budget = new ByteBudget(10);
    budget.tryAcquire(5);
    budget.release(50);
    expect(budget.used).toBe(0);
    expect(budget.tryAcquire(10)).toBe(true);
  });
});
