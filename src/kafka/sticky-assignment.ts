/**
 * The shard group's assignment (run by the group leader): balanced, and sticky — a replica keeps the
 * shards it owned as far as balance allows, so a replica joining or leaving moves only the shards
 * that must move. kafkajs' own assigner is round-robin by member id, which reshuffles almost every
 * shard on any membership change; with eager rebalancing each move stops, fences and reloads a shard.
 */

export interface MemberClaim {
  memberId: string;
  /** Shards the member owned before this rebalance (from its join metadata); may be stale or overlap others'. */
  owned: readonly number[];
}

/** member id → its shards, sorted. Every shard goes to exactly one member; counts differ by at most one. */
export function stickyAssign(members: readonly MemberClaim[], shards: readonly number[]): Map<string, number[]> {
  const result = new Map<string, number[]>();
  if (members.length === 0) return result;
  const valid = new Set(shards);
  // The members keeping the most get the larger quotas, so fewer shards move.
  const ordered = [...members].sort((a, b) => b.owned.length - a.owned.length || a.memberId.localeCompare(b.memberId));
  const base = Math.floor(shards.length / members.length);
  const extra = shards.length % members.length;
  const quota = new Map(ordered.map((m, i) => [m.memberId, base + (i < extra ? 1 : 0)]));
  const taken = new Set<number>();
  for (const member of ordered) {
    const kept: number[] = [];
    for (const shard of [...new Set(member.owned)].sort((a, b) => a - b)) {
      if (kept.length >= (quota.get(member.memberId) ?? 0)) break;
      if (valid.has(shard) && !taken.has(shard)) {
        taken.add(shard);
        kept.push(shard);
      }
    }
    result.set(member.memberId, kept);
  }
  const free = shards.filter((s) => !taken.has(s)).sort((a, b) => a - b);
  for (const member of ordered) {
    const list = result.get(member.memberId) ?? [];
    while (list.length < (quota.get(member.memberId) ?? 0) && free.length > 0) list.push(free.shift() as number);
    list.sort((a, b) => a - b);
    result.set(member.memberId, list);
  }
  return result;
}
