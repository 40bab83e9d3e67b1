/**
 * How the user can run this maint again from where they are: `maint` when that name on PATH is
 * this very program, `npx maint` when it is the project's own dependency, else the real path of
 * the bin (what they just ran). Used where output suggests commands to type.
 */
import { accessSync, constants, realpathSync } from 'node:fs';
import path from 'node:path';

function real(p: string): string | null {
  try {
    return realpathSync(p);
  } catch {
    return null;
  }
}

export function invocation(
  bin: string | undefined = process.argv[1],
  env: NodeJS.ProcessEnv = process.env,
  cwd = process.cwd(),
): string {
  const self = bin ? real(bin) : null;
  if (!self) return 'maint';
  for (const dir of (env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    const candidate = path.join(dir, 'maint');
    try {
      accessSync(candidate, constants.X_OK);
    } catch {
      continue;
    }
    if (real(candidate) === self) return 'maint';
    break; // another maint comes first on PATH: do not send the user to it
  }
  if (real(path.join(cwd, 'node_modules', '.bin', 'maint')) === self) return 'npx maint';
  const relative = path.relative(cwd, self);
  return relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? `./${relative}` : self;
}
