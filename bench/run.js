// @ts-check
/**
 * `make bench` entry point. The benchmarks are TypeScript (bench/**\/*.ts, type-checked and
 * linted with the rest); this launcher transpiles them, and the test helpers they reuse, into
 * dist/bench/ and dist/test/helpers/ (beside the built CLI, so `../internal/…` imports resolve
 * to dist/internal/), then runs them. Needs `make build` first, and the dev dependencies.
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import process from 'node:process';
import { URL, fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';

const root = fileURLToPath(new URL('..', import.meta.url));
const SOURCES = ['bench', 'test/helpers'];

/** @param {string} dir @returns {Promise<string[]>} */
async function tsFiles(dir) {
  const entries = await readdir(dir, { withFileTypes: true });
  /** @type {string[]} */
  const files = [];
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'results' && entry.name !== 'node_modules') files.push(...(await tsFiles(path)));
    } else if (
      entry.name.endsWith('.ts') &&
      !entry.name.endsWith('.test.ts') &&
      !entry.name.endsWith('.d.ts')
    ) {
      files.push(path);
    }
  }
  return files;
}

async function transpile() {
  for (const source of SOURCES) {
    for (const file of await tsFiles(join(root, source))) {
      const rel = relative(root, file);
      const out = join(root, 'dist', rel.replace(/\.ts$/, '.js'));
      const { outputText } = ts.transpileModule(await readFile(file, 'utf8'), {
        fileName: rel,
        compilerOptions: {
          target: ts.ScriptTarget.ES2022,
          module: ts.ModuleKind.ES2022,
          verbatimModuleSyntax: true,
          inlineSourceMap: true,
          inlineSources: true,
        },
      });
      await mkdir(dirname(out), { recursive: true });
      await writeFile(out, outputText);
    }
  }
}

await transpile();
/** @type {unknown} */
const loaded = await import(pathToFileURL(join(root, 'dist/bench/main.js')).href);
const bench = /** @type {{ main: () => Promise<number> }} */ (loaded);
try {
  process.exitCode = await bench.main();
} catch (error) {
  process.stderr.write(
    `bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exitCode = 1;
}
