import {
  AuthTokenUpdateStrategy,
  IssueCollector,
  LITERAL_CONTEXT,
  NAME_RULES,
  checkName,
  ecsSecretValueFrom,
  physicalNameFromPath,
  resolveTerraformRedisSpec,
} from '../../lib/core';

const generated = { enabled: true, generated: true };

describe('resolveTerraformRedisSpec', () => {
  test('defaults: ROTATE and version 1 for a generated token', () => {
    expect(resolveTerraformRedisSpec({}, generated, LITERAL_CONTEXT)).toEqual({
      value: { authTokenUpdateStrategy: 'ROTATE', authTokenVersion: 1 },
      errors: [],
      warnings: [],
    });
  });

  test('an existing secret: a strategy, no version; a plaintext cache: neither', () => {
    expect(resolveTerraformRedisSpec({}, { enabled: true, generated: false }, LITERAL_CONTEXT).value).toEqual({
      authTokenUpdateStrategy: 'ROTATE',
      authTokenVersion: undefined,
    });
    expect(resolveTerraformRedisSpec({}, { enabled: false, generated: true }, LITERAL_CONTEXT).value).toEqual({
      authTokenUpdateStrategy: undefined,
      authTokenVersion: undefined,
    });
  });

  test.each([
    [
      'DELETE',
      { authTokenUpdateStrategy: 'DELETE' as AuthTokenUpdateStrategy },
      generated,
      'authTokenUpdateStrategy',
      ['"DELETE"', 'RBAC', '"ROTATE"', '"SET"'],
    ],
    [
      'lowercase',
      { authTokenUpdateStrategy: 'set' as AuthTokenUpdateStrategy },
      generated,
      'authTokenUpdateStrategy',
      ['"set"', 'Allowed: "ROTATE"'],
    ],
    [
      'strategy without AUTH',
      { authTokenUpdateStrategy: AuthTokenUpdateStrategy.SET },
      { enabled: false, generated: true },
      'authTokenUpdateStrategy',
      ['"SET"', 'transitEncryptionEnabled false'],
    ],
    ['version 0', { authTokenVersion: 0 }, generated, 'authTokenVersion', ['0', '1 to 1000000']],
    ['version 2.5', { authTokenVersion: 2.5 }, generated, 'authTokenVersion', ['2.5', 'whole number']],
    [
      'version with an existing secret',
      { authTokenVersion: 3 },
      { enabled: true, generated: false },
      'authTokenVersion',
      ['3', 'RedisAuth.fromSecretArn()'],
    ],
  ] as const)('%s is refused, naming the prop, the value and what is allowed', (_n, props, auth, prop, mentions) => {
    const r = resolveTerraformRedisSpec(props, auth, LITERAL_CONTEXT);
    const issue = r.errors.find((e) => e.prop === prop);
    expect(issue).toBeDefined();
    for (const m of mentions) expect(issue!.message).toContain(m);
  });
});

describe('physicalNameFromPath', () => {
  test.each([
    [['celery-tls-example', 'Celery', 'ResultBackend'], NAME_RULES.replicationGroupId],
    [['Stack', 'A'.repeat(80), '--x--'], NAME_RULES.replicationGroupId],
    [['1st', '_', 'Cache'], NAME_RULES.replicationGroupId],
    [['celery-tls-example', 'Celery', 'Broker'], NAME_RULES.brokerName],
    [['Stack With Spaces', 'Broker'], NAME_RULES.brokerName],
  ])('%j is a valid name for its rule, stable and distinct', (path, rule) => {
    const name = physicalNameFromPath(path, rule);
    const issues = new IssueCollector(LITERAL_CONTEXT);
    checkName(issues, rule, 'name', name);
    expect(issues.errors).toEqual([]);
    expect(physicalNameFromPath(path, rule)).toBe(name);
    expect(physicalNameFromPath([...path, 'x'], rule)).not.toBe(name);
  });

  test('readable words plus a hash', () => {
    expect(
      physicalNameFromPath(['celery-tls-example', 'Celery', 'ResultBackend'], NAME_RULES.replicationGroupId),
    ).toMatch(/^celery-tls-example-celery-resul-[0-9a-f]{8}$/);
  });
});

test('ECS valueFrom names the JSON field of the current version', () => {
  expect(ecsSecretValueFrom('arn:aws:secretsmanager:eu-west-1:1:secret:x', 'password')).toBe(
    'arn:aws:secretsmanager:eu-west-1:1:secret:x:password::',
  );
});
