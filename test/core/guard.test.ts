import {
  ASSET_HASH_MASK,
  CeleryEncryptionGuardError,
  encryptionFindings,
  encryptionMatchers,
  maskAssetHashText,
  GuardContext,
  GuardFact,
  GuardedScope,
  checkEncryptionGuard,
  celeryPorts,
  formatGuardViolations,
} from '../../lib/core';
import { describeByStack, GuardAspectRoots, guardFact, securityGroupKeys } from '../../lib/core/guard-describe';

/** The guard's rules on neutral descriptions: one good scope, then one change per case. */
const EXPR: GuardContext = { isExpression: (v) => typeof v === 'string' && v.startsWith('${') };
const f = (property: string, value: unknown): GuardFact => ({ property, value });

function good(): GuardedScope {
  return {
    caches: [
      {
        path: 'App/Cache/Resource',
        transitEncryptionEnabled: f('TransitEncryptionEnabled', true),
        transitEncryptionMode: f('TransitEncryptionMode', 'required'),
        atRestEncryptionEnabled: f('AtRestEncryptionEnabled', true),
        kmsKeyId: f('KmsKeyId', '${Key.Arn}'),
        authToken: f(
          'AuthToken',
          '{{resolve:secretsmanager:arn:aws:secretsmanager:eu-west-1:1:secret:t:SecretString:password::}}',
        ),
        userGroupIds: f('UserGroupIds', undefined),
        port: 6380,
        securityGroups: ['cacheSg'],
      },
    ],
    brokers: [
      { path: 'App/Broker/Resource', publiclyAccessible: f('PubliclyAccessible', false), securityGroups: ['brokerSg'] },
    ],
    ingressRules: [
      {
        path: 'App/Broker/SG/FromWorkers',
        group: 'brokerSg',
        protocol: f('IpProtocol', 'tcp'),
        fromPort: f('FromPort', 5671),
        toPort: f('ToPort', 5671),
        cidrs: [],
      },
      {
        path: 'App/Alb/SG',
        group: 'albSg',
        protocol: f('IpProtocol', 'tcp'),
        fromPort: f('FromPort', 443),
        toPort: f('ToPort', 443),
        cidrs: [f('CidrIp', '0.0.0.0/0'), f('CidrIpv6', '::/0')],
      },
    ],
    secrets: [{ path: 'App/Secret/Resource', kmsKeyId: f('KmsKeyId', '${Key.Arn}') }],
    databases: [
      {
        path: 'App/Db/Resource',
        resource: 'instance',
        engine: f('Engine', 'postgres'),
        engineVersion: f('EngineVersion', '17.7'),
        clusterMember: false,
        storageEncrypted: f('StorageEncrypted', true),
        kmsKeyId: f('KmsKeyId', '${Key.Arn}'),
        publiclyAccessible: f('PubliclyAccessible', false),
        publicWhenAbsent: true,
        parameterGroup: f('DBParameterGroupName', '${Pg}'),
        masterPasswords: [],
      },
    ],
    parameterGroups: [
      {
        path: 'App/Db/ParameterGroup',
        family: f('Family', 'postgres17'),
        forceSsl: [f('Parameters.rds.force_ssl', '1')],
        minProtocolVersion: [f('Parameters.ssl_min_protocol_version', 'TLSv1.2')],
      },
    ],
  };
}

type Mutate = (s: GuardedScope) => GuardedScope;
const cache =
  (change: Partial<GuardedScope['caches'][number]>): Mutate =>
  (s) => ({ ...s, caches: [{ ...s.caches[0], ...change }] });
const rule =
  (r: GuardedScope['ingressRules'][number]): Mutate =>
  (s) => ({ ...s, ingressRules: [...s.ingressRules, r] });
type Db = NonNullable<GuardedScope['databases']>[number];
type Pg = NonNullable<GuardedScope['parameterGroups']>[number];
const db =
  (change: Partial<Db>): Mutate =>
  (s) => ({ ...s, databases: [{ ...s.databases![0], ...change }] });
