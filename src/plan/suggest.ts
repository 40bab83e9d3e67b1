/** Typo suggestions (`did you mean …?`) for keys, values and environment variables. */

/** Closest candidate by edit distance, when close enough to be a typo. */
export function suggest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestScore = Infinity;
  for (const c of candidates) {
    const score = distance(word.toLowerCase(), c.toLowerCase());
    if (score < bestScore) {
      bestScore = score;
      best = c;
    }
  }
  if (best !== undefined && bestScore <= Math.max(1, Math.floor(word.length / 3))) return best;
  // `sunday` for `sun`, `postgresql` for `postgres`: a candidate the word starts with.
  const lower = word.toLowerCase();
  const prefix = candidates.filter((c) => c.length >= 3 && lower.startsWith(c.toLowerCase()));
  return prefix.sort((a, b) => b.length - a.length)[0];
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}
