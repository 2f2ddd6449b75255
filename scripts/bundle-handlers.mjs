// Bundles each Lambda handler under lib/handlers/<name>/index.ts into assets/handlers/<name>/index.js: one CommonJS
// file with no dependencies beyond the Node.js Lambda runtime (the AWS SDK v3 ships in it, so it stays external).
// Beside it, assets/handlers/<name>.zip holds that same file for the Terraform side (cdktf would otherwise zip the
// directory at every synth, in a child process: about 120 ms per bundle). The zip is deterministic (fixed time,
// fixed mode), so its hash changes only with the code.
// Runs on `npm ci` (prepare), before `npm test`, and in `npm run build`; constructs never write files at synth.
import { build } from 'esbuild';
import { readdirSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32, deflateRawSync } from 'node:zlib';

/**
 * A zip archive of one file, deflated, with the standard library only (APPNOTE.TXT 6.3: local header, data, central
 * directory, end record). DOS time 1980-01-01 00:00, Unix mode 0644.
 */
function zipOne(name, data) {
  const body = deflateRawSync(data, { level: 9 });
  const fileName = Buffer.from(name, 'utf8');
  const crc = crc32(data);
  const dosTime = 0;
  const dosDate = (0 << 9) | (1 << 5) | 1;
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(20, 4); // version needed: 2.0 (deflate)
  local.writeUInt16LE(0, 6); // flags
  local.writeUInt16LE(8, 8); // method: deflate
  local.writeUInt16LE(dosTime, 10);
  local.writeUInt16LE(dosDate, 12);
  local.writeUInt32LE(crc, 14);
  local.writeUInt32LE(body.length, 18);
  local.writeUInt32LE(data.length, 22);
  local.writeUInt16LE(fileName.length, 26);
  local.writeUInt16LE(0, 28); // extra length
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE((3 << 8) | 20, 4); // made by: Unix, 2.0
  central.writeUInt16LE(20, 6);
  central.writeUInt16LE(0, 8);
  central.writeUInt16LE(8, 10);
  central.writeUInt16LE(dosTime, 12);
  central.writeUInt16LE(dosDate, 14);
  central.writeUInt32LE(crc, 16);
  central.writeUInt32LE(body.length, 20);
  central.writeUInt32LE(data.length, 24);
  central.writeUInt16LE(fileName.length, 28);
  central.writeUInt32LE(0, 30); // extra and comment length
  central.writeUInt32LE(0, 34); // disk number, internal attributes
  central.writeUInt32LE((0o100644 << 16) >>> 0, 38); // external attributes: a regular file, rw-r--r--
  central.writeUInt32LE(0, 42); // offset of the local header
  const centralOffset = local.length + fileName.length + body.length;
  const centralSize = central.length + fileName.length;
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8); // entries on this disk
  end.writeUInt16LE(1, 10); // entries
  end.writeUInt32LE(centralSize, 12);
  end.writeUInt32LE(centralOffset, 16);
  return Buffer.concat([local, fileName, body, central, fileName, end]);
}

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
  const bundle = join(root, 'assets', 'handlers', name, 'index.js');
  writeFileSync(join(root, 'assets', 'handlers', `${name}.zip`), zipOne('index.js', readFileSync(bundle)));
}