const pg =
  (change: Partial<Pg>): Mutate =>
  (s) => ({ ...s, parameterGroups: [{ ...s.parameterGroups![0], ...change }] });
/** An Aurora PostgreSQL cluster in the scope's place of the instance. */
const AURORA: Partial<Db> = {
  resource: 'cluster',
  engine: f('Engine', 'aurora-postgresql'),
  publiclyAccessible: undefined,
  parameterGroup: f('DBClusterParameterGroupName', '${ClusterPg}'),
};

const VIOLATIONS: [string, Mutate, string, string, string][] = [
  // name, change, rule id, property, a word of the message
  [
    'transit off',
    cache({ transitEncryptionEnabled: f('TransitEncryptionEnabled', false) }),
    'guard.transit-encryption',
    'TransitEncryptionEnabled',
    'clear text',
  ],
  [
    'transit "false" (Terraform string)',
    cache({ transitEncryptionEnabled: f('transit_encryption_enabled', 'false') }),
    'guard.transit-encryption',
    'transit_encryption_enabled',
    '"false"',
  ],
  [
    'transit absent',
    cache({ transitEncryptionEnabled: f('TransitEncryptionEnabled', undefined) }),
    'guard.transit-encryption',
    'TransitEncryptionEnabled',
    'is not set',
  ],
  [
    'transit from a parameter',
    cache({ transitEncryptionEnabled: f('TransitEncryptionEnabled', '${Param}') }),
    'guard.transit-encryption',
    'TransitEncryptionEnabled',
    'not a literal',
  ],
  [
    'mode preferred',
    cache({ transitEncryptionMode: f('TransitEncryptionMode', 'preferred') }),
    'guard.transit-encryption-mode',
    'TransitEncryptionMode',
    'plaintext',
  ],
  [
    'mode absent',
    cache({ transitEncryptionMode: f('TransitEncryptionMode', undefined) }),
    'guard.transit-encryption-mode',
    'TransitEncryptionMode',
    'is not set',
  ],
  [
    'at rest off',
    cache({ atRestEncryptionEnabled: f('AtRestEncryptionEnabled', false) }),
    'guard.at-rest-encryption',
    'AtRestEncryptionEnabled',
    'unencrypted',
  ],
  ['no key', cache({ kmsKeyId: f('KmsKeyId', undefined) }), 'guard.cache-cmk', 'KmsKeyId', 'customer-managed'],
  [
    'AWS-managed key',
    cache({ kmsKeyId: f('KmsKeyId', 'alias/aws/elasticache') }),
    'guard.cache-cmk',
    'KmsKeyId',
    'alias/aws/elasticache',
  ],
  [
    'AWS-managed key by ARN',
    cache({ kmsKeyId: f('KmsKeyId', 'arn:aws:kms:eu-west-1:1:alias/aws/elasticache') }),
    'guard.cache-cmk',
    'KmsKeyId',
    'customer-managed',
  ],
  [
    'no AUTH, no user group',
    cache({ authToken: f('AuthToken', undefined) }),
    'guard.authentication',
    'AuthToken',
    'UserGroupIds is empty',
  ],
  [
    'no AUTH, empty user groups',
    cache({ authToken: f('AuthToken', undefined), userGroupIds: f('UserGroupIds', []) }),
    'guard.authentication',
    'AuthToken',
    'any client',
  ],
  [
    'literal AUTH token',
    cache({ authToken: f('AuthToken', 'hunter2hunter2hunter2') }),
    'guard.auth-token-literal',
    'AuthToken',
    'literal string',
  ],
  [
    'public broker',
    (s) => ({ ...s, brokers: [{ ...s.brokers[0], publiclyAccessible: f('PubliclyAccessible', true) }] }),
    'guard.public-broker',
    'PubliclyAccessible',
    'public endpoint',
  ],
  [
    'public broker from a parameter',
    (s) => ({ ...s, brokers: [{ ...s.brokers[0], publiclyAccessible: f('publicly_accessible', '${var.public}') }] }),
    'guard.public-broker',
    'publicly_accessible',
    'not a literal',
  ],
  [
    '0.0.0.0/0 on the broker group',
    rule({
      path: 'App/Open',
      group: 'brokerSg',
      protocol: f('IpProtocol', 'tcp'),
      fromPort: f('FromPort', 443),
      toPort: f('ToPort', 443),
      cidrs: [f('CidrIp', '0.0.0.0/0')],
    }),
    'guard.open-ingress',
    'CidrIp',
    'Celery broker or cache',
  ],
  [
    '::/0 on the cache port of another group',
    rule({
      path: 'App/Open',
      group: 'other',
      protocol: f('IpProtocol', 'tcp'),
      fromPort: f('FromPort', 6000),
      toPort: f('ToPort', 7000),
      cidrs: [f('CidrIpv6', '::/0')],
    }),
    'guard.open-ingress',
    'CidrIpv6',
    '6379, 6380',
  ],
  [
    '0.0.0.0/0 on AMQPS of an unknown group',
    rule({
      path: 'App/Open',
      protocol: f('ip_protocol', 'tcp'),
      fromPort: f('from_port', 5671),
      toPort: f('to_port', 5671),
      cidrs: [f('cidr_ipv4', '0.0.0.0/0')],
    }),
    'guard.open-ingress',
    'cidr_ipv4',
    '5671',
  ],
  [
    '0.0.0.0/0 with a port from a variable',
    rule({
      path: 'App/Open',
      group: 'other',
      protocol: f('IpProtocol', 'tcp'),
      fromPort: f('FromPort', '${var.p}'),
      toPort: f('ToPort', '${var.p}'),
      cidrs: [f('CidrIp', '0.0.0.0/0')],
    }),
    'guard.open-ingress',
    'CidrIp',
    'whole internet',
  ],
  [
    'protocol -1 from a peer on the cache group',
    rule({
      path: 'App/All',
      group: 'cacheSg',
      protocol: f('IpProtocol', '-1'),
      fromPort: f('FromPort', undefined),
      toPort: f('ToPort', undefined),
      cidrs: [],
    }),
    'guard.all-protocols',
    'IpProtocol',
    'every protocol',
  ],
  [
    'protocol "all" (Terraform) open to the internet',
    rule({
      path: 'App/All',
      group: 'other',
      protocol: f('protocol', 'all'),
      fromPort: f('from_port', 0),
      toPort: f('to_port', 0),
      cidrs: [f('cidr_blocks[0]', '0.0.0.0/0')],
    }),
    'guard.all-protocols',
    'protocol',
    'to the internet',
  ],
  [
    'secret without a key',
    (s) => ({ ...s, secrets: [{ path: 'App/S', kmsKeyId: f('KmsKeyId', undefined) }] }),
    'guard.secret-cmk',
    'KmsKeyId',
    'aws/secretsmanager',
  ],
  [
    'secret with the AWS-managed key',
    (s) => ({ ...s, secrets: [{ path: 'App/S', kmsKeyId: f('kms_key_id', 'alias/aws/secretsmanager') }] }),
    'guard.secret-cmk',
    'kms_key_id',
    'customer-managed',
  ],
  [
    'database storage not encrypted',
    db({ storageEncrypted: f('StorageEncrypted', undefined) }),
    'guard.database-storage-encryption',
    'StorageEncrypted',
    'only true is allowed',
  ],
  [
    'Aurora storage "false" (Terraform string)',
    db({ ...AURORA, storageEncrypted: f('storage_encrypted', 'false') }),
    'guard.database-storage-encryption',
    'storage_encrypted',
    'backups of the cluster',
  ],
  [
    'database without a key',
    db({ kmsKeyId: f('KmsKeyId', undefined) }),
    'guard.database-cmk',
    'KmsKeyId',
    'is not set',
  ],
  [
    'database with the AWS-managed key',
    db({ kmsKeyId: f('kms_key_id', 'arn:aws:kms:eu-west-1:1:alias/aws/rds') }),
    'guard.database-cmk',
    'kms_key_id',
    'customer-managed',
  ],
  [
    'public database',
    db({ publiclyAccessible: f('PubliclyAccessible', true) }),
    'guard.public-database',
    'PubliclyAccessible',
    'only false is allowed',
  ],
  [
    'public from a variable',
    db({ publiclyAccessible: f('publicly_accessible', '${var.public}') }),
    'guard.public-database',
    'publicly_accessible',
    'not a literal',
  ],
  [
    'PubliclyAccessible absent on CloudFormation (RDS decides from the subnets)',
    db({ publiclyAccessible: f('PubliclyAccessible', undefined) }),
    'guard.public-database',
    'PubliclyAccessible',
    'internet gateway',
  ],
  [
    'a public instance of a cluster',
    db({ clusterMember: true, publiclyAccessible: f('PubliclyAccessible', true) }),
    'guard.public-database',
    'PubliclyAccessible',
    'public address',
  ],
  [
    'literal master password',
    db({ masterPasswords: [{ property: 'MasterUserPassword', source: 'literal' }] }),
    'guard.database-password-literal',
    'MasterUserPassword',
    'value not shown',
  ],
  [
    'master password from a variable',
    db({ masterPasswords: [{ property: 'master_password', source: 'expression' }] }),
    'guard.database-password-literal',
    'master_password',
    'does not read Secrets Manager',
  ],
  [
    'PostgreSQL 14 on its default group',
    db({ engineVersion: f('EngineVersion', '14.12'), parameterGroup: f('DBParameterGroupName', undefined) }),
    'guard.postgres-force-ssl',
    'DBParameterGroupName',
    'rds.force_ssl is 0 on PostgreSQL 14',
  ],
  [
    'PostgreSQL without a version on its default group',
    db({ engineVersion: f('EngineVersion', undefined), parameterGroup: f('DBParameterGroupName', undefined) }),
    'guard.postgres-force-ssl',
    'DBParameterGroupName',
    'cannot tell',
  ],
  [
    'an engine from a parameter on its default group',
    db({ engine: f('Engine', '${Engine}'), parameterGroup: f('DBParameterGroupName', undefined) }),
    'guard.postgres-force-ssl',
    'DBParameterGroupName',
    'deploy-time expression',
  ],
  [
    'a default.postgres14 group named',
    db({ parameterGroup: f('parameter_group_name', 'default.postgres14') }),
    'guard.postgres-force-ssl',
    'parameter_group_name',
    'postgres14 family',
  ],
  [
    'Aurora on its default cluster group',
    db({ ...AURORA, parameterGroup: f('DBClusterParameterGroupName', undefined) }),
    'guard.postgres-force-ssl',
    'DBClusterParameterGroupName',
    '0 on Aurora PostgreSQL',
  ],
  [
    'rds.force_ssl 0',
    pg({ forceSsl: [f('Parameters.rds.force_ssl', '0')] }),
    'guard.postgres-force-ssl',
    'Parameters.rds.force_ssl',
    'allowed: 1',
  ],
  [
    'rds.force_ssl twice, the second 0 (a Terraform override appends)',
    pg({ forceSsl: [f('parameter[0].value', '1'), f('parameter[2].value', '0')] }),
    'guard.postgres-force-ssl',
    'parameter[2].value',
    'plaintext',
  ],
  [
    'rds.force_ssl from a variable',
    pg({ forceSsl: [f('parameter[0].value', '${var.ssl}')] }),
    'guard.postgres-force-ssl',
    'parameter[0].value',
    'not a literal',
  ],
  [
    'rds.force_ssl left out of an Aurora group',
    pg({ family: f('family', 'aurora-postgresql16'), forceSsl: [f('parameter (rds.force_ssl)', undefined)] }),
    'guard.postgres-force-ssl',
    'parameter (rds.force_ssl)',
    'default in the "aurora-postgresql16" family is 0',
  ],
  [
    'rds.force_ssl left out of a postgres14 group',
    pg({ family: f('Family', 'postgres14'), forceSsl: [f('Parameters.rds.force_ssl', undefined)] }),
    'guard.postgres-force-ssl',
    'Parameters.rds.force_ssl',
    'is not set',
  ],
  [
    'ssl_min_protocol_version TLSv1.1',
    pg({ minProtocolVersion: [f('Parameters.ssl_min_protocol_version', 'TLSv1.1')] }),
    'guard.postgres-tls-version',
    'Parameters.ssl_min_protocol_version',
    '"TLSv1.2" or "TLSv1.3"',
  ],
];

