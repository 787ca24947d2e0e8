/**
 * The environment compose runs with: stackd's own, without its settings (tokens, secrets), which
 * never reach compose or the stacks it interpolates. The desired state interpolates compose files
 * with the same environment (internal/source/build_stack.ts), so its hashes see what compose sees.
 */
export function childEnvironment(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (value !== undefined && !key.startsWith('STACKD_')) out[key] = value;
  }
  return out;
}
