import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Aspects, Fn, TerraformStack, TerraformVariable, Testing } from 'cdktf';
import {
  CeleryEncryptionGuard,
  CeleryEncryptionGuardError,
  CeleryResultBackend,
  CeleryTransport,
  RedisAuth,
  TransitEncryptionMode,
} from '../../lib/cdktf';
import { DataAwsSecretsmanagerSecretVersion, ElasticacheUser, MqBroker } from '../../lib/cdktf/provider';
import { SecretsmanagerSecret, SecretsmanagerSecretVersion, SecurityGroup } from '../../lib/cdktf/provider';
import { DbInstance, DbParameterGroup, KmsKey, RdsCluster, RdsClusterInstance } from '../../lib/cdktf/provider';
import { RdsClusterParameterGroup } from '../../lib/cdktf/provider';
import { VpcSecurityGroupEgressRule, VpcSecurityGroupIngressRule } from '../../lib/cdktf/provider';
import { SecurityGroupRule } from '@cdktf/provider-aws/lib/security-group-rule';
import { VPC_ID, subnets, synthJson, tfStack, warningsOf } from './helpers';
import { thrownAs } from '../thrown';

function transport(guard: CeleryEncryptionGuard | undefined, stack: TerraformStack = tfStack().stack) {
  const t = new CeleryTransport(stack, 'Celery', { vpcId: VPC_ID, subnets: subnets() });
  if (guard) Aspects.of(stack).add(guard);
  return { stack, t, cache: t.resultBackendCache!.resource, broker: t.rabbitMqBroker!.resource };
}

const guardError = (fn: () => unknown) => thrownAs(CeleryEncryptionGuardError, fn);

/** The violations of one rule, as `path property`. */
function found(stack: TerraformStack, rule: string): string[] {
  return CeleryEncryptionGuard.check(stack)
    .violations.filter((v) => v.rule === rule)
    .map((v) => `${v.path} ${v.property}`);
}

/** Literal secrets the tests write; no message may contain them. */
const LITERALS = [
  'correct-horse-battery-staple',
  'db-master-literal-pw',
  'hunter2hunter2hunter2',
  'cache-user-literal-pw',
  'plain-secret-value',
];

