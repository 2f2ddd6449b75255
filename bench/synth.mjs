#!/usr/bin/env node
// Synth benchmark: `cdk synth` of the example app against the hand-written baseline, alternating, same runner.
// usage: node bench/synth.mjs [runs=7]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const runs = Number(process.argv[2] ?? 7);
const cdk = join(root, 'node_modules', 'aws-cdk', 'bin', 'cdk');
const apps = { library: 'npx tsx bin/app.ts', baseline: 'npx tsx bench/baseline-app.ts' };
const env = { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true', CHECKPOINT_DISABLE: '1' };

function synth(app) {
  const out = mkdtempSync(join(tmpdir(), 'bench-synth-'));
  const start = process.hrtime.bigint();
  execFileSync(process.execPath, [cdk, 'synth', '--quiet', '--no-notices', '--app', app, '--output', out], {
    cwd: root,
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
  const stack = Object.values(manifest.artifacts).find((a) => a.type === 'aws:cloudformation:stack');
  const template = JSON.parse(readFileSync(join(out, stack.properties.templateFile), 'utf8'));
  return { ms, resources: Object.keys(template.Resources).length };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
synth(apps.library);
synth(apps.baseline); // warm tsx's cache and the file system
const times = { library: [], baseline: [] };
let counts = {};
for (let i = 0; i < runs; i++) {
  for (const name of i % 2 ? ['baseline', 'library'] : ['library', 'baseline']) {
    const r = synth(apps[name]);
    times[name].push(r.ms);
    counts[name] = r.resources;
  }
}
const lib = median(times.library);
const base = median(times.baseline);
console.log(
  JSON.stringify(
    {
      runs,
      resources: counts,
      medianMs: { library: Math.round(lib), baseline: Math.round(base) },
      ratio: Number((lib / base).toFixed(3)),
      budget: 1.2,
      withinBudget: lib / base <= 1.2,
    },
    null,
    2,
  ),
);
