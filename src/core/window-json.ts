/**
 * A window instance as JSON. Apart from the other result shapes (core/result.ts) because it needs
 * the zone math (luxon), which `migrate`, `gate` and `validate` never load.
 */
import { formatLocal, type WindowInstance } from '../window/window.js';
import type { WindowJson } from './result.js';

export function windowJson(w: WindowInstance, zone: string): WindowJson {
  return {
    start: w.start.toISOString(),
    end: w.end.toISOString(),
    startLocal: formatLocal(w.start, zone),
    endLocal: formatLocal(w.end, zone),
  };
}
