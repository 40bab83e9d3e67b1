import { InputError } from '../errors.js';
import type { ClonerPort } from './cloner.js';

/** The clone-freeze strategy is not built yet: refuse before anything is opened. */
export const clonerPort: ClonerPort = {
  open: () =>
    Promise.reject(
      new InputError(
        'STRATEGY_UNSUPPORTED',
        'the clone-freeze strategy is not available in this version of maint',
        [{ path: 'strategy', message: 'clone-freeze is not implemented yet' }],
        { hint: 'Use `strategy: in-place` for now.' },
      ),
    ),
};
