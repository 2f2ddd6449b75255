import { join } from 'node:path';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { CeleryBroker, CeleryResultBackend, CeleryRole, CeleryTransport, RedisAuth, RedisCache } from '../../lib/cdk';
import { stackWithVpc, templateOf } from './helpers';
import { thrown } from '../thrown';

/** RedisAuth.rbacUsers(): users, access strings, the default user, the group, secrets, rotation, IAM. */
function build(options = {}) {
  const { stack, vpc } = stackWithVpc();
  const cache = new RedisCache(stack, 'Cache', { vpc, authToken: RedisAuth.rbacUsers(options) });
  const { json } = templateOf(stack);
  const id = (c: any) => stack.getLogicalId((c.node?.defaultChild ?? c) as any);
  const of = (type: string) =>
    Object.entries<any>(json.Resources)
      .filter(([, r]) => r.Type === type)
      .map(([, r]) => r);
  return { stack, cache, json, id, of };
}

describe('RedisAuth.rbacUsers()', () => {
  const t = build();
  const R = t.json.Resources;

  test("a producer and a worker user with Celery's access string, passwords from their secrets; the default user is off", () => {
    const users = t.of('AWS::ElastiCache::User');
    expect(users).toHaveLength(3);
    const byName = Object.fromEntries(users.map((u) => [u.Properties.UserName, u.Properties]));
    expect(byName.default).toMatchObject({
      AccessString: 'off -@all',
      AuthenticationMode: { Type: 'no-password-required' },
      Engine: 'redis',
    });
    for (const role of [CeleryRole.PRODUCER, CeleryRole.WORKER]) {
      const u = t.cache.rbacUserFor(role)!;
      const p = byName[`celery-${role}`];
      expect(p.AccessString).toBe('on ~* &* +@all -@dangerous');
      expect(p.AuthenticationMode.Type).toBe('password');
      // A dynamic reference to the user's own secret, never a literal.
      expect(JSON.stringify(p.AuthenticationMode.Passwords)).toContain('{{resolve:secretsmanager:');
      expect(JSON.stringify(p.AuthenticationMode.Passwords)).toContain(t.id(u.secret));
      expect(p.UserId).toMatch(/^[a-z][a-z0-9-]{0,39}$/);
    }
  });

  test("the user group holds the default user and both users, and is the cache's only access (no AUTH token)", () => {
    const [group] = t.of('AWS::ElastiCache::UserGroup');
    expect(group.Properties.UserIds).toHaveLength(3);
    const rg = R[t.id(t.cache.resource)].Properties;
    expect(rg.UserGroupIds).toEqual([{ Ref: t.id(t.cache.userGroup) }]);
    expect(rg.AuthToken).toBeUndefined();
    expect(rg.TransitEncryptionEnabled).toBe(true);
    expect(t.cache.authTokenSecret).toBeUndefined();
  });

  test('secrets {username, user_id, password}: generated, CMK-encrypted, retained, rotated every 30 days', () => {
    const schedules = t.of('AWS::SecretsManager::RotationSchedule');
    expect(schedules).toHaveLength(2);
    for (const role of [CeleryRole.PRODUCER, CeleryRole.WORKER]) {
      const u = t.cache.rbacUserFor(role)!;
      const s = R[t.id(u.secret)];
      expect(s.DeletionPolicy).toBe('Retain');
      expect(s.Properties.KmsKeyId).toEqual({ 'Fn::GetAtt': [t.id(t.cache.encryptionKey), 'Arn'] });
      expect(JSON.parse(s.Properties.GenerateSecretString.SecretStringTemplate)).toEqual({
        username: u.username,
        user_id: u.userId,
      });
      expect(s.Properties.GenerateSecretString).toMatchObject({ PasswordLength: 64, ExcludePunctuation: true });
      const schedule = schedules.find((x) => x.Properties.SecretId.Ref === t.id(u.secret))!;
      expect(schedule.Properties.RotationRules).toEqual({ ScheduleExpression: 'rate(30 days)' });
      expect(schedule.Properties.RotationLambdaARN).toEqual({ 'Fn::GetAtt': [t.id(t.cache.rotationFunction), 'Arn'] });
    }
  });

  test('the rotation function: current runtime, 15 minutes, CMK logs; may modify exactly these users', () => {
    const fn = R[t.id(t.cache.rotationFunction)].Properties;
    expect(fn.Runtime).toBe('nodejs24.x');
    expect(fn.Handler).toBe('index.onRotate');
    expect(fn.Timeout).toBe(900);
    expect(R[fn.LoggingConfig.LogGroup.Ref].Properties).toMatchObject({
      RetentionInDays: 365,
      KmsKeyId: { 'Fn::GetAtt': [t.id(t.cache.encryptionKey), 'Arn'] },
    });
    const [policy] = t.of('AWS::IAM::ManagedPolicy');
    const statements = policy.Properties.PolicyDocument.Statement;
    const ec = statements.find((s: any) => [].concat(s.Action).some((a: string) => a.startsWith('elasticache:')));
    expect([...ec.Action].sort()).toEqual(['elasticache:DescribeUsers', 'elasticache:ModifyUser']);
    expect(ec.Resource).toEqual(t.cache.rbacUsers!.map((u) => ({ 'Fn::GetAtt': [t.id(u.resource), 'Arn'] })));
    for (const s of statements) {
      if (JSON.stringify(s.Resource).includes('"*"')) expect(s.Action).toBe('secretsmanager:GetRandomPassword');
    }
    expect(t.of('AWS::IAM::Policy')).toEqual([]);
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the built bundle, loaded as Lambda loads it
    const bundle = require(join(__dirname, '..', '..', 'assets', 'handlers', 'elasticache-users', 'index.js'));
    expect(typeof bundle.onRotate).toBe('function');
  });

  test("the Celery endpoint of a role logs in as that role's user with its password field", () => {
    const e = t.cache.celeryEndpoint({ role: CeleryRole.PRODUCER });
    expect(e).toMatchObject({ scheme: 'rediss', username: 'celery-producer', secretField: 'password' });
    expect(t.stack.resolve(e.secretArn)).toEqual({ Ref: t.id(t.cache.rbacUserFor(CeleryRole.PRODUCER)!.secret) });
  });

  test('sharedUser: one user for both roles', () => {
    const s = build({ sharedUser: true, rotationDays: 14 });
    expect(s.cache.rbacUsers).toHaveLength(1);
    expect(s.cache.rbacUserFor(CeleryRole.PRODUCER)).toBe(s.cache.rbacUserFor(CeleryRole.WORKER));
    expect(s.of('AWS::SecretsManager::RotationSchedule')[0].Properties.RotationRules.ScheduleExpression).toBe(
      'rate(14 days)',
    );
  });

  test('bad options are refused with the prop, the value and what is allowed', () => {
    const { stack, vpc } = stackWithVpc();
    const e = thrown(
      () =>
        new RedisCache(stack, 'Cache', {
          vpc,
          authToken: RedisAuth.rbacUsers({
            workerUsername: 'default',
            accessString: 'on ~* +@all >inline',
            passwordLength: 8,
            rotationDays: 365,
          }),
        }),
    );
    expect(e.message).toContain('authToken.workerUsername "default" is reserved');
    expect(e.message).toContain('authToken.accessString "on ~* +@all >inline" is not allowed');
    expect(e.message).toContain('authToken.passwordLength 8 is not allowed: use a whole number from 16 to 128');
    expect(e.message).toContain('authToken.rotationDays 365 is not allowed');
  });
});

