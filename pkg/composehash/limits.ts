/** Bounds on what the parser accepts, so that a hostile repository cannot exhaust the controller. */
import { checkLimits } from '../validate/index.js';
export interface ParseLimits {
  /**
   * Largest compose file accepted, in bytes.
   * @default 1048576 (1 MiB)
   */
  readonly maxFileBytes: number;
  /**
   * Largest document accepted after alias expansion, estimated as 32 bytes per node plus the
   * length of every string (keys included). Stops alias bombs ("billion laughs").
   * @default 16777216 (16 MiB)
   */
  readonly maxExpandedBytes: number;
  /**
   * Deepest nesting accepted after alias expansion.
   * @default 256
   */
  readonly maxDepth: number;
}

export const DEFAULT_LIMITS: ParseLimits = {
  maxFileBytes: 1024 * 1024,
  maxExpandedBytes: 16 * 1024 * 1024,
  maxDepth: 256,
};

export function resolveLimits(partial: Partial<ParseLimits> | undefined): ParseLimits {
  return checkLimits({ ...DEFAULT_LIMITS, ...partial });
}
