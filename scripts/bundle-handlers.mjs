// Bundles each Lambda handler under lib/handlers/<name>/index.ts into assets/handlers/<name>/index.js: one CommonJS
// file with no dependencies beyond the Node.js Lambda runtime (the AWS SDK v3 ships in it, so it stays external).
// Runs on `npm ci` (prepare), before `npm test`, and in `npm run build`; constructs never write files at synth.
import { build } from 'esbuild';
import { readdirSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const handlersDir = join(root, 'lib', 'handlers');
for (const name of readdirSync(handlersDir)) {
  const entry = join(handlersDir, name, 'index.ts');
  if (!existsSync(entry)) continue;
  await build({
    entryPoints: [entry],
    outfile: join(root, 'assets', 'handlers', name, 'index.js'),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    external: ['@aws-sdk/*'],
    legalComments: 'none',
    logLevel: 'warning',
  });
}
