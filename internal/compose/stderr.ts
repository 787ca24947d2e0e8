/** Turning compose's stderr into a short tail and a one-line reason. */

// eslint-disable-next-line no-control-regex -- ANSI escape sequences start with ESC
const ANSI = /\u001b\[[0-9;?]*[A-Za-z]/g;
const TAIL_LINES = 20;
const TAIL_BYTES = 4096;
const REASON_CHARS = 300;

function cleanLines(stderr: string): string[] {
  return stderr
    .replace(ANSI, '')
    .split(/\r?\n|\r/)
    .map((line) => line.trimEnd())
    .filter((line) => line.trim() !== '');
}

/** The last 20 non-empty lines of `stderr`, at most 4 KB (cut at the front). */
export function stderrTail(stderr: string): string {
  const tail = cleanLines(stderr).slice(-TAIL_LINES).join('\n');
  return tail.length > TAIL_BYTES ? tail.slice(tail.length - TAIL_BYTES) : tail;
}

/** v1's closing summary, which names no cause. */
const GENERIC = /^(ERROR:\s*)?Encountered errors while bringing up the project\.?$/;

/**
 * The line that says why compose failed: the last non-empty line, or the last error line
 * (`Error ...`, `ERROR: ...`) when the output ends in progress noise or v1's generic summary.
 */
export function failureReason(stderr: string): string {
  const lines = cleanLines(stderr)
    .map((line) => line.trim())
    .filter((line) => !GENERIC.test(line));
  const last = lines.at(-1) ?? '';
  const errorLine = lines.findLast((line) => /^error\b/i.test(line));
  const reason = withholdContent(
    (isProgress(last) && errorLine !== undefined ? errorLine : last).replace(/^(ERROR|Error):\s*/, ''),
  );
  return reason.length > REASON_CHARS ? `${reason.slice(0, REASON_CHARS - 1)}…` : reason;
}

/**
 * Messages in which compose quotes a file's content — a parse error in an env file
 * (`line 1: unexpected character "\"" in variable name "PASS\"WORD=hunter2"`), an unterminated
 * value, a bad template — whose file may be any file on the host (`env_file: /etc/shadow`).
 */
const QUOTES_CONTENT = /(?:^|:\s)line \d+:|unterminated quoted value|invalid template/i;

/**
 * The reason with every quoted fragment of file content replaced by `"…"` (an unterminated one
 * to the end of the line), so that a status message never carries a file's bytes.
 */
export function withholdContent(reason: string): string {
  if (!QUOTES_CONTENT.test(reason)) return reason;
  const masked = reason.replace(/"(?:[^"\\]|\\.)*("|$)/g, '"…"');
  return `${masked} (the file's content is not shown)`;
}

/** Compose v2 plain progress lines: `Container x  Started`, `Network x  Creating`. */
function isProgress(line: string): boolean {
  return /^(Container|Network|Volume|Image)\s+\S+\s+\S/.test(line);
}