describe('CeleryTransport with an RBAC result backend and broker', () => {
  test("each role gets its own user on each cache, injected by field; producers never get the worker's secret", () => {
    const { stack, vpc } = stackWithVpc();
    const t = new CeleryTransport(stack, 'Celery', {
      vpc,
      broker: CeleryBroker.redis({ authToken: RedisAuth.rbacUsers() }),
      resultBackend: CeleryResultBackend.redis({ authToken: RedisAuth.rbacUsers() }),
    });
    const web = new ecs.FargateTaskDefinition(stack, 'Web');
    t.bindToContainer(
      web.addContainer('app', { image: ecs.ContainerImage.fromRegistry('python:3.12-slim') }),
      CeleryRole.PRODUCER,
    );
    const { json } = templateOf(stack);
    const c = json.Resources[stack.getLogicalId(web.node.defaultChild as any)].Properties.ContainerDefinitions[0];
    const env = Object.fromEntries(c.Environment.map((e: any) => [e.Name, e.Value]));
    expect(env.CELERY_TLS_BROKER_USERNAME).toBe('celery-producer');
    expect(env.CELERY_TLS_RESULT_BACKEND_USERNAME).toBe('celery-producer');
    const secretIds = c.Secrets.map((s: any) => s.ValueFrom['Fn::Join'][1][0].Ref);
    expect(secretIds).toEqual([
      stack.getLogicalId(t.brokerCache!.rbacUserFor(CeleryRole.PRODUCER)!.secret.node.defaultChild as any),
      stack.getLogicalId(t.resultBackendCache!.rbacUserFor(CeleryRole.PRODUCER)!.secret.node.defaultChild as any),
    ]);
    expect(JSON.stringify(c)).not.toContain('WorkerCredentials');
  });
});
