#!/usr/bin/env node
// The CDK Terrain (cdktn) adapter and example, generated from the cdktf ones so that there is one source.
//
// lib/cdktf/provider.ts is the only file of the adapter that names cdktf or @cdktf/provider-aws (a test enforces it).
// This script copies lib/cdktf/*.ts to lib/cdktn/ and examples/cdktf/{main,stack}.ts to examples/cdktn/, with the
// package names swapped: cdktf -> cdktn, @cdktf/provider-aws/lib/<resource> -> @cdktn/provider-aws/lib/<resource>
// (CDK Terrain began as a pure rename: same paths, same classes), celery-tls-constructs/cdktf -> .../cdktn. The
// copies are not committed (.gitignore); build, test and prepare make them. `--check` fails if they are stale.
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const check = process.argv.includes('--check');

/** The renames, in order: each pattern is anchored on a quote so that only module specifiers change. */
const RENAMES = [
  [/(['"])@cdktf\/provider-aws\/lib\//g, '$1@cdktn/provider-aws/lib/'],
  [/(['"])cdktf\1/g, '$1cdktn$1'],
  [/(['"])celery-tls-constructs\/cdktf(\/testing)?\1/g, '$1celery-tls-constructs/cdktn$2$1'],
];

function translate(source, from) {
  let text = source;
  for (const [pattern, replacement] of RENAMES) text = text.replace(pattern, replacement);
  const header = `// Generated from ${from} by scripts/gen-cdktn.mjs (CDK Terrain): edit that file, not this one.\n`;
  // A shebang stays the first line.
  const shebang = text.startsWith('#!') ? text.slice(0, text.indexOf('\n') + 1) : '';
  return shebang + header + text.slice(shebang.length);
}

/** [source file, generated file] pairs. */
function pairs() {
  const out = [];
  for (const name of readdirSync(join(root, 'lib/cdktf'))
    .filter((n) => n.endsWith('.ts'))
    .sort()) {
    out.push([`lib/cdktf/${name}`, `lib/cdktn/${name}`]);
  }
  for (const name of ['main.ts', 'stack.ts']) out.push([`examples/cdktf/${name}`, `examples/cdktn/${name}`]);
  return out;
}

const stale = [];
for (const [from, to] of pairs()) {
  const want = translate(readFileSync(join(root, from), 'utf8'), from);
  const path = join(root, to);
  const have = existsSync(path) ? readFileSync(path, 'utf8') : undefined;
  if (have === want) continue;
  if (check) {
    stale.push(to);
    continue;
  }
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, want);
}
// A file removed from lib/cdktf goes from lib/cdktn too.
const wanted = new Set(pairs().map(([, to]) => to));
for (const dir of ['lib/cdktn']) {
  if (!existsSync(join(root, dir))) continue;
  for (const name of readdirSync(join(root, dir))) {
    const rel = `${dir}/${name}`;
    if (wanted.has(rel)) continue;
    if (check) stale.push(rel);
    else rmSync(join(root, rel));
  }
}
if (stale.length > 0) {
  console.error(`gen-cdktn: stale generated files (run node scripts/gen-cdktn.mjs): ${stale.join(', ')}`);
  process.exit(1);
}