/** A hand-written broker with the given users (private, so that only the users are wrong). */
const mqBroker = (stack: TerraformStack, id: string, user: { username: string; password: string }[]) =>
  new MqBroker(stack, id, {
    brokerName: id,
    engineType: 'RabbitMQ',
    engineVersion: '3.13',
    hostInstanceType: 'mq.m7g.large',
    deploymentMode: 'SINGLE_INSTANCE',
    publiclyAccessible: false,
    user,
  });

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

  describe('ingress to the broker and backend groups only on their TLS ports (guard.ingress-tls-ports)', () => {
    test('GIVEN tcp 0-65535 from a private CIDR on the backend group and plaintext AMQP on the broker group THEN both are refused, with address, property and fix', () => {
      const { stack, t } = transport(new CeleryEncryptionGuard());
      new VpcSecurityGroupIngressRule(stack, 'Wide', {
        securityGroupId: t.resultBackendCache!.securityGroup.securityGroupId,
        ipProtocol: 'tcp',
        fromPort: 0,
        toPort: 65535,
        cidrIpv4: '10.0.0.0/8',
      });
      new SecurityGroupRule(stack, 'PlainAmqp', {
        type: 'ingress',
        securityGroupId: t.rabbitMqBroker!.securityGroup.securityGroupId,
        protocol: 'tcp',
        fromPort: 5672,
        toPort: 5672,
        cidrBlocks: ['10.0.0.0/16'],
      });
      expect(found(stack, 'guard.ingress-tls-ports')).toEqual(['Test/Wide from_port', 'Test/PlainAmqp from_port']);
      const e = guardError(() => Testing.synth(stack));
      expect(e.message).toContain(
        'Test/Wide: from_port is 0 and to_port is 65535: the rule opens ports other than the TLS port 6380 on a security group of a Celery broker or cache',
      );
      expect(e.message).toContain(
        'Test/PlainAmqp: from_port is 5672 and to_port is 5672: the rule opens ports other than the TLS ports 443, 5671, 15671',
      );
      expect(e.message).toContain('Fix: remove the rule: allow only tcp on the TLS port 6380');
    });

    test('GIVEN peers and private CIDRs on the TLS ports only THEN the guard accepts them', () => {
      const { stack, t } = transport(new CeleryEncryptionGuard());
      const service = new SecurityGroup(stack, 'Service', { vpcId: VPC_ID, description: 'a service of the user' });
      t.allowWorker({ securityGroupId: service.id });
      new VpcSecurityGroupIngressRule(stack, 'Amqps', {
        securityGroupId: t.rabbitMqBroker!.securityGroup.securityGroupId,
        ipProtocol: 'tcp',
        fromPort: 5671,
        toPort: 5671,
        cidrIpv4: '10.0.0.0/16',
      });
      expect(CeleryEncryptionGuard.check(stack).violations).toEqual([]);
      expect(() => Testing.synth(stack)).not.toThrow();
    });
  });

  describe('no allow-all egress on the Celery groups (guard.open-egress)', () => {
    test('GIVEN allow-all egress on the workers group (addOverride), every protocol on the broker group and every port on the producers group THEN each is refused', () => {
      const { stack, t } = transport(new CeleryEncryptionGuard());
      t.workersSecurityGroup.resource.addOverride('egress', [
        { protocol: '-1', from_port: 0, to_port: 0, cidr_blocks: ['0.0.0.0/0'] },
      ]);
      new VpcSecurityGroupEgressRule(stack, 'All', {
        securityGroupId: t.rabbitMqBroker!.securityGroup.securityGroupId,
        ipProtocol: '-1',
        cidrIpv4: '10.0.0.0/8',
      });
      new SecurityGroupRule(stack, 'Wide', {
        type: 'egress',
        securityGroupId: t.producersSecurityGroup.securityGroupId,
        protocol: 'tcp',
        fromPort: 0,
        toPort: 65535,
        cidrBlocks: ['10.0.0.0/8'],
      });
      expect(found(stack, 'guard.open-egress')).toEqual([
        'Test/Celery/WorkersSecurityGroup/Resource egress[0].cidr_blocks[0]',
        'Test/All ip_protocol',
        'Test/Wide from_port',
      ]);
      const e = guardError(() => Testing.synth(stack));
      for (const text of [
        'Test/Celery/WorkersSecurityGroup/Resource: egress[0].cidr_blocks[0] is "0.0.0.0/0": a Celery client group (its egress reaches a broker or cache: the producers, the workers, the library\'s functions) may send any protocol on any port to the whole internet',
        'Test/All: ip_protocol is "-1": every protocol and port is open outbound on a security group of a Celery broker or cache',
        'Test/Wide: from_port is 0 and to_port is 65535: every port is open outbound on a Celery client group',
        '[guard.open-egress; CKV_AWS_382',
      ])
        expect(e.message).toContain(text);
    });

    test("GIVEN a user's own group with allow-all egress allowed in THEN the guard accepts it (only the library's groups and those reaching a broker or cache count)", () => {
      const { stack, t } = transport(new CeleryEncryptionGuard());
      const service = new SecurityGroup(stack, 'Service', {
        vpcId: VPC_ID,
        description: 'user',
        egress: [{ protocol: '-1', fromPort: 0, toPort: 0, cidrBlocks: ['0.0.0.0/0'] }],
      });
      t.allowProducer({ securityGroupId: service.id });
      expect(CeleryEncryptionGuard.check(stack).violations).toEqual([]);
      expect(() => Testing.synth(stack)).not.toThrow();
    });
  });

  describe('no literal password in a broker or cache user (guard.password-literal)', () => {
    test('GIVEN a literal password on the broker user (addOverride), a hand-written broker, a variable and literal ElastiCache user passwords THEN each is refused without showing it', () => {
      const { stack, broker } = transport(new CeleryEncryptionGuard());
      broker.addOverride('user.0.password', 'hunter2hunter2hunter2');
      mqBroker(stack, 'Mq', [
        { username: 'admin', password: 'correct-horse-battery-staple' },
        {
          username: 'var',
          password: new TerraformVariable(stack, 'pw', { type: 'string', sensitive: true }).stringValue,
        },
      ]);
      new ElasticacheUser(stack, 'CacheUser', {
        engine: 'redis',
        userId: 'celery-extra',
        userName: 'celery-extra',
        accessString: 'on ~* +@all',
        authenticationMode: { type: 'password', passwords: ['cache-user-literal-pw'] },
      });
      new ElasticacheUser(stack, 'LegacyUser', {
        engine: 'redis',
        userId: 'celery-legacy',
        userName: 'celery-legacy',
        accessString: 'on ~* +@all',
        passwords: [Fn.join('', ['cache-user-', 'literal-pw'])],
      });
      expect(found(stack, 'guard.password-literal')).toEqual([
        'Test/Celery/Broker/Resource user[0].password',
        'Test/Mq user[0].password',
        'Test/Mq user[1].password',
        'Test/CacheUser authentication_mode.passwords[0]',
        'Test/LegacyUser passwords[0]',
      ]);
      const e = guardError(() => Testing.synth(stack));
      for (const text of [
        'Test/Celery/Broker/Resource: user[0].password is a literal (value not shown): the password of a broker or cache user is readable in the synthesized output',
        'Test/Mq: user[1].password is a deploy-time expression that does not read Secrets Manager (value not shown)',
        'Test/CacheUser: authentication_mode.passwords[0] is a literal (value not shown)',
        'Test/LegacyUser: passwords[0] is a literal (value not shown)',
        'Fix: read it from a Secrets Manager secret at deploy time',
        '[guard.password-literal; cfn_nag F52',
      ])
        expect(e.message).toContain(text);
      for (const secret of LITERALS) expect(e.message).not.toContain(secret);
    });

    test('GIVEN RBAC users and a hand-written broker whose password is read from a secret version THEN the guard accepts them', () => {
      const { stack } = tfStack();
      new CeleryTransport(stack, 'Celery', {
        vpcId: VPC_ID,
        subnets: subnets(),
        resultBackend: CeleryResultBackend.redis({ authToken: RedisAuth.rbacUsers() }),
      });
      Aspects.of(stack).add(new CeleryEncryptionGuard());
      const admin = new DataAwsSecretsmanagerSecretVersion(stack, 'Admin', {
        secretId: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:admin',
      });
      mqBroker(stack, 'Mq', [
        { username: 'admin', password: Fn.lookup(Fn.jsondecode(admin.secretString), 'password', '') },
      ]);
      expect(CeleryEncryptionGuard.check(stack)).toEqual({ violations: [], warnings: [] });
      expect(() => Testing.synth(stack)).not.toThrow();
    });
  });

  describe('no literal secret_string on a secret version (guard.secret-string-literal)', () => {
    test('GIVEN a literal secret_string, a jsonencode of literals in secret_string_wo and an override of the admin secret version THEN each is refused without showing it', () => {
      const { stack, t } = transport(new CeleryEncryptionGuard());
      new SecretsmanagerSecretVersion(stack, 'Plain', { secretId: 'plain', secretString: 'plain-secret-value' });
      new SecretsmanagerSecretVersion(stack, 'Encoded', {
        secretId: 'encoded',
        secretStringWo: Fn.jsonencode({ username: 'u', password: 'correct-horse-battery-staple' }),
        secretStringWoVersion: 1,
      });
      const value = t
        .rabbitMqBroker!.node.findChild('AdminCredentials')
        .node.findChild('Value') as SecretsmanagerSecretVersion;
      value.addOverride('secret_string_wo', '{"username":"celeryadmin","password":"hunter2hunter2hunter2"}');
      expect(found(stack, 'guard.secret-string-literal')).toEqual([
        'Test/Celery/Broker/AdminCredentials/Value secret_string_wo',
        'Test/Plain secret_string',
        'Test/Encoded secret_string_wo',
      ]);
      const e = guardError(() => Testing.synth(stack));
      expect(e.message).toContain(
        "Test/Plain: secret_string is a literal (value not shown): the secret's value is readable in the synthesized output and in version control. Fix: let Secrets Manager generate it",
      );
      expect(e.message).toContain('[guard.secret-string-literal; ');
      for (const secret of LITERALS) expect(e.message).not.toContain(secret);
    });

    test("GIVEN the library's write-only versions and a secret_string built from another resource THEN the guard accepts them", () => {
      const { stack, cache } = transport(new CeleryEncryptionGuard());
      new SecretsmanagerSecretVersion(stack, 'Endpoint', {
        secretId: 'endpoint',
        secretString: Fn.jsonencode({ host: cache.primaryEndpointAddress }),
      });
      expect(CeleryEncryptionGuard.check(stack).violations).toEqual([]);
      expect(() => Testing.synth(stack)).not.toThrow();
    });
  });

  describe('RDS for PostgreSQL and Aurora PostgreSQL (guard.database-*, guard.public-database, guard.postgres-*)', () => {
    /** A transport with a PostgreSQL result backend and the guard. */
    function postgres(kind: 'instance' | 'aurora') {
      const { stack } = tfStack();
      const t = new CeleryTransport(stack, 'Celery', {
        vpcId: VPC_ID,
        subnets: subnets(),
        resultBackend: CeleryResultBackend.postgres({ kind }),
      });
      Aspects.of(stack).add(new CeleryEncryptionGuard());
      return { stack, db: t.resultBackendDatabase! };
    }
    const rules = (stack: TerraformStack) =>
      CeleryEncryptionGuard.check(stack).violations.map((v) => `${v.rule} ${v.path} ${v.property}`);

    test.each(['instance', 'aurora'] as const)(
      "GIVEN the library's PostgreSQL result backend (%s) THEN every RDS rule passes and it synthesizes",
      (kind) => {
        const { stack } = postgres(kind);
        expect(CeleryEncryptionGuard.check(stack)).toEqual({ violations: [], warnings: [] });
        expect(() => Testing.synth(stack)).not.toThrow();
      },
    );

    test('GIVEN overrides on the Aurora cluster, its writer and its parameter group THEN each weakening is refused with path, property, value and what is allowed', () => {
      const { stack, db } = postgres('aurora');
      const cluster = db.cluster!;
      cluster.addOverride('storage_encrypted', false);
      cluster.addOverride('kms_key_id', null);
      cluster.addOverride('manage_master_user_password', null);
      cluster.addOverride('master_password', 'db-master-literal-pw');
      db.clusterInstances[0].addOverride('publicly_accessible', true);
      // cdktf appends an overriding list to the rendered one: the group then holds each parameter twice.
      db.parameterGroup!.addOverride('parameter', [
        { name: 'rds.force_ssl', value: '0', apply_method: 'pending-reboot' },
        { name: 'ssl_min_protocol_version', value: 'TLSv1', apply_method: 'pending-reboot' },
      ]);
      expect(rules(stack)).toEqual([
        'guard.database-storage-encryption Test/Celery/ResultBackend/Resource storage_encrypted',
        'guard.database-cmk Test/Celery/ResultBackend/Resource kms_key_id',
        'guard.database-password-literal Test/Celery/ResultBackend/Resource master_password',
        'guard.public-database Test/Celery/ResultBackend/Writer publicly_accessible',
        'guard.postgres-force-ssl Test/Celery/ResultBackend/ParameterGroup parameter[2].value',
        'guard.postgres-tls-version Test/Celery/ResultBackend/ParameterGroup parameter[3].value',
      ]);
      const e = guardError(() => Testing.synth(stack));
      for (const text of [
        'Test/Celery/ResultBackend/Resource: storage_encrypted is false: the storage, snapshots and backups of the cluster would hold every task result unencrypted; only true is allowed',
        "Test/Celery/ResultBackend/Resource: kms_key_id is not set: the cluster's storage must be encrypted with a customer-managed KMS key",
        'Test/Celery/ResultBackend/Resource: master_password is a literal (value not shown)',
        'Test/Celery/ResultBackend/Writer: publicly_accessible is true: the database would get a public address reachable from the internet; only false is allowed',
        'Test/Celery/ResultBackend/ParameterGroup: parameter[2].value is "0": rds.force_ssl other than 1 lets the databases using the group accept plaintext connections; allowed: 1',
        'Test/Celery/ResultBackend/ParameterGroup: parameter[3].value is "TLSv1": ssl_min_protocol_version below TLSv1.2 lets the server accept TLS 1.0 or 1.1; allowed: "TLSv1.2" or "TLSv1.3"',
        '[guard.database-password-literal; cfn_nag F23',
      ])
        expect(e.message).toContain(text);
      for (const secret of LITERALS) expect(e.message).not.toContain(secret);
    });

    test('GIVEN hand-written databases on default parameter groups where rds.force_ssl is 0, a password from a variable and a group without rds.force_ssl THEN each is refused', () => {
      const { stack } = tfStack();
      const key = new KmsKey(stack, 'Key', { enableKeyRotation: true });
      const encrypted = { storageEncrypted: true, kmsKeyId: key.arn, manageMasterUserPassword: true };
      new DbInstance(stack, 'Pg14', {
        ...encrypted,
        engine: 'postgres',
        engineVersion: '14.12',
        instanceClass: 'db.m7g.large',
        allocatedStorage: 20,
        username: 'admin',
      });
      new DbInstance(stack, 'Unencrypted', {
        engine: 'postgres',
        engineVersion: '17.7',
        instanceClass: 'db.m7g.large',
        allocatedStorage: 20,
        username: 'admin',
        password: new TerraformVariable(stack, 'pw', { type: 'string', sensitive: true }).stringValue,
      });
      new RdsCluster(stack, 'Aurora', {
        ...encrypted,
        engine: 'aurora-postgresql',
        engineVersion: '16.4',
        masterUsername: 'admin',
        dbClusterParameterGroupName: 'default.aurora-postgresql16',
      });
      new RdsClusterParameterGroup(stack, 'AuroraGroup', {
        family: 'aurora-postgresql16',
        parameter: [{ name: 'ssl_min_protocol_version', value: 'TLSv1.2' }],
      });
      new DbParameterGroup(stack, 'Pg14Group', { family: 'postgres14', parameter: [] });
      expect(rules(stack)).toEqual([
        'guard.postgres-force-ssl Test/Pg14 parameter_group_name',
        'guard.database-storage-encryption Test/Unencrypted storage_encrypted',
        'guard.database-cmk Test/Unencrypted kms_key_id',
        'guard.database-password-literal Test/Unencrypted password',
        'guard.postgres-force-ssl Test/Aurora db_cluster_parameter_group_name',
        'guard.postgres-force-ssl Test/Pg14Group parameter (rds.force_ssl)',
        'guard.postgres-force-ssl Test/AuroraGroup parameter (rds.force_ssl)',
      ]);
      const text = CeleryEncryptionGuard.check(stack).violations.map((v) => `${v.path}: ${v.message}`);
      expect(text).toEqual(
        expect.arrayContaining([
          'Test/Pg14: parameter_group_name is not set: the instance uses the default group, where rds.force_ssl is 0 on PostgreSQL 14, so it accepts plaintext connections; allowed: a parameter group with rds.force_ssl 1',
          'Test/Unencrypted: storage_encrypted is not set: the storage, snapshots and backups of the instance would hold every task result unencrypted; only true is allowed',
          "Test/Unencrypted: password is a deploy-time expression that does not read Secrets Manager (value not shown): the instance's master password passes through parameters, variables or state",
          'Test/Aurora: db_cluster_parameter_group_name is "default.aurora-postgresql16": the cluster uses the default group, where rds.force_ssl is 0 in the aurora-postgresql16 family, so it accepts plaintext connections; allowed: a parameter group with rds.force_ssl 1',
          'Test/AuroraGroup: parameter (rds.force_ssl) is not set, and its default in the "aurora-postgresql16" family is 0: the databases using the group accept plaintext connections; allowed: 1',
        ]),
      );
    });

    test('GIVEN a PostgreSQL 17 instance on its default group (rds.force_ssl 1 from 15), private by the provider default, a cluster instance without publicly_accessible, a password read from a secret version and an unencrypted MySQL instance THEN the guard accepts them', () => {
      const { stack } = tfStack();
      Aspects.of(stack).add(new CeleryEncryptionGuard());
      const key = new KmsKey(stack, 'Key', { enableKeyRotation: true });
      const master = new DataAwsSecretsmanagerSecretVersion(stack, 'Master', {
        secretId: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:master',
      });
      new DbInstance(stack, 'Pg17', {
        engine: 'postgres',
        engineVersion: '17.7',
        instanceClass: 'db.m7g.large',
        allocatedStorage: 20,
        storageEncrypted: true,
        kmsKeyId: key.arn,
        username: 'admin',
        password: Fn.lookup(Fn.jsondecode(master.secretString), 'password', ''),
      });
      const cluster = new RdsCluster(stack, 'Aurora', {
        engine: 'aurora-postgresql',
        engineVersion: '16.4',
        storageEncrypted: true,
        kmsKeyId: key.arn,
        masterUsername: 'admin',
        manageMasterUserPassword: true,
        dbClusterParameterGroupName: new RdsClusterParameterGroup(stack, 'AuroraGroup', {
          family: 'aurora-postgresql16',
          parameter: [{ name: 'rds.force_ssl', value: '1' }],
        }).name,
      });
      new RdsClusterInstance(stack, 'Writer', {
        clusterIdentifier: cluster.id,
        engine: 'aurora-postgresql',
        instanceClass: 'db.r7g.large',
      });
      new DbInstance(stack, 'MySql', {
        engine: 'mysql',
        instanceClass: 'db.m7g.large',
        allocatedStorage: 20,
        username: 'admin',
        manageMasterUserPassword: true,
      });
      expect(CeleryEncryptionGuard.check(stack).violations).toEqual([]);
      expect(() => Testing.synth(stack)).not.toThrow();
    });
  });
});