describe('CeleryEncryptionGuard rules (core)', () => {
  test('the good scope has no violation and no warning', () => {
    expect(checkEncryptionGuard(good(), {}, EXPR)).toEqual({ violations: [], warnings: [] });
  });

  test.each(VIOLATIONS)('%s', (_name, mutate, id, property, word) => {
    const { violations } = checkEncryptionGuard(mutate(good()), {}, EXPR);
    expect(violations.map((v) => [v.rule, v.property])).toContainEqual([id, property]);
    const v = violations.find((x) => x.rule === id)!;
    expect(v.message.startsWith(`${property} `)).toBe(true);
    expect(v.message).toContain(word);
    expect(v.fix.length).toBeGreaterThan(20);
    expect(v.path).toMatch(/^App\//);
  });

  test('the migration flag turns "preferred" into a warning, and only "preferred"', () => {
    const preferred = cache({ transitEncryptionMode: f('TransitEncryptionMode', 'preferred') })(good());
    const r = checkEncryptionGuard(preferred, { allowTransitEncryptionPreferred: true }, EXPR);
    expect(r.violations).toEqual([]);
    expect(r.warnings.map((w) => w.rule)).toEqual(['guard.transit-encryption-mode']);
    expect(r.warnings[0].fix).toContain('"required"');
    const off = cache({ transitEncryptionEnabled: f('TransitEncryptionEnabled', false) })(good());
    expect(
      checkEncryptionGuard(off, { allowTransitEncryptionPreferred: true }, EXPR).violations.map((v) => v.rule),
    ).toEqual(['guard.transit-encryption']);
  });

  test.each([
    [
      'RBAC user groups instead of AUTH',
      cache({ authToken: f('AuthToken', undefined), userGroupIds: f('UserGroupIds', ['celery']) }),
    ],
    [
      'an AUTH token read at apply time',
      cache({ authToken: f('auth_token', '${jsondecode(data.x.secret_string).password}') }),
    ],
    [
      'a peer group on the broker port',
      rule({
        path: 'App/Peer',
        group: 'brokerSg',
        protocol: f('IpProtocol', 'tcp'),
        fromPort: f('FromPort', 5671),
        toPort: f('ToPort', 5671),
        cidrs: [f('CidrIp', '10.0.0.0/16')],
      }),
    ],
    ['HTTPS open on a group of no broker or cache', (s: GuardedScope) => s],
    [
      'protocol -1 from a peer on a group of no broker or cache',
      rule({
        path: 'App/Peer',
        group: 'other',
        protocol: f('IpProtocol', '-1'),
        fromPort: f('FromPort', undefined),
        toPort: f('ToPort', undefined),
        cidrs: [],
      }),
    ],
    [
      'UDP open to the internet on a Celery port number',
      rule({
        path: 'App/Udp',
        group: 'other',
        protocol: f('IpProtocol', 'udp'),
        fromPort: f('FromPort', 5671),
        toPort: f('ToPort', 5671),
        cidrs: [f('CidrIp', '0.0.0.0/0')],
      }),
    ],
    ['an Aurora cluster with its own cluster group', db(AURORA)],
    [
      'PostgreSQL 15 on its default group (rds.force_ssl 1 from 15)',
      db({ engineVersion: f('EngineVersion', '15.10'), parameterGroup: f('DBParameterGroupName', undefined) }),
    ],
    ['a default.postgres16 group named', db({ parameterGroup: f('DBParameterGroupName', 'default.postgres16') })],
    [
      "an instance of a cluster: storage, key and parameters are the cluster's",
      db({
        clusterMember: true,
        storageEncrypted: f('StorageEncrypted', undefined),
        kmsKeyId: f('KmsKeyId', undefined),
        parameterGroup: f('DBParameterGroupName', undefined),
      }),
    ],
    [
      'publicly_accessible absent on Terraform (the provider default is false)',
      db({ publiclyAccessible: f('publicly_accessible', undefined), publicWhenAbsent: false }),
    ],
    [
      'a master password read from Secrets Manager',
      db({ masterPasswords: [{ property: 'MasterUserPassword', source: 'secret-reference' }] }),
    ],
    [
      'a MySQL instance without encryption (the rules read PostgreSQL only)',
      db({
        engine: f('Engine', 'mysql'),
        storageEncrypted: f('StorageEncrypted', false),
        kmsKeyId: f('KmsKeyId', undefined),
      }),
    ],
    [
      'a postgres16 group without rds.force_ssl (its default is 1)',
      pg({ family: f('Family', 'postgres16'), forceSsl: [f('Parameters.rds.force_ssl', undefined)] }),
    ],
    ['rds.force_ssl 1 as a number, TLSv1.3', pg({ forceSsl: [f('p', 1)], minProtocolVersion: [f('q', 'TLSv1.3')] })],
    [
      'a mysql8.0 group (not read)',
      pg({ family: f('Family', 'mysql8.0'), forceSsl: [f('Parameters.rds.force_ssl', '0')] }),
    ],
    [
      'a broker without the property (the APIs default to private)',
      (s: GuardedScope) => ({
        ...s,
        brokers: [{ ...s.brokers[0], publiclyAccessible: f('publicly_accessible', undefined) }],
      }),
    ],
  ] as [string, Mutate][])('allowed: %s', (_name, mutate) => {
    expect(checkEncryptionGuard(mutate(good()), {}, EXPR).violations).toEqual([]);
  });

  test('celery ports: the fixed ones and each cache port', () => {
    expect(celeryPorts(cache({ port: 7000 })(good()))).toEqual([5671, 5672, 6379, 6380, 7000, 15671]);
  });

  test('the error lists every violation with path, property, fix and rule', () => {
    const bad = cache({
      transitEncryptionEnabled: f('TransitEncryptionEnabled', false),
      atRestEncryptionEnabled: f('AtRestEncryptionEnabled', false),
    })(good());
    const e = new CeleryEncryptionGuardError(checkEncryptionGuard(bad, {}, EXPR).violations);
    expect(e.message).toBe(formatGuardViolations(e.violations));
    expect(e.message.split('\n')).toEqual([
      'CeleryEncryptionGuard: 2 violations',
      '  - App/Cache/Resource: TransitEncryptionEnabled is false: tasks, results and the AUTH token would cross the network in clear text. Fix: set TransitEncryptionEnabled to true (remove the escape hatch or override that changed it). [guard.transit-encryption; AwsSolutions-AEC3, ElastiCache.5, CKV_AWS_30]',
      '  - App/Cache/Resource: AtRestEncryptionEnabled is false: snapshots and swap hold task payloads unencrypted. Fix: set AtRestEncryptionEnabled to true (it is create-only: the cache is replaced). [guard.at-rest-encryption; AwsSolutions-AEC3, ElastiCache.4, CKV_AWS_29]',
    ]);
  });
});

describe('the helpers both adapters share (lib/core/guard-describe.ts, the testing building blocks)', () => {
  /** A structural stand-in for a construct: a path and its scopes (root first, itself last). */
  interface FakeNode {
    node: { path: string; scopes: FakeNode[] };
    stack?: FakeNode;
    rendered?: [string, Record<string, any>][];
  }
  const at = (path: string, parent?: FakeNode, extra: Partial<FakeNode> = {}): FakeNode => {
    const n: FakeNode = { node: { path, scopes: [] }, ...extra };
    n.node.scopes = [...(parent?.node.scopes ?? []), n];
    return n;
  };

  test('describeByStack: one description per stack, keys qualified by the stack path, construct paths by address', () => {
    const app = at('');
    const one = at('One', app);
    const two = at('Two', app);
    const resources = [
      at('One/Sg', one, { stack: one, rendered: [['Sg', { kind: 'group' }]] }),
      at('Two/Sg', two, { stack: two, rendered: [['Sg', { kind: 'group' }]] }),
      at('One/Secret', one, {
        stack: one,
        rendered: [
          ['Secret', { kind: 'secret' }],
          ['Extra', { kind: 'secret' }],
        ],
      }),
    ];
    const calls: string[] = [];
    const scope = describeByStack(resources, {
      stackOf: (c) => c.stack!,
      render: (c) => c.rendered!,
      describe: (blocks, keyPrefix, pathOf) => {
        calls.push(`${keyPrefix}:${Object.keys(blocks).join(',')}`);
        return {
          caches: [],
          brokers: Object.entries(blocks)
            .filter(([, b]) => b.kind === 'group')
            .map(([a]) => ({ path: pathOf(a), publiclyAccessible: f('P', false), securityGroups: [keyPrefix + a] })),
          ingressRules: [],
          secrets: Object.entries(blocks)
            .filter(([, b]) => b.kind === 'secret')
            .map(([a]) => ({ path: pathOf(a), kmsKeyId: f('K', undefined) })),
        };
      },
    });
    expect(calls).toEqual(['One/:Sg,Secret,Extra', 'Two/:Sg']);
    expect(scope.brokers.map((b) => [b.path, b.securityGroups])).toEqual([
      ['One/Sg', ['One/Sg']],
      ['Two/Sg', ['Two/Sg']],
    ]);
    expect(scope.secrets.map((s) => s.path)).toEqual(['One/Secret', 'One/Secret']);
  });

  test('GuardAspectRoots: the first node of a subtree is a root; its children, itself again and nodes under it are not', () => {
    const app = at('');
    const stack = at('Stack', app);
    const child = at('Stack/Child', stack);
    const other = at('Other', app);
    const roots = new GuardAspectRoots();
    expect([stack, child, stack, other, at('Other/X', other)].map((n) => roots.claim(n))).toEqual([
      true,
      false,
      false,
      true,
      false,
    ]);
  });

  test('guardFact and securityGroupKeys', () => {
    expect(guardFact({ FromPort: 5671 }, 'FromPort', 'SecurityGroupIngress[0].')).toEqual({
      property: 'SecurityGroupIngress[0].FromPort',
      value: 5671,
    });
    expect(securityGroupKeys(['sg-1', 42, 'sg-2'], (g) => (typeof g === 'string' ? `k/${g}` : undefined))).toEqual([
      'k/sg-1',
      'k/sg-2',
    ]);
    expect(securityGroupKeys('sg-1', String)).toEqual([]);
  });

  test('encryptionFindings, encryptionMatchers and maskAssetHashText', () => {
    const found = encryptionFindings(good(), {}, EXPR);
    expect(found).toEqual({ violations: [], warnings: [], caches: 1, brokers: 1 });
    const matchers = encryptionMatchers((s: GuardedScope) => encryptionFindings(s, {}, EXPR), 'thing');
    expect(matchers.toHaveEncryptedCeleryTransport(good()).pass).toBe(true);
    const empty = matchers.toHaveEncryptedCeleryTransport({ caches: [], brokers: [], ingressRules: [], secrets: [] });
    expect([empty.pass, empty.message()]).toEqual([
      false,
      'expected a thing with a replication group or a broker, found neither',
    ]);
    expect(maskAssetHashText(JSON.stringify({ key: `${'a'.repeat(64)}.zip` }), /[0-9a-f]{64}/g)).toEqual({
      key: `${ASSET_HASH_MASK}.zip`,
    });
  });
});
