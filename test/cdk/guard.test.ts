import { App, Aspects, CfnParameter, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as amazonmq from 'aws-cdk-lib/aws-amazonmq';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { CeleryEncryptionGuard, CeleryTransport, TransitEncryptionMode } from '../../lib/cdk';
import { stackWithVpc } from './helpers';

/** The transport with the guard (or not), and the result backend's L1 for escape hatches. */
function transport(guard: CeleryEncryptionGuard | undefined) {
  const { app, stack, vpc } = stackWithVpc();
  const t = new CeleryTransport(stack, 'Celery', { vpc });
  if (guard) Aspects.of(stack).add(guard);
  return { app, stack, vpc, t, cache: t.resultBackendCache!.resource, broker: t.rabbitMqBroker!.resource };
}

function synthError(app: App): string {
  try {
    app.synth();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected synth to fail');
}

describe('CeleryEncryptionGuard (CDK)', () => {
  test('GIVEN an escape hatch that turns transit encryption off WHEN synthesized with the guard THEN synth fails with path, property and fix', () => {
    const { app, cache } = transport(new CeleryEncryptionGuard());
    cache.addPropertyOverride('TransitEncryptionEnabled', false);
    const message = synthError(app);
    expect(message).toContain('Validation failed');
    expect(message).toContain(
      'CeleryEncryptionGuard: Test/Celery/ResultBackend/Resource: TransitEncryptionEnabled is false',
    );
    expect(message).toContain('Fix: set TransitEncryptionEnabled to true');
  });

  test('GIVEN the same stack without the guard THEN it synthesizes, with transit encryption off (the guard is what catches it)', () => {
    const { app, stack, cache } = transport(undefined);
    cache.addPropertyOverride('TransitEncryptionEnabled', false);
    expect(() => app.synth()).not.toThrow();
    Template.fromStack(stack).hasResourceProperties('AWS::ElastiCache::ReplicationGroup', {
      TransitEncryptionEnabled: false,
    });
  });

  test('GIVEN the defaults THEN the guard finds nothing and Template.fromStack works', () => {
    const { stack } = transport(new CeleryEncryptionGuard());
    expect(CeleryEncryptionGuard.check(stack)).toEqual({ violations: [], warnings: [] });
    expect(() => Template.fromStack(stack)).not.toThrow();
  });

  test('GIVEN several escape hatches THEN every violation is reported at once', () => {
    const { app, cache, broker, t } = transport(new CeleryEncryptionGuard());
    cache.addOverride('Properties.TransitEncryptionMode', 'preferred');
    cache.addPropertyDeletionOverride('KmsKeyId');
    cache.addPropertyDeletionOverride('AuthToken');
    broker.addPropertyOverride('PubliclyAccessible', true);
    t.rabbitMqBroker!.securityGroup.addIngressRule(ec2.Peer.anyIpv6(), ec2.Port.tcp(5671), 'from anywhere');
    const message = synthError(app);
    for (const text of [
      'Test/Celery/ResultBackend/Resource: TransitEncryptionMode is "preferred"',
      'Test/Celery/ResultBackend/Resource: KmsKeyId is not set',
      'Test/Celery/ResultBackend/Resource: AuthToken is not set and UserGroupIds is empty',
      'Test/Celery/Broker/Resource: PubliclyAccessible is true',
      'Test/Celery/Broker/SecurityGroup/Resource: SecurityGroupIngress[0].CidrIpv6 is "::/0"',
    ])
      expect(message).toContain(text);
  });

  test('GIVEN the migration flag THEN "preferred" synthesizes with a warning that says how to finish', () => {
    const { app, stack, cache } = transport(new CeleryEncryptionGuard({ allowTransitEncryptionPreferred: true }));
    cache.addPropertyOverride('TransitEncryptionMode', TransitEncryptionMode.PREFERRED);
    expect(() => app.synth()).not.toThrow();
    Annotations.fromStack(stack).hasWarning(
      '/Test',
      Match.stringLikeRegexp(
        'TransitEncryptionMode is "preferred".*"required" and remove allowTransitEncryptionPreferred',
      ),
    );
  });

  test('GIVEN hand-written L1s in scope THEN they are checked too', () => {
    const { app, stack, vpc } = stackWithVpc();
    Aspects.of(stack).add(new CeleryEncryptionGuard());
    new elasticache.CfnReplicationGroup(stack, 'Legacy', {
      replicationGroupDescription: 'legacy',
      engine: 'redis',
      cacheNodeType: 'cache.t4g.small',
      numCacheClusters: 1,
    });
    new secretsmanager.Secret(stack, 'NoKey');
    const open = new ec2.SecurityGroup(stack, 'Debug', { vpc, description: 'debug' });
    open.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcpRange(6000, 7000), 'redis from anywhere');
    new amazonmq.CfnBroker(stack, 'Mq', {
      brokerName: 'x',
      engineType: 'RABBITMQ',
      engineVersion: '3.13',
      hostInstanceType: 'mq.m5.large',
      deploymentMode: 'SINGLE_INSTANCE',
      publiclyAccessible: new CfnParameter(stack, 'Public', { type: 'String' }).valueAsString as unknown as boolean,
      users: [],
    });
    const message = synthError(app);
    for (const text of [
      'Test/Legacy: TransitEncryptionEnabled is not set',
      'Test/Legacy: AtRestEncryptionEnabled is not set',
      'Test/Legacy: KmsKeyId is not set',
      'Test/Legacy: AuthToken is not set',
      'Test/NoKey/Resource: KmsKeyId is not set',
      'Test/Debug/Resource: SecurityGroupIngress[0].CidrIp is "0.0.0.0/0": it opens Celery ports 6379, 6380',
      'Test/Mq: PubliclyAccessible is a deploy-time expression ({"Ref":"Public"}), not a literal',
    ])
      expect(message).toContain(text);
  });

  test('GIVEN a public load balancer group on 443 THEN the guard leaves it alone', () => {
    const { app, stack, vpc } = transport(new CeleryEncryptionGuard());
    new ec2.SecurityGroup(stack, 'Alb', { vpc, description: 'public load balancer' }).addIngressRule(
      ec2.Peer.anyIpv4(),
      ec2.Port.tcp(443),
      'HTTPS',
    );
    expect(() => app.synth()).not.toThrow();
  });

  test('GIVEN the guard on the app THEN every stack is covered, each violation under its own path', () => {
    const app = new App();
    Aspects.of(app).add(new CeleryEncryptionGuard());
    const other = new Stack(app, 'Other');
    new secretsmanager.Secret(other, 'Plain');
    expect(synthError(app)).toContain('Other/Plain/Resource: KmsKeyId is not set');
  });

  test('GIVEN an aspect that weakens the cache after the guard was added THEN the guard still sees it (it checks after all aspects)', () => {
    const { app, stack, cache } = transport(new CeleryEncryptionGuard());
    Aspects.of(stack).add({
      visit: (node) => {
        if (node === cache) cache.addPropertyOverride('AtRestEncryptionEnabled', false);
      },
    });
    expect(synthError(app)).toContain('AtRestEncryptionEnabled is false');
  });
});
