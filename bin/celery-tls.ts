#!/usr/bin/env node
/**
 * celery-tls: renders Celery settings from a celery-tls-constructs manifest.
 *   celery-tls render --manifest FILE [--format python|django|env|json] [--select TEXT] [--output FILE]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { CELERY_CONFIG_FORMATS, CeleryConfig, CeleryConfigFormat, VERSION, ValidationError } from '../lib/index';

const USAGE = `celery-tls ${VERSION}: Celery settings for TLS-only brokers and result backends

Usage:
  celery-tls render --manifest FILE [--format FORMAT] [--select TEXT] [--output FILE]

Commands:
  render   Render Celery settings from a manifest. FILE is the SSM parameter value, the output of
           'aws ssm get-parameter', or a 'cdk deploy --outputs-file' file; '-' reads standard input.

Options:
  --format FORMAT   ${CELERY_CONFIG_FORMATS.join(' | ')} (default: python)
  --select TEXT     pick the manifest whose location contains TEXT when the file holds several
  --output FILE     write to FILE instead of standard output
  -h, --help        show this help
  -v, --version     show the version
`;

class UsageError extends Error {}

function render(args: string[]): void {
  const { values, positionals } = parseArgs({
    args,
    options: {
      manifest: { type: 'string' },
      format: { type: 'string', default: 'python' },
      select: { type: 'string' },
      output: { type: 'string' },
    },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
  if (!values.manifest) throw new UsageError('render needs --manifest FILE');
  const format = values.format as CeleryConfigFormat;
  if (!CELERY_CONFIG_FORMATS.includes(format)) {
    throw new UsageError(`--format ${JSON.stringify(values.format)} is not allowed: use ${CELERY_CONFIG_FORMATS.join(', ')}`);
  }
  const text = readFileSync(values.manifest === '-' ? 0 : values.manifest, 'utf8');
  const config = CeleryConfig.fromManifest(text, values.select);
  for (const w of config.warnings) process.stderr.write(`celery-tls: warning: ${w.message}\n`);
  const out = config.render(format, values.manifest === '-' ? 'standard input' : values.manifest);
  if (values.output) {
    writeFileSync(values.output, out, { mode: 0o644 });
    process.stderr.write(`celery-tls: wrote ${values.output} (${format})\n`);
  } else {
    process.stdout.write(out);
  }
}

export function main(argv: string[]): number {
  const [command, ...rest] = argv;
  try {
    if (command === undefined || command === '-h' || command === '--help' || command === 'help') {
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    }
    if (command === '-v' || command === '--version') {
      process.stdout.write(`${VERSION}\n`);
      return 0;
    }
    if (command === 'render') {
      render(rest);
      return 0;
    }
    throw new UsageError(`unknown command ${JSON.stringify(command)}`);
  } catch (e) {
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`celery-tls: ${(e as Error).message}\n\n${USAGE}`);
      return 2;
    }
    if (e instanceof ValidationError) {
      process.stderr.write(`celery-tls: the manifest is not acceptable:\n${e.issues.map((i) => `  - ${i.message}`).join('\n')}\n`);
      return 1;
    }
    process.stderr.write(`celery-tls: ${(e as Error).message}\n`);
    return 1;
  }
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
