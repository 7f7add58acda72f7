import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stickyAssign } from '../../../src/kafka/sticky-assignment.ts';

const SHARDS = Array.from({ length: 32 }, (_, i) => i);

function owners(assignment: Map<string, number[]>): Map<number, string[]> {
  const byShard = new Map<number, string[]>();
  for (const [member, shards] of assignment) for (const shard of shards) byShard.set(shard, [...(byShard.get(shard) ?? []), member]);
  return byShard;
}

describe('stickyAssign (the shard group leader)', () => {
  it('gives every shard to exactly one member, balanced within one, whatever the members claim', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string({ minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 7 }),
        fc.array(fc.array(fc.integer({ min: -2, max: 40 }), { maxLength: 40 }), { minLength: 7, maxLength: 7 }),
        (ids, claims) => {
          const assignment = stickyAssign(ids.map((memberId, i) => ({ memberId, owned: claims[i] ?? [] })), SHARDS);
          const byShard = owners(assignment);
          expect([...byShard.keys()].sort((a, b) => a - b)).toEqual(SHARDS);
          for (const list of byShard.values()) expect(list).toHaveLength(1);
          const sizes = [...assignment.values()].map((s) => s.length);
          expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
          expect(assignment.size).toBe(ids.length);
        },
      ),
    );
  });

  it('moves only the shards of a member that left, and only enough shards to a member that joined', () => {
    const three = stickyAssign([{ memberId: 'a', owned: [] }, { memberId: 'b', owned: [] }, { memberId: 'c', owned: [] }], SHARDS);
    const claims = (ids: string[]) => ids.map((memberId) => ({ memberId, owned: three.get(memberId) ?? [] }));
    // c is killed: a and b keep everything they had and split c's shards.
    const two = stickyAssign(claims(['a', 'b']), SHARDS);
    for (const id of ['a', 'b']) expect(two.get(id)).toEqual(expect.arrayContaining(three.get(id) ?? []));
    // d joins the three: it takes 8 shards, each of the others gives up at most 3.
    const four = stickyAssign([...claims(['a', 'b', 'c']), { memberId: 'd', owned: [] }], SHARDS);
    expect(four.get('d')).toHaveLength(8);
    for (const id of ['a', 'b', 'c']) {
      const kept = (four.get(id) ?? []).filter((s) => three.get(id)?.includes(s));
      expect(kept).toHaveLength(8);
    }
  });

  it('settles two members claiming the same shard (one was cut off and did not know) on one of them', () => {
    const assignment = stickyAssign([{ memberId: 'a', owned: [0, 1, 2, 3] }, { memberId: 'b', owned: [2, 3, 4, 5] }], [0, 1, 2, 3, 4, 5]);
    const byShard = owners(assignment);
    for (const shard of [0, 1, 2, 3, 4, 5]) expect(byShard.get(shard)).toHaveLength(1);
    expect(assignment.get('a')).toHaveLength(3);
  });

  it('leaves members beyond the shard count without shards', () => {
    const assignment = stickyAssign(['a', 'b', 'c'].map((memberId) => ({ memberId, owned: [] })), [0, 1]);
    expect([...assignment.values()].map((s) => s.length).sort()).toEqual([0, 1, 1]);
  });
});
