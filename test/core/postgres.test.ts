import {
  DEFAULTS,
  LITERAL_CONTEXT,
  PostgresBackendOptions,
  PostgresDatabaseKind,
  planPostgresDatabase,
  resolvePostgresBackendSpec,
} from '../../lib/core';

const ok = (props: PostgresBackendOptions, existing?: { port?: number }) => {
  const r = resolvePostgresBackendSpec(props, LITERAL_CONTEXT, existing);
  expect(r.errors).toEqual([]);
  return r;
};
const errorsOf = (props: PostgresBackendOptions, existing?: { port?: number }) =>
  resolvePostgresBackendSpec(props, LITERAL_CONTEXT, existing).errors;

describe('resolvePostgresBackendSpec', () => {
  test('defaults: an RDS for PostgreSQL 17 instance, TLS forced, CMK, managed master secret, two roles', () => {
    const { value: spec, warnings } = ok({});
    expect(warnings).toEqual([]);
    expect(spec).toMatchObject({
      kind: 'instance',
      engine: 'postgres',
      engineVersion: '17.7',
      parameterGroupFamily: 'postgres17',
      instanceClass: 'db.m7g.large',
      allocatedStorageGiB: 20,
      maxAllocatedStorageGiB: 100,
      storageType: 'gp3',
      multiAz: true,
      port: 5432,
      backupRetentionDays: 15,
      deletionProtection: true,
      storageEncrypted: true,
      publiclyAccessible: false,
      manageMasterUserPassword: true,
      caCertificateIdentifier: 'rds-ca-rsa2048-g1',
      iamAuthentication: true,
      parameters: { 'rds.force_ssl': '1', ssl_min_protocol_version: 'TLSv1.2' },
      logExports: ['postgresql', 'upgrade'],
    });
    expect(spec.roles.map((r) => [r.role, r.username, r.secret.template, r.secret.length])).toEqual([
      ['worker', 'celery_worker', { username: 'celery_worker' }, 32],
      ['producer', 'celery_producer', { username: 'celery_producer' }, 32],
    ]);
  });

  test('aurora: the cluster family, a writer and a reader, no storage, Aurora log types', () => {
    const { value: spec } = ok({ kind: PostgresDatabaseKind.AURORA });
    expect(spec).toMatchObject({
      engine: 'aurora-postgresql',
      parameterGroupFamily: 'aurora-postgresql17',
      instanceClass: 'db.r7g.large',
      instanceCount: 2,
      logExports: ['postgresql'],
    });
    expect(spec.allocatedStorageGiB).toBeUndefined();
    expect(ok({ kind: PostgresDatabaseKind.AURORA, multiAz: false }).value.instanceCount).toBe(1);
  });

  test.each<[PostgresBackendOptions, string, RegExp]>([
    [
      { engineVersion: '13.20' },
      'engineVersion',
      /engineVersion "13.20" is not supported for RDS for PostgreSQL: use major.minor of major 14, 15, 16, 17, 18/,
    ],
    [{ engineVersion: '17' }, 'engineVersion', /engineVersion "17" is not supported/],
    [{ kind: 'aurora', engineVersion: '18.1' }, 'engineVersion', /not supported for Aurora PostgreSQL/],
    [{ instanceClass: 'm7g.large' }, 'instanceClass', /is not a DB instance class/],
    [{ instanceClass: 'db.t2.micro' }, 'instanceClass', /family "t2" is of a previous generation/],
    [{ kind: 'aurora', instanceClass: 'db.m7g.large' }, 'instanceClass', /family "m7g" is not offered by Aurora/],
    [{ kind: 'aurora', instanceClass: 'db.t4g.micro' }, 'instanceClass', /medium and large only/],
    [{ allocatedStorageGiB: 19 }, 'allocatedStorageGiB', /allocatedStorageGiB 19 is out of range: allowed 20 to 65536/],
    [
      { allocatedStorageGiB: 50, maxAllocatedStorageGiB: 40 },
      'maxAllocatedStorageGiB',
      /allowed 50 \(the allocated storage\)/,
    ],
    [{ kind: 'aurora', allocatedStorageGiB: 100 }, 'allocatedStorageGiB', /does not apply to Aurora/],
    [{ backupRetentionDays: 0 }, 'backupRetentionDays', /backupRetentionDays 0 is out of range: allowed 7 to 35/],
    [{ backupRetentionDays: 6 }, 'backupRetentionDays', /allowed 7 to 35. Security Hub RDS.11/],
    [{ backupRetentionDays: 36 }, 'backupRetentionDays', /out of range/],
    [{ backupWindow: '03:00-03:10' }, 'backupWindow', /at least 30 minutes/],
    [{ maintenanceWindow: 'sunday' }, 'maintenanceWindow', /ddd:hh24:mi-ddd:hh24:mi/],
    [
      { backupWindow: '05:00-06:00', maintenanceWindow: 'sun:05:30-sun:06:30' },
      'maintenanceWindow',
      /overlaps backupWindow/,
    ],
    [{ databaseIdentifier: 'Celery--db' }, 'databaseIdentifier', /RDS DB identifier/],
    [{ passwordLength: 8 }, 'passwordLength', /passwordLength 8 is not allowed: use a whole number from 16 to 99/],
    [{ kind: 'cluster' as never }, 'kind', /kind "cluster" is not allowed: use "instance", "aurora", "existing"/],
    [{ kind: 'existing' }, 'kind', /needs the database: give existingDatabase/],
  ])('refuses %j naming %s', (props, prop, message) => {
    const errors = errorsOf(props);
    expect(errors.map((e) => e.prop)).toContain(prop);
    expect(errors.find((e) => e.prop === prop)!.message).toMatch(message);
  });

  test('warnings: deletion protection, Multi-AZ and minor upgrades off', () => {
    const { warnings } = ok({ deletionProtection: false, multiAz: false, autoMinorVersionUpgrade: false });
    expect(warnings.map((w) => w.code)).toEqual([
      'postgres.multi-az-off',
      'postgres.deletion-protection-off',
      'postgres.auto-minor-upgrade-off',
    ]);
  });

  test('an existing database: kind existing, its port, and provisioning props refused', () => {
    expect(ok({}, { port: 5433 }).value).toMatchObject({ kind: 'existing', port: 5433, engine: '' });
    expect(errorsOf({ engineVersion: '17.7', multiAz: true }, {}).map((e) => e.prop)).toEqual([
      'engineVersion',
      'multiAz',
    ]);
    expect(errorsOf({ kind: 'instance' }, {}).map((e) => e.prop)).toEqual(['existingDatabase']);
    expect(errorsOf({}, { port: 80 }).map((e) => e.prop)).toEqual(['port']);
  });

  test('engineVersion as a token is refused: the family comes from it', () => {
    const ctx = { isUnresolved: (v: unknown) => v === '${Token}' };
    const r = resolvePostgresBackendSpec({ engineVersion: '${Token}' }, ctx);
    expect(r.errors.map((e) => e.code)).toEqual(['postgres.engine-version-token']);
  });

  test('placement: two Availability Zones at least for a subnet group, one for an existing database', () => {
    const facts = [{ subnetId: 'subnet-1', availabilityZone: 'eu-west-1a' }];
    const subnets = { prop: 'vpcSubnets', facts };
    expect(planPostgresDatabase({ props: {}, subnets }, LITERAL_CONTEXT).errors.map((e) => e.prop)).toEqual([
      'vpcSubnets',
    ]);
    expect(planPostgresDatabase({ props: {}, existing: {}, subnets }, LITERAL_CONTEXT).errors).toEqual([]);
  });

  test('the defaults are DEFAULTS.postgres', () => {
    expect(DEFAULTS.postgres).toMatchObject({
      database: 'celery',
      port: 5432,
      kind: 'instance',
      backupRetentionDays: 15,
    });
  });
});
