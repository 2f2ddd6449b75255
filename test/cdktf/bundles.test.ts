/**
 * The handlers are the same bundles on both targets: the Terraform functions deploy a zip of the very file the CDK
 * functions deploy (assets/handlers/<bundle>/index.js), and every function's handler is an export of its bundle.
 */
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App as CdkApp } from 'aws-cdk-lib';
import { App, TerraformStack } from 'cdktf';
import { CeleryTlsExampleStack as CdkExampleStack } from '../../examples/cdk/stack';
import { CeleryTlsExampleStack } from '../../examples/cdktf/stack';
import { AwsProvider } from '../../lib/cdktf/provider';
import { CelerySecurityKeys } from '../../lib/cdktf/security-keys';
import { handlerAssetDir } from '../../lib/core/assets';
import { TfJson, ofType } from './security';

const CA_ARN = 'arn:aws:acm-pca:eu-west-1:111122223333:certificate-authority/11111111-2222-3333-4444-555555555555';
/** Loads a bundle as Lambda's Node.js runtime does (CommonJS). */
const load = createRequire(__filename);
const BUNDLES = ['rabbitmq-users', 'elasticache-users', 'client-certificates', 'tls-canary'] as const;
const bundleFile = (bundle: string) => readFileSync(join(handlerAssetDir(bundle), 'index.js'));

/** The files of a zip archive (Python's zipfile: Node has no zip reader). */
function unzip(archive: string): Record<string, Buffer> {
  const out = execFileSync(
    '/usr/bin/python3',
    [
      '-c',
      'import base64, json, sys, zipfile\nz = zipfile.ZipFile(sys.argv[1])\nprint(json.dumps({n: base64.b64encode(z.read(n)).decode() for n in z.namelist()}))',
      archive,
    ],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  return Object.fromEntries(
    Object.entries(JSON.parse(out) as Record<string, string>).map(([n, b]) => [n, Buffer.from(b, 'base64')]),
  );
}

describe('Terraform: each function deploys a zip of the bundle the CDK side deploys', () => {
  const outdir = mkdtempSync(join(tmpdir(), 'celery-tls-bundles-'));
  const app = new App({ outdir });
  new CeleryTlsExampleStack(app, 'celery-tls-example', { clientCaArn: CA_ARN });
  app.synth();
  const stackDir = join(outdir, 'stacks', 'celery-tls-example');
  const tf = JSON.parse(readFileSync(join(stackDir, 'cdk.tf.json'), 'utf8')) as TfJson;
  const functions = ofType(tf, 'aws_lambda_function');

  test('five functions, four bundles, one archive per bundle', () => {
    expect(functions).toHaveLength(5);
    const archives = [...new Set(functions.map(([, f]) => f.filename))].sort();
    expect(archives.map((a) => a.split('/')[1])).toEqual([
      'CeleryTlsHandlerClientCertificates',
      'CeleryTlsHandlerElasticacheUsers',
      'CeleryTlsHandlerRabbitmqUsers',
      'CeleryTlsHandlerTlsCanary',
    ]);
  });

  test.each(BUNDLES)('%s: the archive holds exactly the bundled index.js, byte for byte', (bundle) => {
    const id = `CeleryTlsHandler${bundle
      .split('-')
      .map((w) => w[0].toUpperCase() + w.slice(1))
      .join('')}`;
    const [, fn] = functions.find(([, f]) => f.filename.startsWith(`assets/${id}/`))!;
    // Terraform hashes the zip it deploys at plan time (Lambda's CodeSha256 is the same hash).
    expect(fn.source_code_hash).toBe(`\${filebase64sha256("${fn.filename}")}`);
    const files = unzip(join(stackDir, fn.filename));
    expect(Object.keys(files)).toEqual(['index.js']);
    expect(files['index.js'].equals(bundleFile(bundle))).toBe(true);
  });

  test('every handler is an export of its bundle', () => {
    for (const [, f] of functions) {
      const bundle = BUNDLES.find((b) =>
        f.filename.includes(
          b.replace(/-(\w)/g, (_: string, c: string) => c.toUpperCase()).replace(/^\w/, (c) => c.toUpperCase()),
        ),
      )!;
      const exported = load(join(handlerAssetDir(bundle), 'index.js'));
      expect(typeof exported[f.handler.replace(/^index\./, '')]).toBe('function');
    }
  });
});

test('the CDK side deploys the same files (its staged assets are byte-identical to the bundles)', () => {
  const outdir = mkdtempSync(join(tmpdir(), 'celery-tls-bundles-cdk-'));
  const app = new CdkApp({ outdir, context: { 'aws:cdk:bundling-stacks': [] } });
  new CdkExampleStack(app, 'CeleryTlsExample', {
    env: { account: '111122223333', region: 'eu-west-1' },
    clientCaArn: CA_ARN,
  });
  app.synth();
  // aws-cdk-lib's own handlers are staged too; the library's are among them.
  const staged = readdirSync(outdir)
    .filter((d) => d.startsWith('asset.') && existsSync(join(outdir, d, 'index.js')))
    .map((d) => readFileSync(join(outdir, d, 'index.js')));
  for (const bundle of BUNDLES) expect(staged.some((f) => f.equals(bundleFile(bundle)))).toBe(true);
});

test('the users bundle answers both CloudFormation (onEvent) and Terraform (onInvocation), and rotates (onRotate)', () => {
  const exported = load(join(handlerAssetDir('rabbitmq-users'), 'index.js'));
  expect([typeof exported.onEvent, typeof exported.onInvocation, typeof exported.onRotate]).toEqual([
    'function',
    'function',
    'function',
  ]);
});

test('the signing-keys function deploys a zip of its bundle, whose entry points answer the invocation and rotation', () => {
  const outdir = mkdtempSync(join(tmpdir(), 'celery-tls-bundles-keys-'));
  const app = new App({ outdir });
  const stack = new TerraformStack(app, 'keys');
  new AwsProvider(stack, 'aws', { region: 'eu-west-1' });
  new CelerySecurityKeys(stack, 'Keys', { signing: {}, resultEncryption: {} });
  app.synth();
  const stackDir = join(outdir, 'stacks', 'keys');
  const tf = JSON.parse(readFileSync(join(stackDir, 'cdk.tf.json'), 'utf8')) as TfJson;
  const [[, fn]] = ofType(tf, 'aws_lambda_function');
  expect(fn.filename).toMatch(/^assets\/CeleryTlsHandlerSigningKeys\//);
  expect(unzip(join(stackDir, fn.filename))['index.js'].equals(bundleFile('signing-keys'))).toBe(true);
  const exported = load(join(handlerAssetDir('signing-keys'), 'index.js'));
  expect([
    typeof exported[fn.handler.replace(/^index\./, '')],
    typeof exported.onEvent,
    typeof exported.onRotate,
  ]).toEqual(['function', 'function', 'function']);
});
