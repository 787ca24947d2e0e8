/**
 * isomorphic-git's node HTTP client, bounded: an answer that is not a Git protocol answer (a
 * status other than 200, or a content type other than `application/x-git-…`) is only ever
 * shown to people as a short preview, so at most {@link MAX_PREVIEW_BYTES} of it are read and
 * the connection is closed. isomorphic-git would otherwise buffer the whole body, and a broken
 * proxy or server streaming an endless error page would grow stackd's memory until the fetch
 * timeout (gigabytes at loopback speed).
 */
import http from 'isomorphic-git/http/node';

export const MAX_PREVIEW_BYTES = 64 * 1024;

type Response = Awaited<ReturnType<typeof http.request>>;

function isGitAnswer(response: Response): boolean {
  const type = response.headers?.['content-type'] ?? '';
  return response.statusCode === 200 && type.toLowerCase().startsWith('application/x-git-');
}

/** The first `max` bytes of `body`; the rest is never read (the stream is destroyed). */
async function preview(body: AsyncIterableIterator<Uint8Array>, max: number): Promise<Uint8Array[]> {
  const chunks: Uint8Array[] = [];
  let left = max;
  try {
    while (left > 0) {
      const step: IteratorResult<Uint8Array, unknown> = await body.next();
      if (step.done === true) break;
      chunks.push(step.value.subarray(0, left));
      left -= Math.min(left, step.value.byteLength);
    }
  } finally {
    // isomorphic-git's stream iterator: return() destroys the response (not a for-await: its
    // return() hands back no result object).
    await body.return?.();
  }
  return chunks;
}

/** A response body that yields `chunks` again. */
export function replay(chunks: readonly Uint8Array[]): AsyncIterableIterator<Uint8Array> {
  const rest = chunks[Symbol.iterator]();
  return {
    next: () => Promise.resolve(rest.next()),
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

/** The node client with `signal` on every request and non-Git answers cut to a preview. */
export function boundedClient(signal: AbortSignal): typeof http {
  return {
    request: async (request) => {
      const response = await http.request({ ...request, signal });
      if (response.body === undefined || isGitAnswer(response)) return response;
      return { ...response, body: replay(await preview(response.body, MAX_PREVIEW_BYTES)) };
    },
  };
}
