/** The one error of compose parsing and hashing: names the file and, where known, the line. */
export class ComposeFileError extends Error {
  override readonly name = 'ComposeFileError';
  /** Path of the offending file relative to the stack directory. */
  readonly file: string;
  /** 1-based line, or null when the problem has no single place (e.g. a missing key). */
  readonly line: number | null;
  /** The problem without the file and line prefix. */
  readonly reason: string;

  constructor(file: string, line: number | null, reason: string, options?: { cause?: unknown }) {
    super(`${file}${line === null ? '' : `, line ${line}`}: ${reason}`, options);
    this.file = file;
    this.line = line;
    this.reason = reason;
  }
}
