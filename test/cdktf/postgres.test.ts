import { Testing } from 'cdktf';
import 'cdktf/lib/testing/adapters/jest';
import {
  CeleryResultBackend,
  CeleryRole,
  CeleryTransport,
  PostgresDatabase,
  PostgresDatabaseKind,
} from '../../lib/cdktf';
import { VPC_ID, subnets, synthJson, tfStack, warningsOf } from './helpers';
import { Block, TfJson, ofType, reference } from './security';
import { thrown } from '../thrown';

Testing.setupJest();

const placement = { vpcId: VPC_ID, subnets: subnets() };

function postgresTransport(options: Parameters<typeof CeleryResultBackend.postgres>[0] = {}) {
  const { stack } = tfStack();
  const transport = new CeleryTransport(stack, 'Celery', {
    ...placement,
    resultBackend: CeleryResultBackend.postgres(options),
  });
  const { json } = synthJson(stack);
  return { stack, transport, db: transport.resultBackendDatabase!, json };
}

const one = (json: TfJson, type: string): [string, Block] => {
  const all = ofType(json, type);
  expect(all).toHaveLength(1);
  return all[0];
};
const refTo = (value: unknown) => reference(value)?.slice(0, 2).join('.');

describe('CeleryResultBackend.postgres() on Terraform', () => {
  test('GIVEN defaults THEN an aws_db_instance using a parameter group that forces TLS', () => {
    const { json } = postgresTransport();
    const [pgName, pg] = one(json, 'aws_db_parameter_group');
    expect(pg.family).toBe('postgres17');
    expect(pg.parameter).toEqual([
      { name: 'rds.force_ssl', value: '1', apply_method: 'pending-reboot' },
      { name: 'ssl_min_protocol_version', value: 'TLSv1.2', apply_method: 'pending-reboot' },
    ]);
    const [, db] = one(json, 'aws_db_instance');
    expect(db.parameter_group_name).toBe(`\${aws_db_parameter_group.${pgName}.name}`);
  });

  test('GIVEN defaults THEN storage and the managed master secret use the new customer-managed key', () => {
    const { json } = postgresTransport();
    const [, db] = one(json, 'aws_db_instance');
    const key = refTo(db.kms_key_id);
    expect(key).toMatch(/^aws_kms_key\.Celery_ResultBackend_Key/);
    expect(refTo(db.master_user_secret_kms_key_id)).toBe(key);
    expect(db).toMatchObject({
      engine: 'postgres',
      engine_version: '17.7',
      instance_class: 'db.m7g.large',
      storage_encrypted: true,
      manage_master_user_password: true,
      ca_cert_identifier: 'rds-ca-rsa2048-g1',
      publicly_accessible: false,
      auto_minor_version_upgrade: true,
      multi_az: true,
      port: 5432,
      iam_database_authentication_enabled: true,
      enabled_cloudwatch_logs_exports: ['postgresql', 'upgrade'],
    });
    expect(db.password).toBeUndefined();
    const [, k] = ofType(json, 'aws_kms_key').find(([n]) => key === `aws_kms_key.${n}`)!;
    expect(k).toMatchObject({ enable_key_rotation: true, lifecycle: { prevent_destroy: true } });
  });

  test('GIVEN defaults THEN deletion protection, backups and a final snapshot', () => {
    const { json } = postgresTransport();
    const [, db] = one(json, 'aws_db_instance');
    expect(db).toMatchObject({
      deletion_protection: true,
      backup_retention_period: 15,
      skip_final_snapshot: false,
      final_snapshot_identifier: `${db.identifier}-final`,
      delete_automated_backups: false,
      copy_tags_to_snapshot: true,
    });
  });

  test('GIVEN defaults THEN two role secrets generated at apply time, encrypted with the key, no value in the JSON', () => {
    const { json, text, db } = (() => {
      const r = postgresTransport();
      return { ...r, text: JSON.stringify(r.json) };
    })();
    const [, instance] = one(json, 'aws_db_instance');
    const secrets = ofType(json, 'aws_secretsmanager_secret').filter(([n]) => n.startsWith('Celery_ResultBackend'));
    expect(secrets).toHaveLength(2);
    for (const [, s] of secrets) expect(refTo(s.kms_key_id)).toBe(refTo(instance.kms_key_id));
    for (const role of [CeleryRole.WORKER, CeleryRole.PRODUCER]) {
      const version = db.secretFor(role).secretVersion;
      const v = ofType(json, 'aws_secretsmanager_secret_version').find(([n]) => n === version.friendlyUniqueId)![1];
      expect(v.secret_string_wo).toContain(
        `"username" = "${role === CeleryRole.WORKER ? 'celery_worker' : 'celery_producer'}"`,
      );
      expect(v.secret_string_wo).toMatch(/"password" = data\.aws_secretsmanager_random_password\./);
      expect(v.secret_string).toBeUndefined();
    }
    const generators = Object.entries(json.data?.aws_secretsmanager_random_password ?? {}).filter(([n]) =>
      n.startsWith('Celery_ResultBackend'),
    );
    expect(generators.map(([, g]) => g)).toEqual([
      expect.objectContaining({ password_length: 32, exclude_punctuation: true, include_space: false }),
      expect.objectContaining({ password_length: 32, exclude_punctuation: true, include_space: false }),
    ]);
    expect(text).not.toMatch(/"password":"[A-Za-z0-9]{8,}"/);
  });

  test('GIVEN defaults THEN the database group opens 5432 from the producer, worker, users-function and canary groups only', () => {
    const { json, db, transport } = postgresTransport();
    const group = db.securityGroup!.resource.friendlyUniqueId;
    const ingress = ofType(json, 'aws_vpc_security_group_ingress_rule').filter(
      ([, r]) => r.security_group_id === `\${aws_security_group.${group}.id}`,
    );
    const sources = [
      transport.producersSecurityGroup,
      transport.workersSecurityGroup,
      db.users.securityGroup,
      transport.monitoring!.canary!.securityGroup,
    ].map((g) => `\${aws_security_group.${g.resource.friendlyUniqueId}.id}`);
    expect(ingress).toHaveLength(4);
    expect(ingress.map(([, r]) => r.referenced_security_group_id).sort()).toEqual([...sources].sort());
    for (const [, r] of ingress) {
      expect(r).toMatchObject({ ip_protocol: 'tcp', from_port: 5432, to_port: 5432 });
      expect(r.cidr_ipv4).toBeUndefined();
      expect(sources).toContain(r.referenced_security_group_id);
    }
    expect(
      ofType(json, 'aws_vpc_security_group_egress_rule').filter(([, r]) => r.security_group_id.includes(group)),
    ).toEqual([]);
    expect(JSON.stringify(json)).not.toContain('0.0.0.0/0');
  });

  test('GIVEN defaults THEN its logs go to kept, CMK-encrypted groups named as RDS names them, made first', () => {
    const { json, db } = postgresTransport();
    const [dbName, instance] = one(json, 'aws_db_instance');
    for (const type of ['postgresql', 'upgrade']) {
      const lg = db.logGroups[type];
      const block = ofType(json, 'aws_cloudwatch_log_group').find(([n]) => n === lg.friendlyUniqueId)![1];
      expect(block).toMatchObject({
        name: `/aws/rds/instance/${instance.identifier}/${type}`,
        retention_in_days: 365,
        skip_destroy: true,
      });
      expect(refTo(block.kms_key_id)).toBe(refTo(instance.kms_key_id));
      expect(instance.depends_on).toContain(`aws_cloudwatch_log_group.${lg.friendlyUniqueId}`);
    }
    expect(dbName).toBeDefined();
  });

  test('GIVEN defaults THEN each role gets a postgresql endpoint with its own user and secret', () => {
    const { transport, db } = postgresTransport();
    for (const role of [CeleryRole.WORKER, CeleryRole.PRODUCER]) {
      expect(transport.celeryConfigFor(role).model.resultBackend).toMatchObject({
        scheme: 'postgresql',
        engine: 'postgresql',
        host: db.endpointAddress,
        port: 5432,
        username: role === CeleryRole.WORKER ? 'celery_worker' : 'celery_producer',
        secretArn: db.secretFor(role).secretArn,
        secretUsernameField: 'username',
        caCerts: '/etc/ssl/certs/rds-global-bundle.pem',
      });
    }
    const statements = transport.credentialsReadStatements(CeleryRole.PRODUCER);
    expect(statements.flatMap((s) => s.resources)).toContain(db.secretFor(CeleryRole.PRODUCER).secretArn);
    expect(statements.flatMap((s) => s.resources)).not.toContain(db.secretFor(CeleryRole.WORKER).secretArn);
    expect(statements.flatMap((s) => s.resources)).not.toContain('*');
  });

  test('GIVEN kind aurora THEN an aws_rds_cluster with a cluster parameter group forcing TLS, a writer and a reader', () => {
    const { json } = postgresTransport({ kind: PostgresDatabaseKind.AURORA });
    const [pgName, pg] = one(json, 'aws_rds_cluster_parameter_group');
    expect(pg.family).toBe('aurora-postgresql17');
    expect(pg.parameter.map((p: Block) => [p.name, p.value])).toEqual([
      ['rds.force_ssl', '1'],
      ['ssl_min_protocol_version', 'TLSv1.2'],
    ]);
    const [clusterName, cluster] = one(json, 'aws_rds_cluster');
    expect(cluster).toMatchObject({
      engine: 'aurora-postgresql',
      db_cluster_parameter_group_name: `\${aws_rds_cluster_parameter_group.${pgName}.name}`,
      storage_encrypted: true,
      manage_master_user_password: true,
      deletion_protection: true,
      backup_retention_period: 15,
      skip_final_snapshot: false,
      iam_database_authentication_enabled: true,
      enabled_cloudwatch_logs_exports: ['postgresql'],
    });
    expect(refTo(cluster.master_user_secret_kms_key_id)).toBe(refTo(cluster.kms_key_id));
    const instances = ofType(json, 'aws_rds_cluster_instance');
    expect(instances).toHaveLength(2);
    for (const [, i] of instances)
      expect(i).toMatchObject({
        cluster_identifier: `\${aws_rds_cluster.${clusterName}.id}`,
        instance_class: 'db.r7g.large',
        publicly_accessible: false,
        ca_cert_identifier: 'rds-ca-rsa2048-g1',
      });
  });

  test('GIVEN deletionProtection false THEN a warning that names the risk', () => {
    const { db } = postgresTransport({ deletionProtection: false });
    expect(warningsOf(db).join('\n')).toContain('deletionProtection is false');
  });

  test('GIVEN bad inputs THEN one error naming each prop under resultBackend', () => {
    const { stack } = tfStack();
    const err = thrown(
      () =>
        new CeleryTransport(stack, 'Celery', {
          ...placement,
          resultBackend: CeleryResultBackend.postgres({
            kind: PostgresDatabaseKind.AURORA,
            engineVersion: '18.1',
            instanceClass: 'db.m7g.large',
            allocatedStorageGiB: 100,
            backupRetentionDays: 0,
          }),
        }),
    );
    expect(err.issues.map((i) => i.prop).sort()).toEqual([
      'resultBackend.allocatedStorageGiB',
      'resultBackend.backupRetentionDays',
      'resultBackend.engineVersion',
      'resultBackend.instanceClass',
    ]);
    expect(err.message).toContain('resultBackend.instanceClass "db.m7g.large" is not allowed for Aurora PostgreSQL');
  });

  test('GIVEN an existing database THEN only its rules and the two role secrets are added', () => {
    const { stack } = tfStack();
    const db = new PostgresDatabase(stack, 'Db', {
      ...placement,
      existingDatabase: {
        endpointAddress: 'db.example.eu-west-1.rds.amazonaws.com',
        masterSecretArn: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:rds!db-1234-AbCdEf',
        securityGroupId: 'sg-0123456789abcdef0',
      },
    });
    db.connections.allowFrom({ securityGroupId: 'sg-0fedcba9876543210' }, 5432);
    const { json } = synthJson(stack);
    expect(Object.keys(json.resource ?? {}).filter((t) => /aws_(db|rds)_/.test(t))).toEqual([]);
    expect(ofType(json, 'aws_secretsmanager_secret')).toHaveLength(2);
    expect(
      ofType(json, 'aws_vpc_security_group_ingress_rule')
        .filter(([, r]) => r.security_group_id === 'sg-0123456789abcdef0')
        .map(([, r]) => r.from_port),
    ).toEqual([5432, 5432]);
    expect(JSON.stringify(ofType(json, 'aws_iam_policy'))).toContain('rds!db-1234');
  });

  test('GIVEN defaults THEN the users function rotates exactly the two role secrets and reads the master one, invoked CRUD', () => {
    const { json, db } = postgresTransport();
    const [dbName] = one(json, 'aws_db_instance');
    const fnName = db.users.function.function.friendlyUniqueId;
    const fn = ofType(json, 'aws_lambda_function').find(([n]) => n === fnName)![1];
    expect(fn.handler).toBe('index.onInvocation');
    expect(fn.vpc_config.security_group_ids).toEqual([
      `\${aws_security_group.${db.users.securityGroup.resource.friendlyUniqueId}.id}`,
    ]);
    const policy = ofType(json, 'aws_iam_policy').find(([n]) => n === db.users.function.policy.friendlyUniqueId)![1];
    const statements = JSON.parse(policy.policy).Statement as Block[];
    const master = `\${aws_db_instance.${dbName}.master_user_secret[0].secret_arn}`;
    const worker = `\${aws_secretsmanager_secret.${db.secretFor(CeleryRole.WORKER).resource.friendlyUniqueId}.arn}`;
    const producer = `\${aws_secretsmanager_secret.${db.secretFor(CeleryRole.PRODUCER).resource.friendlyUniqueId}.arn}`;
    const rotate = [
      'secretsmanager:DescribeSecret',
      'secretsmanager:GetSecretValue',
      'secretsmanager:PutSecretValue',
      'secretsmanager:UpdateSecretVersionStage',
    ];
    // Everything but its logs and the network interfaces every VPC function needs, exactly.
    expect(statements.filter((st) => !/^(logs|ec2):/.test(st.Action[0]))).toEqual([
      { Effect: 'Allow', Action: rotate, Resource: [worker, producer] },
      { Effect: 'Allow', Action: ['secretsmanager:GetSecretValue'], Resource: [master] },
      { Effect: 'Allow', Action: ['secretsmanager:GetRandomPassword'], Resource: ['*'] },
      {
        Effect: 'Allow',
        Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
        Resource: [expect.stringMatching(/^\$\{aws_kms_key\.Celery_ResultBackend_Key_[0-9A-F]+\.arn\}$/)],
        Condition: {
          StringEquals: {
            'kms:ViaService': expect.stringMatching(/^secretsmanager\.\$\{data\.aws_region\..+\.amazonaws\.com$/),
          },
        },
      },
    ]);
    for (const st of statements.filter(
      (x) => (x.Resource === '*' || x.Resource.includes?.('*')) && x.Action[0] !== 'secretsmanager:GetRandomPassword',
    ))
      expect(st.Action.every((a: string) => a.startsWith('ec2:'))).toBe(true);
    // The Secrets Manager endpoint lets this role do there what its policy allows, nothing more.
    const [, endpointPolicy] = ofType(json, 'aws_vpc_endpoint_policy').find(([n]) =>
      n.startsWith('Celery_ResultBackend_Users_'),
    )!;
    const role = `\${aws_iam_role.${db.users.function.role.friendlyUniqueId}.arn}`;
    expect(JSON.parse(endpointPolicy.policy).Statement).toEqual([
      { Effect: 'Allow', Principal: { AWS: role }, Action: rotate, Resource: [worker, producer] },
      { Effect: 'Allow', Principal: { AWS: role }, Action: ['secretsmanager:GetSecretValue'], Resource: [master] },
      { Effect: 'Allow', Principal: { AWS: role }, Action: ['secretsmanager:GetRandomPassword'], Resource: ['*'] },
    ]);
    // What a rotation event does not carry comes from the environment: ARNs and names, no secret value.
    expect(fn.environment.variables).toEqual({
      DB_HOST: `\${aws_db_instance.${dbName}.address}`,
      DB_PORT: '5432',
      DB_NAME: 'celery',
      DB_SCHEMA: 'celery',
      MASTER_SECRET_ARN: master,
      WORKER_SECRET_ARN: worker,
      WORKER_USERNAME: 'celery_worker',
      PRODUCER_SECRET_ARN: producer,
      PRODUCER_USERNAME: 'celery_producer',
      PASSWORD_LENGTH: '32',
      SECRETS_MANAGER_ENDPOINT: expect.stringMatching(/^https:\/\/\$\{aws_vpc_endpoint\./),
    });
    const group = db.users.securityGroup.resource.friendlyUniqueId;
    const egress = ofType(json, 'aws_vpc_security_group_egress_rule').filter(([, r]) =>
      r.security_group_id.includes(group),
    );
    expect(egress.map(([, r]) => r.from_port).sort()).toEqual([443, 5432]);
    const invocation = ofType(json, 'aws_lambda_invocation').find(
      ([n]) => n === db.users.resource.friendlyUniqueId,
    )![1];
    expect(invocation.lifecycle_scope).toBe('CRUD');
    expect(invocation.depends_on).toContain(`aws_db_instance.${dbName}`);
    expect(JSON.parse(invocation.input)).toMatchObject({ Database: 'celery', Schema: 'celery', Port: 5432 });
    expect(invocation.input).not.toMatch(/password/i);
  });

  test('GIVEN defaults THEN both role secrets rotate every 30 days through the users function, after the roles exist', () => {
    const { json, db } = postgresTransport();
    const fn = db.users.function.function.friendlyUniqueId;
    const [permissionName, permission] = ofType(json, 'aws_lambda_permission').find(([, p]) =>
      String(p.function_name).includes(fn),
    )!;
    expect(ofType(json, 'aws_lambda_permission').filter(([, p]) => String(p.function_name).includes(fn))).toHaveLength(
      1,
    );
    expect(permission).toEqual({
      action: 'lambda:InvokeFunction',
      function_name: `\${aws_lambda_function.${fn}.function_name}`,
      principal: 'secretsmanager.amazonaws.com',
    });
    const roleSecrets = [CeleryRole.WORKER, CeleryRole.PRODUCER].map(
      (r) => `\${aws_secretsmanager_secret.${db.secretFor(r).resource.friendlyUniqueId}.arn}`,
    );
    const rotations = ofType(json, 'aws_secretsmanager_secret_rotation').filter(([, r]) =>
      roleSecrets.includes(r.secret_id),
    );
    expect(rotations.map(([, r]) => r.secret_id).sort()).toEqual([...roleSecrets].sort());
    expect(db.users.rotationSchedules).toHaveLength(2);
    for (const [, r] of rotations) {
      expect(r.rotation_lambda_arn).toBe(`\${aws_lambda_function.${fn}.arn}`);
      expect(r.rotation_rules).toEqual({ schedule_expression: 'rate(30 days)' });
      // The first rotation runs when the schedule is created: after the roles and twins exist, with the permissions.
      expect(r.depends_on).toEqual(
        expect.arrayContaining([
          `aws_lambda_permission.${permissionName}`,
          `aws_lambda_invocation.${db.users.resource.friendlyUniqueId}`,
          `aws_iam_role_policy_attachment.${db.users.function.attachment.friendlyUniqueId}`,
        ]),
      );
      expect(r.rotate_immediately).toBeUndefined();
    }
    const weekly = postgresTransport({ rotationDays: 7 });
    expect(
      ofType(weekly.json, 'aws_secretsmanager_secret_rotation')
        .filter(([n]) => n.startsWith('Celery_ResultBackend_'))
        .map(([, r]) => r.rotation_rules.schedule_expression),
    ).toEqual(['rate(7 days)', 'rate(7 days)']);
  });

  test('GIVEN rotationDays out of range THEN an error naming the prop under resultBackend', () => {
    const { stack } = tfStack();
    const err = thrown(
      () =>
        new CeleryTransport(stack, 'Celery', {
          ...placement,
          resultBackend: CeleryResultBackend.postgres({ rotationDays: 0 }),
        }),
    );
    expect(err.issues.map((i) => i.prop)).toEqual(['resultBackend.rotationDays']);
    expect(err.message).toContain(
      'resultBackend.rotationDays 0 is not allowed: use a whole number of days from 1 to 90',
    );
  });

  test('GIVEN monitoring on THEN RDS alarms per instance (free storage only for an RDS instance)', () => {
    const { json, db } = postgresTransport();
    const alarms = ofType(json, 'aws_cloudwatch_metric_alarm').filter(([, a]) => a.namespace === 'AWS/RDS');
    expect(alarms.map(([, a]) => [a.metric_name, a.dimensions, a.threshold]).sort()).toEqual(
      [
        ['CPUUtilization', { DBInstanceIdentifier: db.databaseIdentifier }, 90],
        ['DatabaseConnections', { DBInstanceIdentifier: db.databaseIdentifier }, 500],
        ['FreeStorageSpace', { DBInstanceIdentifier: db.databaseIdentifier }, 2147483648],
      ].sort(),
    );
  });
});
