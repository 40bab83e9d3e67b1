import type { Step } from '../../core/engine/step.js';
import { writeBanners, type BannerState } from '../../notify/banner.js';
import type { Plan } from '../../plan/schema.js';
import type { WindowInstance } from '../../window/window.js';

export interface BannerStepOptions {
  plan: Plan;
  /** The plan's folder: banner files resolve from it. */
  dir: string;
  /** The window the banner announces. */
  window: WindowInstance;
}

function write(options: BannerStepOptions, state: BannerState) {
  return async () => {
    const written = await writeBanners(options.plan, options.dir, state, options.window);
    return {
      summary: `banner ${state} (${written.length} file${written.length === 1 ? '' : 's'})`,
      files: written.map((w) => w.file),
    };
  };
}

/** Banner on while the maintenance runs; rolled back to off. */
export function bannerActiveStep(options: BannerStepOptions): Step {
  return {
    name: 'banner:active',
    defaultEstimateMs: 200,
    defaultRollbackMs: 200,
    run: write(options, 'active'),
    rollback: write(options, 'off'),
  };
}

/** Banner off when the maintenance is done; undoing it is turning it off again. */
export function bannerOffStep(options: BannerStepOptions): Step {
  return {
    name: 'banner:off',
    defaultEstimateMs: 200,
    defaultRollbackMs: 200,
    run: write(options, 'off'),
    rollback: write(options, 'off'),
  };
}
