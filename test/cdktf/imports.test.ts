import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const SOURCE = /\.(ts|js|mjs|cjs)$/;

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (['node_modules', 'cdktf.out', 'cdk.out', '__snapshots__'].includes(name)) return [];
    return statSync(p).isDirectory() ? files(p) : SOURCE.test(name) ? [p] : [];
  });
}

/** Module specifiers of import/export-from/require/dynamic import statements. */
function specifiers(text: string): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(/(?:\bfrom\s*|\brequire\s*\(\s*|\bimport\s*\(\s*|^\s*import\s+)['"]([^'"]+)['"]/gm))
    found.push(m[1]);
  return found;
}

const ROOT_IMPORT = /^@cdktf\/provider-aws\/?$/;
const DEEP_IMPORT = /^@cdktf\/provider-aws\/lib\/[a-z0-9-]+$/;
const scanned = ['lib', 'bin', 'examples', 'test', 'bench'].flatMap((d) => files(join(ROOT, d)));
const rel = (f: string) => relative(ROOT, f);

describe('provider imports', () => {
  test('the scan sees the files it must (including this one and the provider file)', () => {
    expect(scanned.map(rel)).toEqual(
      expect.arrayContaining(['lib/cdktf/provider.ts', 'test/cdktf/imports.test.ts', 'examples/cdktf/stack.ts']),
    );
  });

  test('the specifier scan finds every import form (so that it can fail)', () => {
    const pkg = ['@cdktf', 'provider-aws'].join('/'); // built, so that this file itself passes the scan
    const sample = `import { A } from '${pkg}';\nconst b = require("${pkg}");\nexport * from '${pkg}/lib/kms-key';\nawait import('${pkg}/');`;
    expect(specifiers(sample).filter((s) => ROOT_IMPORT.test(s))).toHaveLength(3);
  });

  test('no root import of @cdktf/provider-aws anywhere in lib, bin, examples, test or bench', () => {
    const offenders = scanned
      .filter((f) => specifiers(readFileSync(f, 'utf8')).some((s) => ROOT_IMPORT.test(s)))
      .map(rel);
    expect(offenders).toEqual([]);
  });

  test('in lib, only lib/cdktf/provider.ts imports cdktf or the provider (the CDK Terrain switch is one file), the provider only by deep path', () => {
    const importers = scanned
      .filter(
        (f) =>
          rel(f).startsWith('lib/') &&
          specifiers(readFileSync(f, 'utf8')).some(
            (s) => s === 'cdktf' || s.startsWith('cdktf/') || s.startsWith('@cdktf/'),
          ),
      )
      .map(rel);
    expect(importers).toEqual(['lib/cdktf/provider.ts']);
    const deep = specifiers(readFileSync(join(ROOT, 'lib/cdktf/provider.ts'), 'utf8'));
    expect(deep.length).toBeGreaterThan(10);
    expect(deep.filter((s) => s !== 'cdktf' && !DEEP_IMPORT.test(s))).toEqual([]);
  });

  test('in lib, only the generated lib/cdktn/provider.ts imports cdktn or @cdktn/provider-aws, by deep path; it is lib/cdktf/provider.ts renamed', () => {
    const isTerrain = (s: string) => s === 'cdktn' || s.startsWith('cdktn/') || s.startsWith('@cdktn/');
    const importers = scanned
      .filter((f) => rel(f).startsWith('lib/') && specifiers(readFileSync(f, 'utf8')).some(isTerrain))
      .map(rel);
    expect(importers).toEqual(['lib/cdktn/provider.ts']);
    const tf = specifiers(readFileSync(join(ROOT, 'lib/cdktf/provider.ts'), 'utf8'));
    const tn = specifiers(readFileSync(join(ROOT, 'lib/cdktn/provider.ts'), 'utf8'));
    expect(tn).toEqual(tf.map((s) => s.replace(/^cdktf$/, 'cdktn').replace(/^@cdktf\//, '@cdktn/')));
  });

  test('the adapters do not cross: lib/cdktf never loads aws-cdk-lib, lib/cdk never loads cdktf', () => {
    const bad = scanned.filter((f) => {
      const r = rel(f);
      const specs = specifiers(readFileSync(f, 'utf8'));
      return (
        (r.startsWith('lib/cdktf/') && specs.some((s) => s.startsWith('aws-cdk-lib'))) ||
        (r.startsWith('lib/cdk/') && specs.some((s) => s === 'cdktf' || s.startsWith('@cdktf/')))
      );
    });
    expect(bad.map(rel)).toEqual([]);
  });
});
