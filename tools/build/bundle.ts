// npm run build (second step): the `ifsim` binary as a few bundled files in dist/bin/ (bin.js,
// explore-worker.js and the chunks they share), so that a command loads one file per part it
// needs instead of a module graph of ~150 files: `ifsim --help` loads no command, `ifsim ip` no
// scenario parser (yaml, zod), `ifsim run` no more than it runs.
//
// Usage: tsx tools/build/bundle.ts [OUTDIR]   (default dist/bin)

import { build } from "esbuild";

const outdir = process.argv[2] ?? "dist/bin";
await build({
  entryPoints: ["src/cli/bin.ts", "src/cli/explore-worker.ts"],
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  outdir,
  // Chunks sit next to the entries: import.meta.url finds ../../package.json and the explore
  // worker (./explore-worker.js) from any of them.
  chunkNames: "[name]-[hash]",
  // yaml is CommonJS and requires Node built-ins: give the ESM chunks a require().
  banner: {
    js: 'import { createRequire as __ifsimRequire } from "node:module"; const require = __ifsimRequire(import.meta.url);',
  },
  logLevel: "warning",
});
