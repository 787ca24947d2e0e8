/** A stack record for the feedback tests: synced, empty, with `fields` over it. */
import type { StackRecord } from './types.js';

export function stackRecord(fields: Partial<StackRecord>): StackRecord {
  return {
    project: 'p',
    status: 'synced',
    message: '',
    synced: null,
    lastResult: null,
    services: [],
    history: [],
    ...fields,
  };
}
