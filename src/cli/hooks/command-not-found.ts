/**
 * oclif's `command_not_found` hook: `maint migrat` names the nearest command instead of a bare
 * "not found" (exit 2, the house style's `error:` and `hint:` lines; never a prompt, CI runs it).
 */
import type { Hook } from '@oclif/core';

/** Edit distance (insertions, deletions, substitutions), for "did you mean". */
export function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}

/** The closest of `names` to `typed`, when it is close enough to be a typo. */
export function nearest(typed: string, names: readonly string[]): string | undefined {
  let best: { name: string; d: number } | undefined;
  for (const name of names) {
    const d = distance(typed, name);
    if (!best || d < best.d) best = { name, d };
  }
  return best && best.d <= Math.max(2, Math.floor(best.name.length / 3)) ? best.name : undefined;
}

const hook: Hook<'command_not_found'> = async function (options) {
  // With a space as topic separator the id may carry the arguments too (`stauts plan.yaml`).
  const words = options.id.split(':');
  const visible = options.config.commands.filter((c) => !c.hidden).map((c) => c.id.replace(/:/g, ' '));
  const names = [...new Set([...visible, ...options.config.topics.map((t) => t.name.replace(/:/g, ' '))])];
  let typed = words.join(' ');
  let guess: string | undefined;
  for (let n = words.length; n >= 1 && !guess; n--) {
    guess = nearest(words.slice(0, n).join(' '), names);
    if (guess || n === 1) typed = words.slice(0, n).join(' ');
  }
  const bin = options.config.bin;
  process.stderr.write(
    `error: "${typed}" is not a ${bin} command.${guess ? ` Did you mean "${guess}"?` : ''}\n` +
      `hint: ${guess ? `Run \`${bin} ${guess} --help\`, or see` : 'See'} every command with \`${bin} --help\`.\n`,
  );
  process.exitCode = 2;
  return true;
};

export default hook;
