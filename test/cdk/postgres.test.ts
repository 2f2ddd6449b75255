import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import {
  CeleryResultBackend,
  CeleryRole,
  CeleryTransport,
  PostgresDatabase,
  PostgresDatabaseKind,
} from '../../lib/cdk';
import { stackWithVpc, templateOf } from './helpers';
import { thrown } from '../thrown';

const ref = (id: string) => ({ Ref: id });
const arnOf = (id: string) => ({ 'Fn::GetAtt': [id, 'Arn'] });
const groupIdOf = (id: string) => ({ 'Fn::GetAtt': [id, 'GroupId'] });

function postgresTransport(options: Parameters<typeof CeleryResultBackend.postgres>[0] = {}) {
  const { stack, vpc } = stackWithVpc();
  const transport = new CeleryTransport(stack, 'Celery', { vpc, resultBackend: CeleryResultBackend.postgres(options) });
  const db = transport.resultBackendDatabase!;
  const { assert, json } = templateOf(stack);
  const id = (c: { node: { defaultChild?: unknown } } | undefined) => stack.getLogicalId((c as any).node.defaultChild);
  return { stack, vpc, transport, db, assert, json, id };
}

describe('CeleryResultBackend.postgres() on the CDK', () => {
  test('GIVEN defaults THEN an RDS for PostgreSQL instance with TLS forced by its parameter group', () => {
    const { db, assert, json, stack } = postgresTransport();
    const pgId = stack.getLogicalId(db.parameterGroup!);
    assert.hasResourceProperties('AWS::RDS::DBParameterGroup', {
      Family: 'postgres17',
      Parameters: { 'rds.force_ssl': '1', ssl_min_protocol_version: 'TLSv1.2' },
    });
    const instances = Object.values(json.Resources).filter((r: any) => r.Type === 'AWS::RDS::DBInstance');
    expect(instances).toHaveLength(1);
    expect((instances[0] as any).Properties.DBParameterGroupName).toEqual(ref(pgId));
  });

  test('GIVEN defaults THEN storage and the managed master secret use the new customer-managed key', () => {
    const { db, assert, stack } = postgresTransport();
    const keyId = stack.getLogicalId(db.encryptionKey.node.defaultChild as any);
    assert.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    assert.hasResource('AWS::KMS::Key', { DeletionPolicy: 'Retain' });
    assert.hasResourceProperties('AWS::RDS::DBInstance', {
      Engine: 'postgres',
      EngineVersion: '17.7',
      DBInstanceClass: 'db.m7g.large',
      StorageEncrypted: true,
      KmsKeyId: arnOf(keyId),
      ManageMasterUserPassword: true,
      MasterUserSecret: { KmsKeyId: arnOf(keyId) },
      MasterUserPassword: Match.absent(),
      CACertificateIdentifier: 'rds-ca-rsa2048-g1',
      PubliclyAccessible: false,
      AutoMinorVersionUpgrade: true,
      MultiAZ: true,
      Port: '5432',
      EnableCloudwatchLogsExports: ['postgresql', 'upgrade'],
      EnableIAMDatabaseAuthentication: true,
    });
  });

  test('GIVEN defaults THEN deletion protection, backups and a snapshot on delete and replace', () => {
    const { assert } = postgresTransport();
    assert.hasResource('AWS::RDS::DBInstance', {
      DeletionPolicy: 'Snapshot',
      UpdateReplacePolicy: 'Snapshot',
      Properties: Match.objectLike({
        DeletionProtection: true,
        BackupRetentionPeriod: 15,
        DeleteAutomatedBackups: false,
        CopyTagsToSnapshot: true,
      }),
    });
  });

  test('GIVEN defaults THEN two role secrets, {username, password}, alphanumeric, encrypted with the key', () => {
    const { db, json, stack } = postgresTransport();
    const keyId = stack.getLogicalId(db.encryptionKey.node.defaultChild as any);
    const secrets = Object.entries(json.Resources).filter(
      ([id, r]: [string, any]) => r.Type === 'AWS::SecretsManager::Secret' && id.startsWith('CeleryResultBackend'),
    );
    expect(
      secrets.map(([, r]: [string, any]) => JSON.parse(r.Properties.GenerateSecretString.SecretStringTemplate)),
    ).toEqual([{ username: 'celery_worker' }, { username: 'celery_producer' }]);
    for (const [, r] of secrets as [string, any][]) {
      expect(r.Properties.KmsKeyId).toEqual(arnOf(keyId));
      expect(r.Properties.GenerateSecretString).toMatchObject({
        GenerateStringKey: 'password',
        ExcludePunctuation: true,
        IncludeSpace: false,
        PasswordLength: 32,
      });
      expect(r.DeletionPolicy).toBe('Retain');
    }
  });

  test('GIVEN defaults THEN the database group opens 5432 from the producer, worker, users-function and canary groups only', () => {
    const { db, json, stack, transport } = postgresTransport();
    const dbGroup = stack.getLogicalId(db.securityGroup.node.defaultChild as any);
    const ingress = Object.values(json.Resources).filter(
      (r: any) =>
        r.Type === 'AWS::EC2::SecurityGroupIngress' &&
        JSON.stringify(r.Properties.GroupId) === JSON.stringify(groupIdOf(dbGroup)),
    ) as any[];
    const sources = [
      transport.producersSecurityGroup,
      transport.workersSecurityGroup,
      db.users.securityGroup,
      transport.monitoring!.canary!.securityGroup,
    ].map((g) => JSON.stringify(groupIdOf(stack.getLogicalId(g.node.defaultChild as any))));
    expect(ingress).toHaveLength(4);
    expect(ingress.map((r) => JSON.stringify(r.Properties.SourceSecurityGroupId)).sort()).toEqual([...sources].sort());
    for (const r of ingress) {
      expect(r.Properties).toMatchObject({ IpProtocol: 'tcp', FromPort: 5432, ToPort: 5432 });
      expect(r.Properties.CidrIp).toBeUndefined();
      expect(sources).toContain(JSON.stringify(r.Properties.SourceSecurityGroupId));
    }
    const group = json.Resources[dbGroup] as any;
    expect(group.Properties.SecurityGroupIngress).toBeUndefined();
    // allowAllOutbound false: one disallow-all egress placeholder, no open egress.
    expect(JSON.stringify(group.Properties.SecurityGroupEgress)).not.toContain('0.0.0.0/0"');
    expect(JSON.stringify(json)).not.toMatch(/"CidrIp":"0\.0\.0\.0\/0"/);
  });

  test('GIVEN defaults THEN its logs go to retained, CMK-encrypted groups named as RDS names them, made first', () => {
    const { db, json, stack } = postgresTransport();
    const keyId = stack.getLogicalId(db.encryptionKey.node.defaultChild as any);
    for (const type of ['postgresql', 'upgrade']) {
      const group = db.logGroups[type].node.defaultChild as any;
      const r = json.Resources[stack.getLogicalId(group)] as any;
      expect(r.Properties).toMatchObject({
        LogGroupName: `/aws/rds/instance/${db.databaseIdentifier}/${type}`,
        KmsKeyId: arnOf(keyId),
        RetentionInDays: 365,
      });
      expect((json.Resources[stack.getLogicalId(db.instance!)] as any).DependsOn).toContain(stack.getLogicalId(group));
    }
  });

  test('GIVEN defaults THEN each role gets a postgresql endpoint with its own user and secret; the manifest has no secret', () => {
    const { transport, db, stack } = postgresTransport();
    for (const role of [CeleryRole.WORKER, CeleryRole.PRODUCER]) {
      const backend = transport.celeryConfigFor(role).model.resultBackend!;
      expect(backend).toMatchObject({
        scheme: 'postgresql',
        engine: 'postgresql',
        port: 5432,
        username: role === CeleryRole.WORKER ? 'celery_worker' : 'celery_producer',
        secretUsernameField: 'username',
        caCerts: '/etc/ssl/certs/rds-global-bundle.pem',
      });
      expect(stack.resolve(backend.secretArn)).toEqual(
        ref(stack.getLogicalId(db.secretFor(role).node.defaultChild as any)),
      );
      // The database name as the users custom resource reports it: clients come after the roles exist.
      expect(stack.resolve(backend.database)).toEqual({
        'Fn::GetAtt': [stack.getLogicalId(db.users.resource.node.defaultChild as any), 'Database'],
      });
      expect(stack.resolve(backend.host)).toEqual({
        'Fn::GetAtt': [stack.getLogicalId(db.instance!), 'Endpoint.Address'],
      });
    }
  });

  test('GIVEN grantReadCredentials THEN the grantee reads that role secret by ARN only', () => {
    const { stack, vpc } = stackWithVpc();
    const transport = new CeleryTransport(stack, 'Celery', { vpc, resultBackend: CeleryResultBackend.postgres() });
    const db = transport.resultBackendDatabase!;
    const role = new iam.Role(stack, 'Task', { assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com') });
    transport.grantReadCredentials(role, CeleryRole.PRODUCER);
    const { json } = templateOf(stack);
    const policy = Object.values(json.Resources).find(
      (r: any) =>
        r.Type === 'AWS::IAM::Policy' &&
        JSON.stringify(r.Properties.Roles).includes(stack.getLogicalId(role.node.defaultChild as any)),
    ) as any;
    const text = JSON.stringify(policy.Properties.PolicyDocument);
    expect(text).toContain(stack.getLogicalId(db.secretFor(CeleryRole.PRODUCER).node.defaultChild as any));
    expect(text).not.toContain(stack.getLogicalId(db.secretFor(CeleryRole.WORKER).node.defaultChild as any));
    expect(text).not.toContain('"Resource":"*"');
  });

  test('GIVEN kind aurora THEN a cluster with a cluster parameter group forcing TLS, a writer and a reader', () => {
    const { assert, json, db, stack } = postgresTransport({ kind: PostgresDatabaseKind.AURORA });
    const keyId = stack.getLogicalId(db.encryptionKey.node.defaultChild as any);
    assert.hasResourceProperties('AWS::RDS::DBClusterParameterGroup', {
      Family: 'aurora-postgresql17',
      Parameters: { 'rds.force_ssl': '1', ssl_min_protocol_version: 'TLSv1.2' },
    });
    assert.hasResource('AWS::RDS::DBCluster', {
      DeletionPolicy: 'Snapshot',
      Properties: Match.objectLike({
        Engine: 'aurora-postgresql',
        DBClusterParameterGroupName: ref(stack.getLogicalId(db.parameterGroup!)),
        StorageEncrypted: true,
        KmsKeyId: arnOf(keyId),
        ManageMasterUserPassword: true,
        MasterUserSecret: { KmsKeyId: arnOf(keyId) },
        DeletionProtection: true,
        BackupRetentionPeriod: 15,
        EnableIAMDatabaseAuthentication: true,
        EnableCloudwatchLogsExports: ['postgresql'],
        Port: 5432,
      }),
    });
    const instances = Object.values(json.Resources).filter((r: any) => r.Type === 'AWS::RDS::DBInstance') as any[];
    expect(instances).toHaveLength(2);
    for (const i of instances)
      expect(i.Properties).toMatchObject({
        DBInstanceClass: 'db.r7g.large',
        PubliclyAccessible: false,
        CACertificateIdentifier: 'rds-ca-rsa2048-g1',
        DBClusterIdentifier: ref(stack.getLogicalId(db.cluster!)),
      });
  });

  test('GIVEN deletionProtection false THEN a warning that names the risk', () => {
    const { stack } = postgresTransport({ deletionProtection: false });
    const warnings = Annotations.fromStack(stack).findWarning(
      '*',
      Match.stringLikeRegexp('deletionProtection is false'),
    );
    expect(warnings).toHaveLength(1);
    // The loosening the warning names is what the template does.
    const [instance] = Object.values(templateOf(stack).json.Resources).filter(
      (r: any) => r.Type === 'AWS::RDS::DBInstance',
    ) as any[];
    expect(instance.Properties.DeletionProtection).toBe(false);
  });

  test('GIVEN bad inputs THEN one error naming each prop under resultBackend', () => {
    const { stack, vpc } = stackWithVpc();
    const err = thrown(
      () =>
        new CeleryTransport(stack, 'Celery', {
          vpc,
          resultBackend: CeleryResultBackend.postgres({
            engineVersion: '12.4',
            backupRetentionDays: 3,
            instanceClass: 'db.m4.large',
            allocatedStorageGiB: 10,
          }),
        }),
    );
    expect(err.issues.map((i) => i.prop).sort()).toEqual([
      'resultBackend.allocatedStorageGiB',
      'resultBackend.backupRetentionDays',
      'resultBackend.engineVersion',
      'resultBackend.instanceClass',
    ]);
    expect(err.message).toContain('resultBackend.engineVersion "12.4" is not supported for RDS for PostgreSQL');
    expect(err.message).toContain('resultBackend.backupRetentionDays 3 is out of range: allowed 7 to 35');
  });

  test('GIVEN an existing database THEN only its rules and the two role secrets are added', () => {
    const { stack, vpc } = stackWithVpc();
    const sg = ec2.SecurityGroup.fromSecurityGroupId(stack, 'DbGroup', 'sg-0123456789abcdef0', { mutable: true });
    const master = secretsmanager.Secret.fromSecretNameV2(stack, 'Master', 'rds!db-1234');
    const db = new PostgresDatabase(stack, 'Db', {
      vpc,
      existingDatabase: {
        endpointAddress: 'db.example.eu-west-1.rds.amazonaws.com',
        masterSecret: master,
        securityGroup: sg,
      },
    });
    const client = new ec2.SecurityGroup(stack, 'Client', { vpc, allowAllOutbound: false });
    db.connections.allowDefaultPortFrom(client);
    const { json } = templateOf(stack);
    const types = Object.values(json.Resources).map((r: any) => r.Type);
    expect(types.filter((t) => t.startsWith('AWS::RDS::'))).toEqual([]);
    expect(types.filter((t) => t === 'AWS::SecretsManager::Secret')).toHaveLength(2);
    const ingress = Object.values(json.Resources).filter(
      (r: any) => r.Type === 'AWS::EC2::SecurityGroupIngress' && r.Properties.GroupId === 'sg-0123456789abcdef0',
    ) as any[];
    expect(ingress.map((r) => r.Properties.FromPort)).toEqual([5432, 5432]);
    // The users function reads the given master secret.
    const policy = Object.values(json.Resources).find(
      (r: any) =>
        r.Type === 'AWS::IAM::ManagedPolicy' && JSON.stringify(r.Properties.Description).includes('PostgreSQL roles'),
    ) as any;
    expect(JSON.stringify(policy.Properties.PolicyDocument)).toContain('rds!db-1234');
    expect(
      () =>
        new PostgresDatabase(stack, 'Db2', {
          vpc,
          engineVersion: '17.7',
          existingDatabase: { endpointAddress: 'db.example', masterSecret: master, securityGroup: sg },
        }),
    ).toThrow(/engineVersion "17.7" does not apply to an existing database/);
  });

  test('GIVEN defaults THEN the users function rotates exactly the two role secrets and reads the master one, in the VPC', () => {
    const { json, db, stack } = postgresTransport();
    const fnId = stack.getLogicalId(db.users.function.node.defaultChild as any);
    const fn = json.Resources[fnId] as any;
    expect(fn.Properties.Handler).toBe('index.onEvent');
    expect(fn.Properties.VpcConfig.SecurityGroupIds).toEqual([
      groupIdOf(stack.getLogicalId(db.users.securityGroup.node.defaultChild as any)),
    ]);
    const policy = Object.values(json.Resources).find(
      (r: any) =>
        r.Type === 'AWS::IAM::ManagedPolicy' &&
        JSON.stringify(r.Properties.Roles).includes(fnId.replace(/[0-9A-F]{8}$/, '')),
    ) as any;
    const statements = policy.Properties.PolicyDocument.Statement as any[];
    const master = { 'Fn::GetAtt': [stack.getLogicalId(db.instance!), 'MasterUserSecret.SecretArn'] };
    const worker = ref(stack.getLogicalId(db.secretFor(CeleryRole.WORKER).node.defaultChild as any));
    const producer = ref(stack.getLogicalId(db.secretFor(CeleryRole.PRODUCER).node.defaultChild as any));
    // Everything but its logs and the network interfaces every VPC function needs, exactly.
    expect(statements.filter((st) => !/^(logs|ec2):/.test([st.Action].flat()[0]))).toEqual([
      {
        Effect: 'Allow',
        Action: [
          'secretsmanager:DescribeSecret',
          'secretsmanager:GetSecretValue',
          'secretsmanager:PutSecretValue',
          'secretsmanager:UpdateSecretVersionStage',
        ],
        Resource: [worker, producer],
      },
      { Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: master },
      { Effect: 'Allow', Action: 'secretsmanager:GetRandomPassword', Resource: '*' },
      {
        Effect: 'Allow',
        Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
        Resource: arnOf(stack.getLogicalId(db.encryptionKey.node.defaultChild as any)),
        Condition: { StringEquals: { 'kms:ViaService': 'secretsmanager.eu-west-1.amazonaws.com' } },
      },
    ]);
    // The only other "*" is the network-interface statement every VPC function needs.
    for (const st of statements.filter((x) => x.Resource === '*' && x.Action !== 'secretsmanager:GetRandomPassword'))
      expect(st.Action.every((a: string) => a.startsWith('ec2:'))).toBe(true);
    // The Secrets Manager endpoint lets this role do there what its policy allows, nothing more.
    const endpoint = json.Resources[stack.getLogicalId(db.users.secretsManagerEndpoint.node.defaultChild as any)];
    expect(
      endpoint.Properties.PolicyDocument.Statement.map((st: any) => [st.Principal.AWS, st.Action, st.Resource]),
    ).toEqual([
      [
        arnOf(stack.getLogicalId(db.users.function.role!.node.defaultChild as any)),
        statements[0].Action,
        [worker, producer],
      ],
      [
        arnOf(stack.getLogicalId(db.users.function.role!.node.defaultChild as any)),
        'secretsmanager:GetSecretValue',
        master,
      ],
      [
        arnOf(stack.getLogicalId(db.users.function.role!.node.defaultChild as any)),
        'secretsmanager:GetRandomPassword',
        '*',
      ],
    ]);
    // What a rotation event does not carry comes from the environment: ARNs and names, no secret value.
    expect(fn.Properties.Environment.Variables).toEqual({
      DB_HOST: { 'Fn::GetAtt': [stack.getLogicalId(db.instance!), 'Endpoint.Address'] },
      DB_PORT: '5432',
      DB_NAME: 'celery',
      DB_SCHEMA: 'celery',
      MASTER_SECRET_ARN: master,
      WORKER_SECRET_ARN: worker,
      WORKER_USERNAME: 'celery_worker',
      PRODUCER_SECRET_ARN: producer,
      PRODUCER_USERNAME: 'celery_producer',
      PASSWORD_LENGTH: '32',
      SECRETS_MANAGER_ENDPOINT: expect.anything(),
    });
    // Its group reaches the database's 5432 and the Secrets Manager endpoint's 443, nothing else.
    const egress = Object.values(json.Resources).filter(
      (r: any) =>
        r.Type === 'AWS::EC2::SecurityGroupEgress' &&
        JSON.stringify(r.Properties.GroupId).includes(
          stack.getLogicalId(db.users.securityGroup.node.defaultChild as any),
        ),
    ) as any[];
    expect(egress.map((r) => r.Properties.FromPort).sort()).toEqual([443, 5432]);
    const resource = Object.values(json.Resources).find((r: any) => r.Type === 'Custom::CeleryPostgresUsers') as any;
    expect(resource.Properties).toMatchObject({ Database: 'celery', Schema: 'celery', Port: 5432 });
    expect(resource.DependsOn).toContain(stack.getLogicalId(db.instance!));
    expect(JSON.stringify(resource.Properties)).not.toMatch(/password/i);
  });

  test('GIVEN defaults THEN both role secrets rotate every 30 days through the users function, after the roles exist', () => {
    const { json, db, stack } = postgresTransport();
    const fnId = stack.getLogicalId(db.users.function.node.defaultChild as any);
    const schedules = Object.entries(json.Resources).filter(
      ([, r]: [string, any]) => r.Type === 'AWS::SecretsManager::RotationSchedule',
    ) as [string, any][];
    const roleSecrets = [CeleryRole.WORKER, CeleryRole.PRODUCER].map((r) =>
      stack.getLogicalId(db.secretFor(r).node.defaultChild as any),
    );
    const ours = schedules.filter(([, r]) => roleSecrets.includes(r.Properties.SecretId.Ref));
    expect(ours.map(([, r]) => r.Properties.SecretId.Ref)).toEqual(roleSecrets);
    expect(db.users.rotationSchedules).toHaveLength(2);
    const permissions = Object.entries(json.Resources).filter(
      ([, r]: [string, any]) =>
        r.Type === 'AWS::Lambda::Permission' && JSON.stringify(r.Properties.FunctionName).includes(fnId),
    ) as [string, any][];
    // Secrets Manager may invoke it (and only it: the provider framework's permission is the provider's own).
    expect(permissions.map(([, p]) => p.Properties)).toEqual([
      { Action: 'lambda:InvokeFunction', FunctionName: arnOf(fnId), Principal: 'secretsmanager.amazonaws.com' },
    ]);
    for (const [, r] of ours) {
      expect(r.Properties).toEqual({
        SecretId: expect.anything(),
        RotationLambdaARN: arnOf(fnId),
        RotationRules: { ScheduleExpression: 'rate(30 days)' },
      });
      // The first rotation runs when the schedule is created: after the roles and twins exist, with the permissions.
      expect(r.DependsOn).toEqual(
        expect.arrayContaining([
          stack.getLogicalId(db.users.resource.node.defaultChild as any),
          permissions[0][0],
          stack.getLogicalId(db.users.node.findChild('FunctionPolicy').node.defaultChild as any),
        ]),
      );
    }
    expect(
      templateOf(postgresTransport({ rotationDays: 7 }).stack).json.Resources[ours[0][0]].Properties.RotationRules,
    ).toEqual({ ScheduleExpression: 'rate(7 days)' });
  });

  test('GIVEN rotationDays out of range THEN an error naming the prop under resultBackend', () => {
    const { stack, vpc } = stackWithVpc();
    const err = thrown(
      () =>
        new CeleryTransport(stack, 'Celery', {
          vpc,
          resultBackend: CeleryResultBackend.postgres({ rotationDays: 91 }),
        }),
    );
    expect(err.issues.map((i) => i.prop)).toEqual(['resultBackend.rotationDays']);
    expect(err.message).toContain(
      'resultBackend.rotationDays 91 is not allowed: use a whole number of days from 1 to 90',
    );
  });

  test('GIVEN monitoring on THEN RDS alarms per instance (free storage only for an RDS instance); the canary checks it', () => {
    const alarmsOf = (kind: 'instance' | 'aurora') => {
      const { json, db } = postgresTransport({ kind });
      const alarms = Object.values(json.Resources).filter(
        (r: any) => r.Type === 'AWS::CloudWatch::Alarm' && r.Properties.Namespace === 'AWS/RDS',
      ) as any[];
      const canary = Object.values(json.Resources).find(
        (r: any) => r.Type === 'AWS::Lambda::Function' && r.Properties.Handler === 'index.handler',
      ) as any;
      // CANARY_ENDPOINTS is JSON joined with the endpoints' deploy-time addresses: read with a placeholder for them.
      const value = canary.Properties.Environment.Variables.CANARY_ENDPOINTS;
      const text =
        typeof value === 'string'
          ? value
          : (value['Fn::Join'][1] as unknown[]).map((p) => (typeof p === 'string' ? p : 'deploy-time')).join('');
      return { db, alarms, endpoints: JSON.parse(text) as unknown[] };
    };
    const instance = alarmsOf('instance');
    expect(
      instance.alarms.map((a) => [a.Properties.MetricName, a.Properties.Dimensions, a.Properties.Threshold]).sort(),
    ).toEqual(
      [
        ['CPUUtilization', [{ Name: 'DBInstanceIdentifier', Value: instance.db.databaseIdentifier }], 90],
        ['DatabaseConnections', [{ Name: 'DBInstanceIdentifier', Value: instance.db.databaseIdentifier }], 500],
        ['FreeStorageSpace', [{ Name: 'DBInstanceIdentifier', Value: instance.db.databaseIdentifier }], 2147483648],
      ].sort(),
    );
    // The canary checks the database too (TLS after an SSLRequest), against the runtime's Amazon CAs.
    expect(instance.endpoints).toEqual([
      expect.objectContaining({ name: 'broker', protocol: 'amqp' }),
      expect.objectContaining({
        name: 'resultBackend',
        protocol: 'postgres',
        port: 5432,
        caFile: '/var/runtime/ca-cert.pem',
        mutualTls: false,
      }),
    ]);
    const aurora = alarmsOf('aurora');
    expect(aurora.alarms.map((a) => `${a.Properties.MetricName} ${a.Properties.Dimensions[0].Value}`).sort()).toEqual(
      [1, 2]
        .flatMap((n) => [
          `CPUUtilization ${aurora.db.databaseIdentifier}-${n}`,
          `DatabaseConnections ${aurora.db.databaseIdentifier}-${n}`,
        ])
        .sort(),
    );
  });
});
