import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Aspects, TerraformStack, TerraformVariable, Testing } from 'cdktf';
import {
  CeleryEncryptionGuard,
  CeleryEncryptionGuardError,
  CeleryTransport,
  TransitEncryptionMode,
} from '../../lib/cdktf';
import { SecretsmanagerSecret, SecurityGroup, VpcSecurityGroupIngressRule } from '../../lib/cdktf/provider';
import { SecurityGroupRule } from '@cdktf/provider-aws/lib/security-group-rule';
import { VPC_ID, subnets, synthJson, tfStack, warningsOf } from './helpers';
import { thrownAs } from '../thrown';

function transport(guard: CeleryEncryptionGuard | undefined, stack: TerraformStack = tfStack().stack) {
  const t = new CeleryTransport(stack, 'Celery', { vpcId: VPC_ID, subnets: subnets() });
  if (guard) Aspects.of(stack).add(guard);
  return { stack, t, cache: t.resultBackendCache!.resource, broker: t.rabbitMqBroker!.resource };
}

const guardError = (fn: () => unknown) => thrownAs(CeleryEncryptionGuardError, fn);

describe('CeleryEncryptionGuard (cdktf)', () => {
  test('GIVEN an escape hatch that turns transit encryption off WHEN synthesized with the guard THEN synth fails with path, property and fix', () => {
    const { stack, cache } = transport(new CeleryEncryptionGuard());
    cache.addOverride('transit_encryption_enabled', false);
    const e = guardError(() => Testing.synth(stack));
    expect(e.message).toContain('Test/Celery/ResultBackend/Resource: transit_encryption_enabled is false');
    expect(e.message).toContain('Fix: set transit_encryption_enabled to true');
    expect(e.violations.map((v) => v.rule)).toEqual(['guard.transit-encryption']);
  });

  test('GIVEN the same stack without the guard THEN it synthesizes, with transit encryption off (the guard is what catches it)', () => {
    const { stack, cache } = transport(undefined);
    cache.addOverride('transit_encryption_enabled', false);
    const { json } = synthJson(stack);
    expect(Object.values(json.resource!.aws_elasticache_replication_group)[0].transit_encryption_enabled).toBe(false);
  });

  test('GIVEN app.synth() (what `cdktf synth` runs) THEN the guard fails it too', () => {
    const app = new App({ outdir: mkdtempSync(join(tmpdir(), 'celery-tls-guard-')) });
    const { cache } = transport(new CeleryEncryptionGuard(), new TerraformStack(app, 'Test'));
    cache.addOverride('at_rest_encryption_enabled', 'false');
    expect(guardError(() => app.synth()).message).toContain('at_rest_encryption_enabled is "false"');
  });

  test('GIVEN the defaults THEN the guard finds nothing', () => {
    const { stack } = transport(new CeleryEncryptionGuard());
    expect(CeleryEncryptionGuard.check(stack)).toEqual({ violations: [], warnings: [] });
    expect(() => Testing.synth(stack)).not.toThrow();
  });

  test('GIVEN several escape hatches and hand-written resources THEN every violation is reported at once', () => {
    const { stack, cache, broker, t } = transport(new CeleryEncryptionGuard());
    cache.addOverride('transit_encryption_mode', 'preferred');
    cache.addOverride('kms_key_id', 'alias/aws/elasticache');
    broker.addOverride('publicly_accessible', true);
    new VpcSecurityGroupIngressRule(stack, 'Open', {
      securityGroupId: t.rabbitMqBroker!.securityGroup.securityGroupId,
      ipProtocol: '-1',
      cidrIpv4: '0.0.0.0/0',
    });
    new SecurityGroupRule(stack, 'Legacy', {
      type: 'ingress',
      securityGroupId: 'sg-0123',
      protocol: 'tcp',
      fromPort: 6380,
      toPort: 6380,
      cidrBlocks: ['10.0.0.0/8', '0.0.0.0/0'],
    });
    new SecurityGroup(stack, 'Inline', {
      vpcId: VPC_ID,
      description: 'inline',
      ingress: [{ protocol: 'tcp', fromPort: 0, toPort: 65535, ipv6CidrBlocks: ['::/0'] }],
    });
    new SecretsmanagerSecret(stack, 'NoKey', { name: 'plain' });
    const e = guardError(() => Testing.synth(stack));
    const lines = e.violations.map((v) => `${v.path} ${v.property} ${v.rule}`);
    expect(lines).toEqual(
      expect.arrayContaining([
        'Test/Celery/ResultBackend/Resource transit_encryption_mode guard.transit-encryption-mode',
        'Test/Celery/ResultBackend/Resource kms_key_id guard.cache-cmk',
        'Test/Celery/Broker/Resource publicly_accessible guard.public-broker',
        'Test/Open cidr_ipv4 guard.open-ingress',
        'Test/Open ip_protocol guard.all-protocols',
        'Test/Legacy cidr_blocks[1] guard.open-ingress',
        'Test/Inline ingress[0].ipv6_cidr_blocks[0] guard.open-ingress',
        'Test/NoKey kms_key_id guard.secret-cmk',
      ]),
    );
    expect(lines).toHaveLength(8);
  });

  test('GIVEN a value from a variable where a literal is needed THEN it is refused', () => {
    const { stack, cache } = transport(new CeleryEncryptionGuard());
    cache.addOverride('transit_encryption_enabled', new TerraformVariable(stack, 'tls', { type: 'bool' }).booleanValue);
    expect(guardError(() => Testing.synth(stack)).message).toContain(
      'transit_encryption_enabled is a deploy-time expression (${var.tls}), not a literal',
    );
  });

  test('GIVEN the migration flag THEN "preferred" synthesizes with a warning', () => {
    const { stack, cache } = transport(new CeleryEncryptionGuard({ allowTransitEncryptionPreferred: true }));
    cache.addOverride('transit_encryption_mode', TransitEncryptionMode.PREFERRED);
    expect(() => Testing.synth(stack)).not.toThrow();
    expect(warningsOf(stack).join('\n')).toMatch(
      /transit_encryption_mode is "preferred".*remove allowTransitEncryptionPreferred/,
    );
  });
});
