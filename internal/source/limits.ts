/** Bounds on what one stack may bring into the controller, so a hostile tree fails that stack only. */
import { checkLimits } from '../../pkg/validate/index.js';

export interface StackLimits {
  /**
   * Largest file of a stack directory, in bytes (compose files have their own 1 MiB bound).
   * @default 16777216 (16 MiB)
   */
  readonly maxFileSize: number;
  /**
   * Largest total of a stack directory's files, in bytes.
   * @default 134217728 (128 MiB)
   */
  readonly maxStackSize: number;
  /**
   * Most files in one stack directory (every file is hashed, and written out on apply).
   * @default 10000
   */
  readonly maxStackFiles: number;
}

export const DEFAULT_STACK_LIMITS: StackLimits = {
  maxFileSize: 16 * 1024 * 1024,
  maxStackSize: 128 * 1024 * 1024,
  maxStackFiles: 10_000,
};

/** Just the limits of an object holding them (`config.source`, which holds more). */
export function stackLimitsOf(from: StackLimits): StackLimits {
  return {
    maxFileSize: from.maxFileSize,
    maxStackSize: from.maxStackSize,
    maxStackFiles: from.maxStackFiles,
  };
}

/** Fill in defaults and validate loudly (integers from 1 and up). */
export function resolveStackLimits(partial: Partial<StackLimits> | undefined): StackLimits {
  return checkLimits({ ...DEFAULT_STACK_LIMITS, ...partial });
}

/** `16777216` → `16 MiB`, `1500` → `1500 bytes`: sizes in messages. */
export function formatSize(bytes: number): string {
  for (const [unit, size] of [
    ['GiB', 1024 ** 3],
    ['MiB', 1024 ** 2],
    ['KiB', 1024],
  ] as const) {
    if (bytes >= size && bytes % size === 0) return `${bytes / size} ${unit}`;
  }
  return `${bytes} bytes`;
}
