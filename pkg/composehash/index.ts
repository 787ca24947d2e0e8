/**
 * Safe compose loading and hashing, pure (no I/O): a stack's compose files are parsed with
 * bounded size and alias expansion, interpolated, merged, and reduced to a canonical form the
 * way compose reads them (include, extends, `!reset`/`!override`, profiles, `.env`), so that a
 * stack hash and one hash per service change exactly when the meaning of the stack or of a file
 * it depends on changes, and never when the YAML is merely reformatted or respelled.
 */
export { ComposeFileError } from './errors.js';
export { DEFAULT_LIMITS, type ParseLimits } from './limits.js';
export { canonicalJson, type Json, type JsonObject } from './json.js';
export { sha256Hex, prefixedSha256 } from './digest.js';
export { parseComposeDocuments } from './yaml.js';
export { parseDotEnv } from './dotenv.js';
export { mergeCompose } from './merge.js';
export type { ReadFile } from './load.js';
export { deriveProjectName, projectNameProblem } from './project.js';
export { serviceReferences, type ServiceReferences } from './references.js';
export type { ServiceParts, ServiceSummary, StackFile } from './service.js';
export { hashStack, type ComposeSource, type StackHashes, type StackInput } from './stack.js';
