/** Bounds on what the parser accepts, so that a hostile repository cannot exhaust the controller. */
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
  const limits = { ...DEFAULT_LIMITS, ...partial };
  for (const [key, value] of Object.entries(limits)) {
    if (!Number.isInteger(value) || value < 1) {
      throw new TypeError(
        `Expected \`${key}\` to be an integer from 1 and up, got \`${value}\` (${typeof value})`,
      );
    }
  }
  return limits;
}
