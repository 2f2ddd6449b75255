#!/usr/bin/env node
// cdktf budgets: the cost of require('celery-tls-constructs/cdktf') (built dist, fresh node process each run) and the
// median synth of the cdktf example next to a bare cdktf app with one provider resource, alternating, same runner:
//   node       the built example (dist/examples) and the built library;
//   tsx        the example's TypeScript through tsx, the library as installed (dist, through the package exports,
//              bench/tsconfig.installed.json): how a user's tsx app loads it;
//   tsxSources the same, the library compiled from lib/*.ts on the fly (this repository's `npm run synth:cdktf`).
// Budgets: require under 1 s; the example under 2 s on every runner, and within 1.5x of the bare app with tsx.
// The other ratios are printed: node starts faster, so the same milliseconds of library work weigh more there, and
// tsx maps every stack frame of the sources (cdktf captures a stack trace per token and nested block).
// usage: npm run build && node bench/cdktf.mjs [runs=7]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const runs = Number(process.argv[2] ?? 7);
const budgets = { requireMs: 1000, exampleSynthMs: 2000, exampleToBaseline: 1.5 };
for (const f of ['dist/lib/cdktf/index.js', 'dist/examples/cdktf/main.js', 'dist/bench/cdktf-baseline.js']) {
  if (!existsSync(join(root, f))) throw new Error(`${f} is missing: run npm run build first`);
}
const env = { ...process.env, CHECKPOINT_DISABLE: '1' };
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function requireMs() {
  const code =
    "const t = process.hrtime.bigint(); require('celery-tls-constructs/cdktf'); process.stdout.write(String(Number(process.hrtime.bigint() - t) / 1e6));";
  return Number(execFileSync(process.execPath, ['-e', code], { cwd: root, env }).toString());
}

const tsx = join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs');
const apps = {
  node: {
    library: [join(root, 'dist/examples/cdktf/main.js')],
    baseline: [join(root, 'dist/bench/cdktf-baseline.js')],
  },
  tsx: {
    library: [tsx, '--tsconfig', join(root, 'bench/tsconfig.installed.json'), join(root, 'examples/cdktf/main.ts')],
    baseline: [tsx, '--tsconfig', join(root, 'bench/tsconfig.installed.json'), join(root, 'bench/cdktf-baseline.ts')],
  },
  tsxSources: {
    library: [tsx, join(root, 'examples/cdktf/main.ts')],
    baseline: [tsx, join(root, 'bench/cdktf-baseline.ts')],
  },
};

function synth(args) {
  const out = mkdtempSync(join(tmpdir(), 'bench-cdktf-'));
  const start = process.hrtime.bigint();
  execFileSync(process.execPath, args, {
    cwd: root,
    env: { ...env, CDKTF_OUTDIR: out },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
  const stack = Object.values(manifest.stacks)[0];
  const tf = JSON.parse(readFileSync(join(out, stack.synthesizedStackPath), 'utf8'));
  return { ms, resources: Object.values(tf.resource ?? {}).reduce((n, r) => n + Object.keys(r).length, 0) };
}

requireMs(); // warm the file system cache
const requireTimes = Array.from({ length: runs }, requireMs);
const result = {
  runs,
  requireMs: { median: Math.round(median(requireTimes)), max: Math.round(Math.max(...requireTimes)) },
  synth: {},
};
for (const [runner, pair] of Object.entries(apps)) {
  synth(pair.library);
  synth(pair.baseline); // warm caches (tsx's transform cache, the file system)
  const times = { library: [], baseline: [] };
  const counts = {};
  for (let i = 0; i < runs; i++) {
    for (const name of i % 2 ? ['baseline', 'library'] : ['library', 'baseline']) {
      const r = synth(pair[name]);
      times[name].push(r.ms);
      counts[name] = r.resources;
    }
  }
  result.synth[runner] = {
    resources: counts,
    medianMs: { example: Math.round(median(times.library)), baseline: Math.round(median(times.baseline)) },
    ratio: Number((median(times.library) / median(times.baseline)).toFixed(2)),
  };
}
result.budgets = budgets;
result.withinBudget =
  result.requireMs.median < budgets.requireMs &&
  Object.values(result.synth).every((s) => s.medianMs.example < budgets.exampleSynthMs) &&
  result.synth.tsx.ratio <= budgets.exampleToBaseline;
console.log(JSON.stringify(result, null, 2));
process.exitCode = result.withinBudget ? 0 : 1;
