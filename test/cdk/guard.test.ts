import { App, Aspects, CfnParameter, Fn, SecretValue, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as amazonmq from 'aws-cdk-lib/aws-amazonmq';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { CeleryEncryptionGuard, CeleryResultBackend, CeleryTransport, RedisAuth } from '../../lib/cdk';
import { TransitEncryptionMode } from '../../lib/cdk';
import { stackWithVpc } from './helpers';

/** The transport with the guard (or not), and the result backend's L1 for escape hatches. */
function transport(guard: CeleryEncryptionGuard | undefined) {
  const { app, stack, vpc } = stackWithVpc();
  const t = new CeleryTransport(stack, 'Celery', { vpc });
  if (guard) Aspects.of(stack).add(guard);
  return { app, stack, vpc, t, cache: t.resultBackendCache!.resource, broker: t.rabbitMqBroker!.resource };
}

/** The violations of one rule, as `path property`. */
function found(stack: Stack, rule: string): string[] {
  return CeleryEncryptionGuard.check(stack)
    .violations.filter((v) => v.rule === rule)
    .map((v) => `${v.path} ${v.property}`);
}

/** The L1 of an L2 security group, for escape hatches. */
const cfnOf = (group: ec2.ISecurityGroup) => group.node.defaultChild as ec2.CfnSecurityGroup;

/** Literal secrets the tests write; no message may contain them. */
const LITERALS = [
  'correct-horse-battery-staple',
  'db-master-literal-pw',
  'hunter2hunter2hunter2',
  'cache-user-literal-pw',
  'plain-secret-value',
];

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

  describe('ingress to the broker and backend groups only on their TLS ports (guard.ingress-tls-ports)', () => {
    test('GIVEN tcp 0-65535 from a private CIDR on the backend group and plaintext AMQP on the broker group (hand-written L1) THEN both are refused, with path, property and fix', () => {
      const { app, stack, t } = transport(new CeleryEncryptionGuard());
      t.resultBackendCache!.securityGroup.addIngressRule(
        ec2.Peer.ipv4('10.0.0.0/8'),
        ec2.Port.tcpRange(0, 65535),
        'debug',
      );
      new ec2.CfnSecurityGroupIngress(stack, 'PlainAmqp', {
        groupId: t.rabbitMqBroker!.securityGroup.securityGroupId,
        ipProtocol: 'tcp',
        fromPort: 5672,
        toPort: 5672,
        cidrIp: '10.0.0.0/16',
      });
      expect(found(stack, 'guard.ingress-tls-ports')).toEqual([
        'Test/Celery/ResultBackend/SecurityGroup/Resource SecurityGroupIngress[0].FromPort',
        'Test/PlainAmqp FromPort',
      ]);
      const message = synthError(app);
      expect(message).toContain(
        'Test/Celery/ResultBackend/SecurityGroup/Resource: SecurityGroupIngress[0].FromPort is 0 and SecurityGroupIngress[0].ToPort is 65535: the rule opens ports other than the TLS port 6380 on a security group of a Celery broker or cache',
      );
      expect(message).toContain(
        'Test/PlainAmqp: FromPort is 5672 and ToPort is 5672: the rule opens ports other than the TLS ports 443, 5671, 15671',
      );
      expect(message).toContain('Fix: remove the rule: allow only tcp on the TLS port 6380');
      expect(message).toContain('[guard.ingress-tls-ports; ');
    });

    test('GIVEN peers and private CIDRs on the TLS ports only THEN the guard accepts them', () => {
      const { app, stack, vpc, t } = transport(new CeleryEncryptionGuard());
      t.allowWorker(new ec2.SecurityGroup(stack, 'Service', { vpc, description: 'a service of the user' }));
      t.rabbitMqBroker!.connections.allowDefaultPortFrom(ec2.Peer.ipv4('10.0.0.0/16'));
      t.rabbitMqBroker!.securityGroup.addIngressRule(ec2.Peer.ipv4('10.0.0.0/16'), ec2.Port.tcp(443), 'console');
      t.resultBackendCache!.connections.allowDefaultPortFrom(ec2.Peer.ipv4('10.1.0.0/16'));
      expect(CeleryEncryptionGuard.check(stack).violations).toEqual([]);
      expect(() => app.synth()).not.toThrow();
    });
  });

  describe('no allow-all egress on the Celery groups (guard.open-egress)', () => {
    test('GIVEN allow-all egress on the workers group, no egress at all on the backend group and every port on the producers group THEN each is refused', () => {
      const { app, stack, t } = transport(new CeleryEncryptionGuard());
      cfnOf(t.workersSecurityGroup).addPropertyOverride('SecurityGroupEgress', [
        { IpProtocol: '-1', CidrIp: '0.0.0.0/0' },
      ]);
      // Without any egress rule, EC2 keeps its default allow-all rule.
      cfnOf(t.resultBackendCache!.securityGroup).addPropertyDeletionOverride('SecurityGroupEgress');
      new ec2.CfnSecurityGroupEgress(stack, 'Wide', {
        groupId: t.producersSecurityGroup.securityGroupId,
        ipProtocol: 'tcp',
        fromPort: 0,
        toPort: 65535,
        cidrIp: '10.0.0.0/8',
      });
      expect(found(stack, 'guard.open-egress')).toEqual([
        'Test/Celery/WorkersSecurityGroup/Resource SecurityGroupEgress[0].CidrIp',
        'Test/Wide FromPort',
        'Test/Celery/ResultBackend/SecurityGroup/Resource SecurityGroupEgress',
      ]);
      const message = synthError(app);
      for (const text of [
        'Test/Celery/WorkersSecurityGroup/Resource: SecurityGroupEgress[0].CidrIp is "0.0.0.0/0": a Celery client group (its egress reaches a broker or cache: the producers, the workers, the library\'s functions) may send any protocol on any port to the whole internet',
        'Test/Celery/ResultBackend/SecurityGroup/Resource: SecurityGroupEgress is not set and no egress rule names the group: EC2 keeps its default rule (all traffic to 0.0.0.0/0 and ::/0) on a security group of a Celery broker or cache',
        'Test/Wide: FromPort is 0 and ToPort is 65535: every port is open outbound on a Celery client group',
        'Fix: remove the rule: the group of a broker or cache needs no egress',
        '[guard.open-egress; CKV_AWS_382',
      ])
        expect(message).toContain(text);
    });

    test("GIVEN a user's own group with allow-all egress allowed in, and a narrow private egress on a Celery group THEN the guard accepts them", () => {
      const { app, stack, vpc, t } = transport(new CeleryEncryptionGuard());
      const service = new ec2.SecurityGroup(stack, 'Service', { vpc, description: 'user', allowAllOutbound: true });
      t.allowProducer(service);
      t.producersSecurityGroup.addEgressRule(ec2.Peer.ipv4('10.0.0.0/16'), ec2.Port.tcp(443), 'an internal API');
      expect(CeleryEncryptionGuard.check(stack).violations).toEqual([]);
      expect(() => app.synth()).not.toThrow();
    });
  });

  describe('no literal password in a broker or cache user (guard.password-literal)', () => {
    test('GIVEN a literal password on the broker user, a hand-written CfnBroker user, a parameter and literal ElastiCache user passwords THEN each is refused without showing it', () => {
      const { app, stack, broker } = transport(new CeleryEncryptionGuard());
      broker.addPropertyOverride('Users.0.Password', 'hunter2hunter2hunter2');
      new amazonmq.CfnBroker(stack, 'Mq', {
        brokerName: 'mq',
        engineType: 'RABBITMQ',
        engineVersion: '3.13',
        hostInstanceType: 'mq.m7g.large',
        deploymentMode: 'SINGLE_INSTANCE',
        publiclyAccessible: false,
        users: [
          { username: 'admin', password: 'correct-horse-battery-staple' },
          {
            username: 'param',
            password: new CfnParameter(stack, 'Pw', { type: 'String', noEcho: true }).valueAsString,
          },
        ],
      });
      new elasticache.CfnUser(stack, 'CacheUser', {
        engine: 'redis',
        userId: 'celery-extra',
        userName: 'celery-extra',
        accessString: 'on ~* +@all',
        authenticationMode: { Type: 'password', Passwords: ['cache-user-literal-pw'] },
      });
      new elasticache.CfnUser(stack, 'LegacyUser', {
        engine: 'redis',
        userId: 'celery-legacy',
        userName: 'celery-legacy',
        accessString: 'on ~* +@all',
        passwords: [Fn.join('', ['cache-user-', 'literal-pw'])],
      });
      expect(found(stack, 'guard.password-literal')).toEqual([
        'Test/Celery/Broker/Resource Users[0].Password',
        'Test/Mq Users[0].Password',
        'Test/Mq Users[1].Password',
        'Test/CacheUser AuthenticationMode.Passwords[0]',
        'Test/LegacyUser Passwords[0]',
      ]);
      const message = synthError(app);
      for (const text of [
        'Test/Celery/Broker/Resource: Users[0].Password is a literal (value not shown): the password of a broker or cache user is readable in the synthesized output',
        'Test/Mq: Users[1].Password is a deploy-time expression that does not read Secrets Manager (value not shown)',
        'Test/CacheUser: AuthenticationMode.Passwords[0] is a literal (value not shown)',
        'Test/LegacyUser: Passwords[0] is a literal (value not shown)',
        'Fix: read it from a Secrets Manager secret at deploy time',
        '[guard.password-literal; cfn_nag F52',
      ])
        expect(message).toContain(text);
      for (const secret of LITERALS) expect(message).not.toContain(secret);
    });

    test('GIVEN RBAC users and hand-written users whose passwords are Secrets Manager dynamic references THEN the guard accepts them', () => {
      const { app, stack } = stackWithVpc();
      Aspects.of(stack).add(new CeleryEncryptionGuard());
      const key = new kms.Key(stack, 'Key');
      const secret = new secretsmanager.Secret(stack, 'Admin', { encryptionKey: key });
      new amazonmq.CfnBroker(stack, 'Mq', {
        brokerName: 'mq',
        engineType: 'RABBITMQ',
        engineVersion: '3.13',
        hostInstanceType: 'mq.m7g.large',
        deploymentMode: 'SINGLE_INSTANCE',
        publiclyAccessible: false,
        users: [{ username: 'admin', password: secret.secretValueFromJson('password').unsafeUnwrap() }],
      });
      new elasticache.CfnUser(stack, 'CacheUser', {
        engine: 'redis',
        userId: 'celery-extra',
        userName: 'celery-extra',
        accessString: 'on ~* +@all',
        authenticationMode: {
          Type: 'password',
          Passwords: [
            '{{resolve:secretsmanager:arn:aws:secretsmanager:eu-west-1:111122223333:secret:u:SecretString:password::}}',
          ],
        },
      });
      expect(CeleryEncryptionGuard.check(stack).violations).toEqual([]);
      expect(() => app.synth()).not.toThrow();
    });

    test('GIVEN the transport with RBAC users on the result backend THEN every user password is a secret reference and the guard finds nothing', () => {
      const { app, stack, vpc } = stackWithVpc();
      new CeleryTransport(stack, 'Celery', {
        vpc,
        resultBackend: CeleryResultBackend.redis({ authToken: RedisAuth.rbacUsers() }),
      });
      Aspects.of(stack).add(new CeleryEncryptionGuard());
      expect(CeleryEncryptionGuard.check(stack)).toEqual({ violations: [], warnings: [] });
      expect(() => app.synth()).not.toThrow();
    });
  });

  describe('no literal SecretString on a secret (guard.secret-string-literal)', () => {
    test('GIVEN a literal SecretString (L2 unsafePlainText, a hand-written CfnSecret, an override of the admin secret) THEN each is refused without showing it', () => {
      const { app, stack, t } = transport(new CeleryEncryptionGuard());
      const key = new kms.Key(stack, 'Key');
      new secretsmanager.Secret(stack, 'Plain', {
        encryptionKey: key,
        secretStringValue: SecretValue.unsafePlainText('plain-secret-value'),
      });
      new secretsmanager.CfnSecret(stack, 'Hand', {
        kmsKeyId: key.keyArn,
        secretString: JSON.stringify({ username: 'u', password: 'correct-horse-battery-staple' }),
      });
      const admin = t.rabbitMqBroker!.node.findChild('AdminCredentials').node.defaultChild as secretsmanager.CfnSecret;
      admin.addPropertyDeletionOverride('GenerateSecretString');
      admin.addPropertyOverride('SecretString', Fn.join('', ['{"password":"', 'hunter2hunter2hunter2', '"}']));
      expect(found(stack, 'guard.secret-string-literal')).toEqual([
        'Test/Celery/Broker/AdminCredentials/Resource SecretString',
        'Test/Plain/Resource SecretString',
        'Test/Hand SecretString',
      ]);
      const message = synthError(app);
      expect(message).toContain(
        "Test/Plain/Resource: SecretString is a literal (value not shown): the secret's value is readable in the synthesized output and in version control. Fix: let Secrets Manager generate it",
      );
      expect(message).toContain('[guard.secret-string-literal; ');
      for (const secret of LITERALS) expect(message).not.toContain(secret);
    });

    test('GIVEN generated secrets and a SecretString built from deploy-time attributes THEN the guard accepts them', () => {
      const { app, stack, cache } = transport(new CeleryEncryptionGuard());
      new secretsmanager.Secret(stack, 'Endpoint', {
        encryptionKey: new kms.Key(stack, 'Key'),
        secretObjectValue: { host: SecretValue.unsafePlainText(cache.attrPrimaryEndPointAddress) },
      });
      expect(CeleryEncryptionGuard.check(stack).violations).toEqual([]);
      expect(() => app.synth()).not.toThrow();
    });
  });

  describe('RDS for PostgreSQL and Aurora PostgreSQL (guard.database-*, guard.public-database, guard.postgres-*)', () => {
    /** A transport with a PostgreSQL result backend and the guard. */
    function postgres(kind: 'instance' | 'aurora') {
      const { app, stack, vpc } = stackWithVpc();
      const t = new CeleryTransport(stack, 'Celery', { vpc, resultBackend: CeleryResultBackend.postgres({ kind }) });
      Aspects.of(stack).add(new CeleryEncryptionGuard());
      return { app, stack, vpc, db: t.resultBackendDatabase! };
    }
    const rules = (stack: Stack) =>
      CeleryEncryptionGuard.check(stack).violations.map((v) => `${v.rule} ${v.path} ${v.property}`);

    test.each(['instance', 'aurora'] as const)(
      "GIVEN the library's PostgreSQL result backend (%s) THEN every RDS rule passes and it synthesizes",
      (kind) => {
        const { app, stack } = postgres(kind);
        expect(CeleryEncryptionGuard.check(stack)).toEqual({ violations: [], warnings: [] });
        expect(() => app.synth()).not.toThrow();
      },
    );

    test('GIVEN escape hatches on the instance and its parameter group THEN each weakening is refused with path, property, value and what is allowed', () => {
      const { app, stack, db } = postgres('instance');
      const instance = db.instance!;
      instance.addPropertyOverride('StorageEncrypted', false);
      instance.addPropertyOverride('KmsKeyId', 'alias/aws/rds');
      instance.addPropertyOverride('PubliclyAccessible', true);
      instance.addPropertyDeletionOverride('ManageMasterUserPassword');
      instance.addPropertyOverride('MasterUserPassword', 'db-master-literal-pw');
      const group = db.parameterGroup as rds.CfnDBParameterGroup;
      group.addPropertyOverride('Parameters.rds\\.force_ssl', '0');
      group.addPropertyOverride('Parameters.ssl_min_protocol_version', 'TLSv1.1');
      expect(rules(stack)).toEqual([
        'guard.public-database Test/Celery/ResultBackend/Resource PubliclyAccessible',
        'guard.database-storage-encryption Test/Celery/ResultBackend/Resource StorageEncrypted',
        'guard.database-cmk Test/Celery/ResultBackend/Resource KmsKeyId',
        'guard.database-password-literal Test/Celery/ResultBackend/Resource MasterUserPassword',
        'guard.postgres-force-ssl Test/Celery/ResultBackend/ParameterGroup Parameters.rds.force_ssl',
        'guard.postgres-tls-version Test/Celery/ResultBackend/ParameterGroup Parameters.ssl_min_protocol_version',
      ]);
      const message = synthError(app);
      for (const text of [
        'Test/Celery/ResultBackend/Resource: PubliclyAccessible is true: the database would get a public address reachable from the internet; only false is allowed. Fix: set PubliclyAccessible to false',
        'Test/Celery/ResultBackend/Resource: StorageEncrypted is false: the storage, snapshots and backups of the instance would hold every task result unencrypted; only true is allowed',
        'Test/Celery/ResultBackend/Resource: KmsKeyId is "alias/aws/rds": the instance\'s storage must be encrypted with a customer-managed KMS key',
        'Test/Celery/ResultBackend/Resource: MasterUserPassword is a literal (value not shown)',
        'Fix: remove MasterUserPassword and let RDS manage the master password in Secrets Manager',
        'Test/Celery/ResultBackend/ParameterGroup: Parameters.rds.force_ssl is "0": rds.force_ssl other than 1 lets the databases using the group accept plaintext connections; allowed: 1',
        'Test/Celery/ResultBackend/ParameterGroup: Parameters.ssl_min_protocol_version is "TLSv1.1": ssl_min_protocol_version below TLSv1.2 lets the server accept TLS 1.0 or 1.1; allowed: "TLSv1.2" or "TLSv1.3"',
        '[guard.postgres-force-ssl; ',
      ])
        expect(message).toContain(text);
      for (const secret of LITERALS) expect(message).not.toContain(secret);
    });

    test('GIVEN hand-written databases on default parameter groups where rds.force_ssl is 0, an Aurora instance without PubliclyAccessible and a group that leaves rds.force_ssl at its default of 0 THEN each is refused', () => {
      const { stack, vpc } = stackWithVpc();
      const key = new kms.Key(stack, 'Key');
      const common = { dbInstanceClass: 'db.m7g.large', allocatedStorage: '20', masterUsername: 'admin' };
      const encrypted = { storageEncrypted: true, kmsKeyId: key.keyArn, manageMasterUserPassword: true };
      new rds.CfnDBInstance(stack, 'Pg14', {
        ...common,
        ...encrypted,
        engine: 'postgres',
        engineVersion: '14.12',
        publiclyAccessible: false,
      });
      new rds.CfnDBInstance(stack, 'Pg13', {
        ...common,
        ...encrypted,
        engine: 'postgres',
        engineVersion: '16.4',
        dbParameterGroupName: 'default.postgres13',
        publiclyAccessible: false,
      });
      new rds.CfnDBInstance(stack, 'Unpinned', {
        ...common,
        ...encrypted,
        engine: 'postgres',
        publiclyAccessible: false,
      });
      const cluster = new rds.CfnDBCluster(stack, 'Aurora', {
        engine: 'aurora-postgresql',
        engineVersion: '16.4',
        masterUsername: 'admin',
        masterUserPassword: new CfnParameter(stack, 'MasterPw', { type: 'String', noEcho: true }).valueAsString,
      });
      new rds.CfnDBInstance(stack, 'AuroraWriter', {
        engine: 'aurora-postgresql',
        dbInstanceClass: 'db.r7g.large',
        dbClusterIdentifier: cluster.ref,
      });
      new rds.CfnDBClusterParameterGroup(stack, 'AuroraGroup', {
        family: 'aurora-postgresql16',
        description: 'no rds.force_ssl',
        parameters: { ssl_min_protocol_version: 'TLSv1.2' },
      });
      void vpc;
      expect(rules(stack)).toEqual([
        'guard.postgres-force-ssl Test/Pg14 DBParameterGroupName',
        'guard.postgres-force-ssl Test/Pg13 DBParameterGroupName',
        'guard.postgres-force-ssl Test/Unpinned DBParameterGroupName',
        'guard.database-storage-encryption Test/Aurora StorageEncrypted',
        'guard.database-cmk Test/Aurora KmsKeyId',
        'guard.database-password-literal Test/Aurora MasterUserPassword',
        'guard.postgres-force-ssl Test/Aurora DBClusterParameterGroupName',
        'guard.public-database Test/AuroraWriter PubliclyAccessible',
        'guard.postgres-force-ssl Test/AuroraGroup Parameters.rds.force_ssl',
      ]);
      const text = CeleryEncryptionGuard.check(stack).violations.map((v) => `${v.path}: ${v.message}`);
      expect(text).toEqual(
        expect.arrayContaining([
          'Test/Pg14: DBParameterGroupName is not set: the instance uses the default group, where rds.force_ssl is 0 on PostgreSQL 14, so it accepts plaintext connections; allowed: a parameter group with rds.force_ssl 1',
          'Test/Pg13: DBParameterGroupName is "default.postgres13": the instance uses the default group, where rds.force_ssl is 0 in the postgres13 family, so it accepts plaintext connections; allowed: a parameter group with rds.force_ssl 1',
          'Test/Unpinned: DBParameterGroupName is not set: the instance uses the default group of a major version the guard cannot tell (EngineVersion not set; rds.force_ssl is 1 by default from PostgreSQL 15 only), so it accepts plaintext connections; allowed: a parameter group with rds.force_ssl 1',
          'Test/Aurora: DBClusterParameterGroupName is not set: the cluster uses the default group, where rds.force_ssl is 0 on Aurora PostgreSQL, so it accepts plaintext connections; allowed: a parameter group with rds.force_ssl 1',
          "Test/Aurora: MasterUserPassword is a deploy-time expression that does not read Secrets Manager (value not shown): the cluster's master password passes through parameters, variables or state",
          'Test/AuroraWriter: PubliclyAccessible is not set: RDS then decides from the VPC and the subnet group, and makes the instance public where they route to an internet gateway; only false is allowed',
          'Test/AuroraGroup: Parameters.rds.force_ssl is not set, and its default in the "aurora-postgresql16" family is 0: the databases using the group accept plaintext connections; allowed: 1',
        ]),
      );
    });

    test('GIVEN an L2 PostgreSQL 17 instance on its default group (rds.force_ssl 1 from 15), encrypted with a CMK, private, with a generated secret, and an unencrypted MySQL instance THEN the guard accepts them', () => {
      const { app, stack, vpc } = stackWithVpc();
      Aspects.of(stack).add(new CeleryEncryptionGuard());
      const key = new kms.Key(stack, 'Key');
      new rds.DatabaseInstance(stack, 'Pg', {
        engine: rds.DatabaseInstanceEngine.postgres({ version: rds.PostgresEngineVersion.VER_17 }),
        vpc,
        vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
        storageEncryptionKey: key,
        credentials: rds.Credentials.fromGeneratedSecret('celery', {
          secretName: 'pg-master',
          encryptionKey: key,
        }),
      });
      new rds.CfnDBInstance(stack, 'MySql', {
        engine: 'mysql',
        dbInstanceClass: 'db.m7g.large',
        allocatedStorage: '20',
        masterUsername: 'admin',
        manageMasterUserPassword: true,
        publiclyAccessible: false,
      });
      new rds.CfnDBParameterGroup(stack, 'Pg16Group', {
        family: 'postgres16',
        description: 'rds.force_ssl left at its default of 1',
        parameters: { ssl_min_protocol_version: 'TLSv1.3' },
      });
      expect(CeleryEncryptionGuard.check(stack).violations).toEqual([]);
      expect(() => app.synth()).not.toThrow();
    });
  });
});
