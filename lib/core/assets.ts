import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * Directory of a bundled Lambda handler (`assets/handlers/<name>`), found from this file whether it runs from source
 * (lib/cdk) or from the build (dist/lib/cdk). The bundles are made by `npm ci` and `npm run build`
 * (scripts/bundle-handlers.mjs); constructs never write files at synth.
 */
export function handlerAssetDir(name: string): string {
  let dir = __dirname;
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'assets', 'handlers', name);
    if (existsSync(join(candidate, 'index.js'))) return candidate;
    if (existsSync(join(dir, 'package.json'))) break;
    dir = dirname(dir);
  }
  throw new Error(
    `celery-tls-constructs: the bundled handler "${name}" is missing (assets/handlers/${name}/index.js). In a checkout of the library run "npm run build"; an installed package ships it.`,
  );
}

/**
 * The zip of a bundled handler (`assets/handlers/<name>.zip`: its `index.js` alone, deterministic), made beside the
 * directory by the same scripts; the Terraform side deploys it.
 */
export function handlerArchivePath(name: string): string {
  const zip = `${handlerAssetDir(name)}.zip`;
  if (!existsSync(zip))
    throw new Error(
      `celery-tls-constructs: the zipped handler "${name}" is missing (assets/handlers/${name}.zip). In a checkout of the library run "npm run build"; an installed package ships it.`,
    );
  return zip;
}
