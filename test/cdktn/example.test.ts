import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App as TfApp } from 'cdktf';
import { App as TnApp, Testing as TnTesting, TerraformStack as TnStack } from 'cdktn';
import { CeleryTlsExampleStack as TfExample } from '../../examples/cdktf/stack';
import { CeleryTlsExampleStack as TnExample } from '../../examples/cdktn/stack';
import * as tn from '../../lib/cdktn';
import { assertCeleryTransportEncrypted } from '../../lib/cdktn/testing';
import { thrown } from '../thrown';

/**
 * CDK Terrain: the adapter generated from lib/cdktf (scripts/gen-cdktn.mjs) runs on cdktn and @cdktn/provider-aws,
 * and the example synthesizes to the same Terraform JSON as on cdktf, but for the library versions and the AWS
 * provider's source address and pinned version.
 */
function synth(kind: 'cdktf' | 'cdktn'): Record<string, unknown> {
  const outdir = mkdtempSync(join(tmpdir(), `celery-tls-${kind}-`));
  const app = kind === 'cdktf' ? new TfApp({ outdir }) : new TnApp({ outdir });
  if (kind === 'cdktf') new TfExample(app as TfApp, 'celery-tls-example');
  else new TnExample(app as TnApp, 'celery-tls-example');
  app.synth();
  return JSON.parse(readFileSync(join(outdir, 'stacks', 'celery-tls-example', 'cdk.tf.json'), 'utf8'));
}

/** Every leaf path where two JSON documents differ. */
function diff(a: unknown, b: unknown, path = ''): string[] {
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    return keys.flatMap((k) => diff((a as any)[k], (b as any)[k], `${path}/${k}`));
  }
  return JSON.stringify(a) === JSON.stringify(b) ? [] : [path];
}

describe('CDK Terrain (cdktn)', () => {
  const cdktf = synth('cdktf');
  const cdktn = synth('cdktn');

  test('the example synthesizes on cdktn to the cdktf JSON, but for versions and the provider source', () => {
    const resources = Object.values((cdktn as { resource: Record<string, object> }).resource).reduce(
      (n, r) => n + Object.keys(r).length,
      0,
    );
    expect(resources).toBeGreaterThan(20);
    expect(diff(cdktf, cdktn)).toEqual([
      '////metadata/version',
      '/terraform/required_providers/aws/source',
      '/terraform/required_providers/aws/version',
    ]);
    expect((cdktn as any).terraform.required_providers.aws.source).toBe('hashicorp/aws');
  });

  test('the guard and the test helpers work on cdktn output', () => {
    expect(() => assertCeleryTransportEncrypted(JSON.stringify(cdktn))).not.toThrow();
    const app = TnTesting.app();
    const stack = new TnStack(app, 'Test');
    const cache = new tn.RedisCache(stack, 'Cache', {
      vpcId: 'vpc-1',
      subnets: [
        { subnetId: 'subnet-1', availabilityZone: 'eu-west-1a' },
        { subnetId: 'subnet-2', availabilityZone: 'eu-west-1b' },
      ],
    });
    cache.resource.addOverride('transit_encryption_mode', 'preferred');
    expect(() => assertCeleryTransportEncrypted(TnTesting.synth(stack))).toThrow(/transit_encryption_mode/);
  });

  test('bad input is refused with the same messages as on cdktf', () => {
    const app = TnTesting.app();
    const stack = new TnStack(app, 'Test');
    const e = thrown(
      () =>
        new tn.CeleryTransport(stack, 'Celery', {
          vpcId: 'vpc-1',
          subnets: [],
          broker: tn.CeleryBroker.rabbitMq({ engineVersion: '9.9' }),
        }),
    );
    expect(e.issues.map((i) => i.prop)).toEqual(['broker.engineVersion', 'subnets', 'subnets']);
  });
});
