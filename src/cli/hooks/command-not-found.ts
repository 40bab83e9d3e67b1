/**
 * oclif's `command_not_found` hook: `maint migrat` names the nearest command instead of a bare
 * "not found" (exit 2, the house style's `error:` and `hint:` lines; never a prompt, CI runs it).
 */
import type { Hook } from '@oclif/core';
import { nearest } from '../../support/nearest.js';

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
