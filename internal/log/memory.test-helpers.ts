/** A real logger writing JSON lines into memory, for tests. */
import { PassThrough } from 'node:stream';
import { createLogger, type Logger } from './logger.js';

export function memoryLogger(): { logger: Logger; lines: () => Promise<Record<string, unknown>[]> } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk: Buffer) => {
    text += chunk.toString('utf8');
  });
  return {
    logger: createLogger({ stream, level: 'debug' }),
    async lines() {
      for (let i = 0; i < 5; i += 1) await new Promise((resolve) => setImmediate(resolve));
      return text
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    },
  };
}
