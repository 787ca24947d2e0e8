/** Reading a webhook body, pure: JSON, or GitHub's form encoding (`payload=<JSON>`). */

export interface PushPayload {
  /** `refs/heads/<branch>` for a branch push. */
  readonly ref: string | undefined;
  /** The commit the ref now points at, when the payload says. */
  readonly after: string | undefined;
}

export class PayloadError extends Error {
  override readonly name = 'PayloadError';
}

export function parsePayload(raw: Buffer, contentType: string | undefined): PushPayload {
  const { ref, after } = readJsonObject(raw, contentType) as { ref?: unknown; after?: unknown };
  return {
    ref: typeof ref === 'string' ? ref : undefined,
    after: typeof after === 'string' ? after : undefined,
  };
}

/** The body as a JSON object (any content type but form encoding is read as JSON). */
export function readJsonObject(
  raw: Buffer,
  contentType: string | undefined,
): Readonly<Record<string, unknown>> {
  let text = raw.toString('utf8');
  if (contentType?.toLowerCase().startsWith('application/x-www-form-urlencoded') === true) {
    const payload = new URLSearchParams(text).get('payload');
    if (payload === null) throw new PayloadError('form-encoded body without a payload field');
    text = payload;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new PayloadError('malformed JSON body');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new PayloadError('the body is not a JSON object');
  }
  return value as Record<string, unknown>;
}
