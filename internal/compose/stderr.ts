/**
 * Turning compose's stderr into a bounded tail (for the journal) and a one-line reason (for the
 * status message): the line that says what compose rejected, never its boilerplate.
 *
 * The shapes below are those of compose v2 2.26 and v1 1.29 (stderr not a terminal):
 * - v2: `validating /s/compose.yaml: services.web Additional property imagee is not allowed`,
 *   `yaml: line 1: did not find expected key`, `service "web" refers to undefined network front:
 *   invalid compose project`, `invalid interpolation format for services.web.image.` followed by
 *   `You may need to escape any $ with another $.` and the value, `Error response from daemon: …`
 *   after ` Container p-web-1  Creating` progress lines.
 * - v1: `The Compose file './compose.yaml' is invalid because:` then the detail, sometimes then
 *   `You might be seeing this error because you're using the wrong Compose file version…` and
 *   `For more on the Compose file format versions, see https://…`; `yaml.parser.ParserError:
 *   while parsing a block mapping` with indented `in "./compose.yaml", line 2, column 3` lines;
 *   `ERROR: for web  Cannot start service web: …` then `Encountered errors while bringing up the
 *   project.`; `Creating p_web_1 ... error` progress.
 */

// eslint-disable-next-line no-control-regex -- ANSI escape sequences start with ESC
const ANSI = /\u001b\[[0-9;?]*[A-Za-z]/g;
/** The journal's tail: at most this many lines… */
export const TAIL_LINES = 20;
/** …and at most this many bytes (UTF-8), cut at the front. */
export const TAIL_BYTES = 2048;
const REASON_CHARS = 300;

function cleanLines(stderr: string): string[] {
  return stderr
    .replace(ANSI, '')
    .split(/\r?\n|\r/)
    .map((line) => line.trimEnd())
    .filter((line) => line.trim() !== '');
}

/**
 * The last 20 non-empty lines of `stderr`, at most 2 KiB (whole lines dropped at the front; a
 * single longer line keeps its end), ANSI codes removed and quoted file content withheld (see
 * `withholdContent`).
 */
export function stderrTail(stderr: string): string {
  const lines = cleanLines(stderr)
    .slice(-TAIL_LINES)
    .map((line) => withholdContent(line));
  while (lines.length > 1 && Buffer.byteLength(lines.join('\n')) > TAIL_BYTES) lines.shift();
  const tail = lines.join('\n');
  if (Buffer.byteLength(tail) <= TAIL_BYTES) return tail;
  // One line over the bound: its last TAIL_BYTES bytes, never half a character.
  const bytes = Buffer.from(tail);
  return bytes
    .subarray(bytes.length - TAIL_BYTES)
    .toString('utf8')
    .replace(/^\uFFFD+/, '');
}

/** Lines that never say what went wrong: pointers to docs and help, closing summaries. */
const BOILERPLATE: readonly RegExp[] = [
  /^For more on the Compose file format versions, see\b/i,
  /^You might be seeing this error because you're using the wrong Compose file version\b/i,
  /^Run '[^']*--help' for more information/i,
  /^See '[^']*--help'\.?$/i,
  /^(ERROR:\s*)?Encountered errors while bringing up the project\.?$/i,
  /^You may need to escape any \$ with another \$\.?$/i,
  /^Usage:/,
];

/** Warnings printed before the error (an unset variable, an obsolete `version`). */
const WARNING: readonly RegExp[] = [
  /^(WARN(ING)?\b|WARN\[\d+\])/,
  /\blevel=warn(ing)?\b/,
  /variable is not set\. Defaulting to a blank string\.?$/,
];

/** Lines that say what compose rejected, in either version's words. */
const ERROR_LINE: readonly RegExp[] = [
  /^ERROR:/,
  /^Error\b/i,
  /error:/i,
  /^validating /,
  /^yaml: /,
  /^service "[^"]*" /,
  /invalid interpolation format/i,
  /^Unsupported config option\b/,
  /does not match any of the regexes/,
  /contains (an )?(unsupported option|invalid type)/,
  /invalid compose project/,
  /no such file or directory/i,
  /^unknown (shorthand )?(flag|command)\b/,
  /is not a docker command/,
];

/** v1's header: the reason is the line after it. */
const INVALID_BECAUSE = /is invalid because:$/;

/** A v1 PyYAML exception (`yaml.parser.ParserError: …`): its next lines say where. */
const YAML_EXCEPTION = /^yaml\.\w+\.\w+Error: /;

/** Progress lines: v2 `Container x  Started`, v1 `Creating x ... error`, `Pulling web (…)...`. */
function isProgress(line: string): boolean {
  return (
    /^(Container|Network|Volume|Image)\s+\S+\s+\S/.test(line) ||
    /^(Creating|Starting|Recreating|Stopping|Removing|Pulling|Building|Attaching)\b.*(\.\.\.(\s*(done|error))?|with the default driver)$/.test(
      line,
    )
  );
}

