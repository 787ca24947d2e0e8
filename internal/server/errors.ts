/** Errors the server throws to its caller. */

const REASONS: Readonly<Record<string, string>> = {
  EADDRINUSE: 'address already in use',
  EADDRNOTAVAIL: 'address not available on this host',
  EACCES: 'permission denied',
  ENOTFOUND: 'no such host',
};

/**
 * The server could not bind its address: `cannot listen on 127.0.0.1:8700: address already in
 * use`. An address in use is exit code 5 ("cannot start"), which the systemd unit does not
 * restart on; other causes keep the default (1).
 */
export class ListenError extends Error {
  override readonly name = 'ListenError';
  readonly host: string;
  readonly port: number;
  /** The system error code, e.g. `EADDRINUSE`, when there is one. */
  readonly code: string | undefined;
  /** The CLI's exit code: 5 when the address is in use, else undefined (the default). */
  readonly exitCode: number | undefined;

  constructor(host: string, port: number, cause: unknown) {
    const code = (cause as { code?: unknown } | null)?.code;
    const codeText = typeof code === 'string' ? code : undefined;
    const reason = (codeText !== undefined ? REASONS[codeText] : undefined) ?? errorMessage(cause);
    super(`cannot listen on ${hostPort(host, port)}: ${reason}`, { cause });
    this.host = host;
    this.port = port;
    this.code = codeText;
    this.exitCode = codeText === 'EADDRINUSE' ? 5 : undefined;
  }
}

export function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