const matchesAny = (line: string, patterns: readonly RegExp[]): boolean =>
  patterns.some((pattern) => pattern.test(line));

/**
 * The line that says why compose failed: the first error-looking line (`ERROR: …`, `Error
 * response from daemon: …`, `validating …`, `yaml: …`, `service "x" …`, the detail after v1's
 * `is invalid because:`), else the first line that is neither boilerplate, progress nor a
 * warning, else the last line. A v1 YAML exception keeps its location lines. Quoted file
 * content is withheld; at most 300 characters.
 */
export function failureReason(stderr: string): string {
  const lines = cleanLines(stderr).map((line) => line.trim());
  const index = pickLine(lines);
  if (index === -1) return '';
  let picked = lines[index] ?? '';
  if (YAML_EXCEPTION.test(picked)) {
    const more = lines.slice(index + 1, index + 4);
    const end = more.findIndex((line) => matchesAny(line, BOILERPLATE) || matchesAny(line, ERROR_LINE));
    picked = [picked, ...(end === -1 ? more : more.slice(0, end))].join(' ');
  }
  const reason = withholdContent(picked.replace(/^(ERROR|Error):\s*/, ''));
  return reason.length > REASON_CHARS ? `${reason.slice(0, REASON_CHARS - 1)}…` : reason;
}

/** Index in `lines` of the reason (see failureReason), -1 when there are no lines. */
function pickLine(lines: readonly string[]): number {
  const usable = (line: string): boolean =>
    !matchesAny(line, BOILERPLATE) && !INVALID_BECAUSE.test(line) && !isProgress(line);
  const error = lines.findIndex(
    (line, i) =>
      usable(line) && (matchesAny(line, ERROR_LINE) || (i > 0 && INVALID_BECAUSE.test(lines[i - 1] ?? ''))),
  );
  if (error !== -1) return error;
  const plain = lines.findIndex((line) => usable(line) && !matchesAny(line, WARNING));
  if (plain !== -1) return plain;
  const warning = lines.findIndex((line) => usable(line));
  return warning !== -1 ? warning : lines.length - 1;
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
  // Nothing quoted (`yaml: line 1: did not find expected key`): nothing withheld.
  return masked === reason ? reason : `${masked} (the file's content is not shown)`;
}

/**
 * Lines of a build's output that never say why it failed: v1's `Building web` header and
 * `Service 'web' failed to build : Build failed` summary, the docker CLI's `DEPRECATED: The
 * legacy builder…` notice (its indented lines too), BuildKit's `------` rules.
 */
const BUILD_NOISE: readonly RegExp[] = [
  /^Building \S+$/,
  /^(ERROR:\s*)?Service '[^']*' failed to build\b/,
  /^-{3,}$/,
];
const DEPRECATED = /^DEPRECATED:/;

function buildLines(output: string): string[] {
  const out: string[] = [];
  let notice = false;
  for (const line of cleanLines(output)) {
    if (DEPRECATED.test(line)) notice = true;
    else if (notice && /^\s/.test(line)) continue;
    else notice = false;
    if (notice || matchesAny(line.trim(), BUILD_NOISE)) continue;
    out.push(line);
  }
  return out;
}

/**
 * Why a build failed, from its stderr: BuildKit's `failed to solve: …`, the classic builder's
 * `The command '…' returned a non-zero code: 3`, compose's own error; as failureReason, with the
 * build's boilerplate left out. Falls back to `output` (stdout and stderr) when stderr says nothing.
 */
export function buildFailureReason(stderr: string, output = ''): string {
  const reason = failureReason(buildLines(stderr).join('\n'));
  return reason !== '' ? reason : failureReason(buildLines(output).join('\n'));
}

/**
 * Bookkeeping of a build that says nothing about its steps: BuildKit's `#0 building with…`,
 * `#3 DONE 0.0s`, `#4 CACHED`, `#5 transferring context: 2B done`; the classic builder's
 * `Sending build context…`, ` ---> 0b1c2d3e`, `Removing intermediate container…`.
 */
const BUILD_BOOKKEEPING: readonly RegExp[] = [
  /^#\d+ (DONE|CACHED)\b/,
  /^#\d+ (transferring|building with|naming to|writing image|exporting)\b/,
  /^Sending build context to Docker daemon\b/,
  /^--->/,
  /^Removing intermediate container\b/,
];

/**
 * The last `lines` lines of a build's output (stdout and stderr), boilerplate and bookkeeping
 * left out, and the line that is `reason` (already in the message), each at most 200 characters,
 * joined with ` | `: what the status message quotes.
 */
export function buildOutputTail(output: string, reason = '', lines = 8): string {
  return buildLines(output)
    .map((line) => line.trim())
    .filter((line) => !matchesAny(line, BUILD_BOOKKEEPING) && line !== reason)
    .slice(-lines)
    .map((line) => withholdContent(line.trim()))
    .map((line) => (line.length > 200 ? `${line.slice(0, 199)}…` : line))
    .join(' | ');
}
