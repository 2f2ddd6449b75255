import type { CeleryEndpoint } from './celery/model';
import { DEFAULTS } from './defaults';
import { IssueCollector, ResolveContext, ValidationResult, show } from './errors';
import { LIMITS } from './limits';
import { NAME_RULES, checkName } from './names';
import { CeleryRole, checkRotationDays } from './rabbitmq-users';
import { GeneratedSecretShape } from './secrets';
import { SubnetFact, chooseSubnets } from './subnets';
import { parseDailyWindow, parseWeeklyWindow } from './windows';
import { WIRE } from './wire';

/**
 * A PostgreSQL result backend (`CeleryResultBackend.postgres()`): RDS for PostgreSQL or Aurora PostgreSQL, TLS
 * forced by its parameter group, storage and the managed master secret under a customer-managed key, one login role
 * per Celery role with its own generated secret. The checks of every prop, in one pass.
 */

/** Which database holds the results. */
export const PostgresDatabaseKind = {
  /** An RDS for PostgreSQL DB instance (Multi-AZ by default). */
  INSTANCE: 'instance',
  /** An Aurora PostgreSQL cluster: a writer, and a reader in another AZ with Multi-AZ. */
  AURORA: 'aurora',
  /** A database made elsewhere: the library adds only its security group rules, the roles and their secrets. */
  EXISTING: 'existing',
} as const;
/** Which database holds the results. */
export type PostgresDatabaseKind = (typeof PostgresDatabaseKind)[keyof typeof PostgresDatabaseKind];

/**
 * Engine versions by major version, with their parameter-group family. RDS for PostgreSQL: 14 to 18; Aurora
 * PostgreSQL: 14 to 17 (13 and older are past standard support).
 * @see https://docs.aws.amazon.com/AmazonRDS/latest/PostgreSQLReleaseNotes/postgresql-release-calendar.html
 * @see https://docs.aws.amazon.com/AmazonRDS/latest/AuroraPostgreSQLReleaseNotes/aurorapostgresql-release-calendar.html
 */
export const POSTGRES_MAJOR_VERSIONS: Record<'instance' | 'aurora', readonly number[]> = {
  instance: [14, 15, 16, 17, 18],
  aurora: [14, 15, 16, 17],
};

/**
 * Instance-class families of the current generations. Aurora PostgreSQL runs on memory-optimized (r, x2g) and
 * burstable (t3, t4g medium/large) classes only, not on m classes.
 * @see https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Concepts.DBInstanceClass.Support.html
 * @see https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Concepts.DBInstanceClass.SupportAurora.html
 */
export const POSTGRES_INSTANCE_FAMILIES: Record<'instance' | 'aurora', readonly string[]> = {
  instance: [
    't3',
    't4g',
    'm5',
    'm5d',
    'm6g',
    'm6gd',
    'm6i',
    'm6id',
    'm7g',
    'm7i',
    'm8g',
    'r5',
    'r5b',
    'r5d',
    'r6g',
    'r6gd',
    'r6i',
    'r6id',
    'r7g',
    'r7i',
    'r8g',
    'x2g',
  ],
  aurora: ['t3', 't4g', 'r5', 'r6g', 'r6i', 'r7g', 'r7i', 'r8g', 'x2g'],
};

/** The DB instances of a database: the instance itself, or the cluster's (`<cluster>-1` the writer, `-2` ...). */
export function postgresInstanceIdentifiers(
  spec: Pick<PostgresBackendSpec, 'kind' | 'instanceCount'>,
  identifier: string,
): string[] {
  if (spec.kind === PostgresDatabaseKind.EXISTING) return [];
  if (spec.kind === PostgresDatabaseKind.INSTANCE) return [identifier];
  return Array.from({ length: spec.instanceCount }, (_, i) => `${identifier.slice(0, 59)}-${i + 1}`);
}

/** The CloudWatch log group RDS writes one exported log type to. */
export function postgresLogGroupName(kind: PostgresDatabaseKind, identifier: string, logType: string): string {
  return `/aws/rds/${kind === PostgresDatabaseKind.AURORA ? 'cluster' : 'instance'}/${identifier}/${logType}`;
}

/** Options shared by both adapters' `PostgresDatabase` props (everything that is not a framework object). */
export interface PostgresBackendOptions {
  /** RDS for PostgreSQL, Aurora PostgreSQL, or an existing database. @default PostgresDatabaseKind.INSTANCE */
  readonly kind?: PostgresDatabaseKind;
  /**
   * Major.minor, e.g. "17.7"; sets the parameter-group family (`postgres17`, `aurora-postgresql17`).
   * @default "17.7"
   * @see https://docs.aws.amazon.com/AmazonRDS/latest/PostgreSQLReleaseNotes/postgresql-versions.html
   */
  readonly engineVersion?: string;
  /**
   * `db.<family>.<size>` of a current generation.
   * @default "db.m7g.large" for an instance, "db.r7g.large" for Aurora
   */
  readonly instanceClass?: string;
  /** Instance only: gp3 storage in GiB, 20 to 65536. @default 20 */
  readonly allocatedStorageGiB?: number;
  /** Instance only: storage autoscaling up to this many GiB (at least the allocated storage). @default 100 */
  readonly maxAllocatedStorageGiB?: number;
  /** A standby (instance) or a reader (Aurora) in another Availability Zone. @default true */
  readonly multiAz?: boolean;
  /** Days automated backups are kept, 7 to 35. @default 15 */
  readonly backupRetentionDays?: number;
  /** UTC `hh24:mi-hh24:mi`, at least 30 minutes. @default "03:00-04:00" */
  readonly backupWindow?: string;
  /** UTC `ddd:hh24:mi-ddd:hh24:mi`, at least 30 minutes, not overlapping the backup window. @default "sun:05:00-sun:06:00" */
  readonly maintenanceWindow?: string;
  /** RDS refuses to delete the database while this is on. Turning it off gives a warning. @default true */
  readonly deletionProtection?: boolean;
  /** Minor engine upgrades in the maintenance window (false is warned). @default true */
  readonly autoMinorVersionUpgrade?: boolean;
  /** Physical DB instance or cluster identifier (create-only). @default - derived from the construct path */
  readonly databaseIdentifier?: string;
  /** Length of the generated role passwords (`[A-Za-z0-9]`), 16 to 99. @default 32 */
  readonly passwordLength?: number;
  /**
   * Days between rotations of each role secret, 1 to 90. A rotation gives the role's twin (`<role>_alt`) a new
   * password and names it in the secret; the previous password keeps working until the next rotation.
   * @default 30
   * @see https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotating-secrets_strategies.html#rotating-secrets-two-users
   */
  readonly rotationDays?: number;
}

/** A login role of one Celery role and the shape of its generated secret. */
export interface PostgresRoleSpec {
  /** The Celery role it serves. */
  readonly role: CeleryRole;
  /** The PostgreSQL login role's name (`DEFAULTS.postgres.users`). */
  readonly username: string;
  /** The shape of its generated secret, `{"username", "password"}`. */
  readonly secret: GeneratedSecretShape;
}

/** The resolved database: every default applied, everything validated. */
export interface PostgresBackendSpec {
  /** An RDS instance, an Aurora cluster, or an existing database (default instance). */
  readonly kind: PostgresDatabaseKind;
  /** "postgres" or "aurora-postgresql" (empty for an existing database). */
  readonly engine: 'postgres' | 'aurora-postgresql' | '';
  /** The engine version, major.minor (default "17.7"; empty for an existing database). */
  readonly engineVersion: string;
  /** `postgres<major>` or `aurora-postgresql<major>`. */
  readonly parameterGroupFamily: string;
  /** The DB instance class (default "db.m7g.large", Aurora "db.r7g.large"). */
  readonly instanceClass: string;
  /** Instance only: gp3 storage, GiB (default 20). */
  readonly allocatedStorageGiB?: number;
  /** Instance only: the storage autoscaling limit, GiB (default 100). */
  readonly maxAllocatedStorageGiB?: number;
  /** Instance only: always gp3. */
  readonly storageType?: 'gp3';
  /** A standby (instance) or a reader (Aurora) in another Availability Zone (default true). */
  readonly multiAz: boolean;
  /** Aurora only: a writer, and a reader with Multi-AZ. */
  readonly instanceCount: number;
  /** The port (5432, or an existing database's). */
  readonly port: number;
  /** The database Celery's tables live in (`DEFAULTS.postgres.database`). */
  readonly databaseName: string;
  /** The master user, whose password RDS generates and keeps in Secrets Manager. */
  readonly masterUsername: string;
  /** Days automated backups are kept (default 15). */
  readonly backupRetentionDays: number;
  /** The daily backup window, UTC (default "03:00-04:00"). */
  readonly backupWindow: string;
  /** The weekly maintenance window, UTC (default "sun:05:00-sun:06:00"). */
  readonly maintenanceWindow: string;
  /** Whether RDS refuses to delete the database (default true). */
  readonly deletionProtection: boolean;
  /** Whether minor engine versions are applied automatically (default true). */
  readonly autoMinorVersionUpgrade: boolean;
  /** The identifier as given, or undefined when the adapter derives it from the construct path. */
  readonly databaseIdentifier?: string;
  /** Always true, with the customer-managed key. */
  readonly storageEncrypted: true;
  /** Always false: the database has no public address. */
  readonly publiclyAccessible: false;
  /** The master password is generated and rotated by RDS in Secrets Manager, encrypted with the key. */
  readonly manageMasterUserPassword: true;
  /** The CA of the server certificate (`rds-ca-rsa2048-g1`, in the RDS global bundle). */
  readonly caCertificateIdentifier: string;
  /** IAM database authentication on: no role is granted rds_iam, so it opens no login (see DEFAULTS.postgres). */
  readonly iamAuthentication: boolean;
  /** Always true: snapshots carry the database's tags. */
  readonly copyTagsToSnapshot: true;
  /** The (cluster) parameter group: `rds.force_ssl` 1 and `ssl_min_protocol_version` TLSv1.2. */
  readonly parameters: Readonly<Record<string, string>>;
  /** Log types exported to CloudWatch Logs. */
  readonly logExports: readonly string[];
  /** The worker's and the producer's login roles. */
  readonly roles: readonly PostgresRoleSpec[];
  /** Days between rotations of each role secret, alternating the role and its twin (default 30). */
  readonly rotationDays: number;
}

/** The facts of an existing database the adapter was given. */
export interface ExistingPostgresInput {
  /** The port, when the user gave one. */
  readonly port?: number;
}

const PROVISIONING_PROPS = [
  'engineVersion',
  'instanceClass',
  'allocatedStorageGiB',
  'maxAllocatedStorageGiB',
  'multiAz',
  'backupRetentionDays',
  'backupWindow',
  'maintenanceWindow',
  'deletionProtection',
  'autoMinorVersionUpgrade',
  'databaseIdentifier',
] as const;

/** Every check of a PostgreSQL result backend's props, in one pass. */
export function resolvePostgresBackendSpec(
  props: PostgresBackendOptions,
  ctx: ResolveContext,
  existing?: ExistingPostgresInput,
): ValidationResult<PostgresBackendSpec> {
  const issues = new IssueCollector(ctx);
  const d = DEFAULTS.postgres;
  const kind = resolveKind(issues, props, existing);
  const provisioned = kind !== PostgresDatabaseKind.EXISTING;
  const flavour: 'instance' | 'aurora' = kind === PostgresDatabaseKind.AURORA ? 'aurora' : 'instance';
  if (!provisioned) {
    for (const p of PROVISIONING_PROPS)
      if (props[p] !== undefined)
        issues.error(
          'postgres.existing',
          p,
          `${p} ${show(props[p])} does not apply to an existing database: the library only adds its security group rules, the roles and their secrets. Remove it, or let the library provision the database.`,
        );
  }
  const { engineVersion, family } = provisioned
    ? resolveVersion(issues, props, flavour, ctx)
    : { engineVersion: '', family: '' };
  const instanceClass = provisioned ? resolveInstanceClass(issues, props, flavour) : '';
  const storage = provisioned ? resolveStorage(issues, props, flavour) : {};
  const multiAz = props.multiAz ?? d.multiAz;
  if (props.multiAz === false)
    issues.warn(
      'postgres.multi-az-off',
      'multiAz',
      `multiAz is false: an instance or Availability Zone failure makes the result backend unavailable until RDS replaces it (${flavour === 'aurora' ? 'no reader to fail over to' : 'no standby'}); Celery's result writes fail meanwhile.`,
    );
  const backupRetentionDays = resolveBackups(issues, props);
  const deletionProtection = props.deletionProtection ?? d.deletionProtection;
  if (props.deletionProtection === false)
    issues.warn(
      'postgres.deletion-protection-off',
      'deletionProtection',
      'deletionProtection is false: a stack update or destroy that removes the database deletes it (a final snapshot is still taken); every stored result goes with it. Keep it on outside throw-away environments.',
    );
  const autoMinorVersionUpgrade = props.autoMinorVersionUpgrade ?? d.autoMinorVersionUpgrade;
  if (props.autoMinorVersionUpgrade === false)
    issues.warn(
      'postgres.auto-minor-upgrade-off',
      'autoMinorVersionUpgrade',
      'autoMinorVersionUpgrade is false: security fixes of the engine are not applied automatically (Security Hub RDS.13).',
    );
  checkName(issues, NAME_RULES.rdsIdentifier, 'databaseIdentifier', props.databaseIdentifier);
  const length = props.passwordLength ?? d.passwordLength;
  if (
    issues.known(props.passwordLength) &&
    (!Number.isInteger(props.passwordLength) ||
      props.passwordLength < LIMITS.postgresPassword.min ||
      props.passwordLength > LIMITS.postgresPassword.max)
  )
    issues.error(
      'secret.length',
      'passwordLength',
      `passwordLength ${show(props.passwordLength)} is not allowed: use a whole number from ${LIMITS.postgresPassword.min} to ${LIMITS.postgresPassword.max}. ${LIMITS.postgresPassword.rule}.`,
    );
  checkRotationDays(issues, 'rotationDays', props.rotationDays);
  const port = existing?.port ?? d.port;
  if (existing?.port !== undefined && issues.known(existing.port) && !validPort(existing.port))
    issues.error('postgres.port', 'port', `port ${show(existing.port)} is out of range: allowed 1150 to 65535.`);
  const windows = resolveWindows(issues, props);

  return issues.result<PostgresBackendSpec>({
    kind,
    engine: !provisioned ? '' : flavour === 'aurora' ? 'aurora-postgresql' : 'postgres',
    engineVersion,
    parameterGroupFamily: family,
    instanceClass,
    ...storage,
    multiAz,
    instanceCount: flavour === 'aurora' && multiAz ? 2 : 1,
    port,
    databaseName: d.database,
    masterUsername: d.masterUsername,
    backupRetentionDays,
    ...windows,
    deletionProtection,
    autoMinorVersionUpgrade,
    databaseIdentifier: props.databaseIdentifier,
    storageEncrypted: true,
    publiclyAccessible: false,
    manageMasterUserPassword: true,
    caCertificateIdentifier: d.caCertificateIdentifier,
    iamAuthentication: d.iamAuthentication,
    copyTagsToSnapshot: true,
    parameters: { ...d.parameters },
    logExports: flavour === 'aurora' ? [...d.logExports.aurora] : [...d.logExports.instance],
    roles: [CeleryRole.WORKER, CeleryRole.PRODUCER].map((role) => {
      const username = role === CeleryRole.WORKER ? d.users.worker : d.users.producer;
      return { role, username, secret: postgresRoleShape(username, length) };
    }),
    rotationDays: props.rotationDays ?? d.rotationDays,
  });
}

/** Shape of a role's generated secret: `{"username": "...", "password": "..."}` (the RDS managed-secret shape). */
export function postgresRoleShape(
  username: string,
  length: number = DEFAULTS.postgres.passwordLength,
): GeneratedSecretShape {
  return {
    length,
    excludePunctuation: true,
    includeSpace: false,
    requireEachIncludedType: true,
    generateStringKey: WIRE.secretPasswordField,
    template: { [WIRE.secretUsernameField]: username },
    description: `PostgreSQL credentials of the Celery role ${username}`,
  };
}

/** The Celery endpoint of one role: `postgresql`, verified against the RDS CA bundle, that role's secret. */
export function postgresCeleryEndpoint(
  spec: Pick<PostgresBackendSpec, 'port' | 'databaseName' | 'engineVersion'>,
  args: { readonly host: string; readonly username: string; readonly secretArn: string },
): CeleryEndpoint {
  return {
    scheme: 'postgresql',
    engine: 'postgresql',
    host: args.host,
    port: spec.port,
    database: spec.databaseName,
    username: args.username,
    secretArn: args.secretArn,
    secretUsernameField: WIRE.secretUsernameField,
    caCerts: DEFAULTS.postgres.caCerts,
  };
}

/** The role serving a Celery role. */
export function postgresRoleFor(spec: Pick<PostgresBackendSpec, 'roles'>, role: CeleryRole): PostgresRoleSpec {
  return spec.roles.find((r) => r.role === role)!;
}

function validPort(port: number): boolean {
  return Number.isInteger(port) && port >= 1150 && port <= 65535;
}

function resolveKind(
  issues: IssueCollector,
  props: PostgresBackendOptions,
  existing: ExistingPostgresInput | undefined,
): PostgresDatabaseKind {
  const allowed = Object.values(PostgresDatabaseKind);
  const kind = props.kind ?? (existing ? PostgresDatabaseKind.EXISTING : DEFAULTS.postgres.kind);
  if (issues.known(props.kind) && !allowed.includes(props.kind))
    issues.error(
      'postgres.kind',
      'kind',
      `kind ${show(props.kind)} is not allowed: use ${allowed.map((k) => show(k)).join(', ')}.`,
    );
  if (kind === PostgresDatabaseKind.EXISTING && !existing)
    issues.error(
      'postgres.existing',
      'kind',
      'kind "existing" needs the database: give existingDatabase (its endpoint address, master secret and security group).',
    );
  if (existing && props.kind !== undefined && kind !== PostgresDatabaseKind.EXISTING)
    issues.error(
      'postgres.existing',
      'existingDatabase',
      `existingDatabase is given with kind ${show(props.kind)}: an existing database is not provisioned. Remove kind (or set "existing").`,
    );
  return allowed.includes(kind) ? kind : DEFAULTS.postgres.kind;
}

function resolveVersion(
  issues: IssueCollector,
  props: PostgresBackendOptions,
  flavour: 'instance' | 'aurora',
  ctx: ResolveContext,
): { engineVersion: string; family: string } {
  const engineVersion = props.engineVersion ?? DEFAULTS.postgres.engineVersion[flavour];
  const majors = POSTGRES_MAJOR_VERSIONS[flavour];
  const prefix = flavour === 'aurora' ? 'aurora-postgresql' : 'postgres';
  if (ctx.isUnresolved(props.engineVersion)) {
    issues.error(
      'postgres.engine-version-token',
      'engineVersion',
      'engineVersion must be a literal (e.g. "17.7"): the parameter-group family is derived from it at synth time.',
    );
    return { engineVersion, family: '' };
  }
  const m = /^(\d+)\.(\d+)$/.exec(typeof engineVersion === 'string' ? engineVersion : '');
  const major = m ? Number(m[1]) : NaN;
  if (!m || !majors.includes(major)) {
    issues.error(
      'postgres.engine-version',
      'engineVersion',
      `engineVersion ${show(props.engineVersion)} is not supported for ${flavour === 'aurora' ? 'Aurora PostgreSQL' : 'RDS for PostgreSQL'}: use major.minor of major ${majors.join(', ')} (e.g. "${DEFAULTS.postgres.engineVersion[flavour]}").`,
    );
    return { engineVersion, family: '' };
  }
  return { engineVersion, family: `${prefix}${major}` };
}

function resolveInstanceClass(
  issues: IssueCollector,
  props: PostgresBackendOptions,
  flavour: 'instance' | 'aurora',
): string {
  const instanceClass = props.instanceClass ?? DEFAULTS.postgres.instanceClass[flavour];
  if (!issues.known(props.instanceClass)) return instanceClass;
  const families = POSTGRES_INSTANCE_FAMILIES[flavour];
  const m = /^db\.([a-z0-9]+)\.([a-z0-9]+)$/.exec(props.instanceClass);
  if (!m) {
    issues.error(
      'postgres.instance-class',
      'instanceClass',
      `instanceClass ${show(props.instanceClass)} is not a DB instance class: use "db.<family>.<size>", e.g. "${DEFAULTS.postgres.instanceClass[flavour]}".`,
    );
  } else if (!families.includes(m[1])) {
    issues.error(
      'postgres.instance-class',
      'instanceClass',
      `instanceClass ${show(props.instanceClass)} is not allowed for ${flavour === 'aurora' ? 'Aurora PostgreSQL' : 'RDS for PostgreSQL'}: its family ${show(m[1])} is ${flavour === 'aurora' && /^m/.test(m[1]) ? 'not offered by Aurora' : 'of a previous generation'}. Allowed families: ${families.join(', ')}.`,
    );
  } else if (flavour === 'aurora' && /^t/.test(m[1]) && !['medium', 'large'].includes(m[2])) {
    issues.error(
      'postgres.instance-class',
      'instanceClass',
      `instanceClass ${show(props.instanceClass)} is not allowed for Aurora PostgreSQL: burstable classes come in medium and large only.`,
    );
  }
  return instanceClass;
}

function resolveStorage(
  issues: IssueCollector,
  props: PostgresBackendOptions,
  flavour: 'instance' | 'aurora',
): { allocatedStorageGiB?: number; maxAllocatedStorageGiB?: number; storageType?: 'gp3' } {
  const L = LIMITS.postgresStorageGiB;
  if (flavour === 'aurora') {
    for (const p of ['allocatedStorageGiB', 'maxAllocatedStorageGiB'] as const)
      if (props[p] !== undefined)
        issues.error(
          'postgres.aurora-storage',
          p,
          `${p} ${show(props[p])} does not apply to Aurora: its cluster volume grows on its own. Remove it.`,
        );
    return {};
  }
  const allocated = props.allocatedStorageGiB ?? DEFAULTS.postgres.allocatedStorageGiB;
  const max = props.maxAllocatedStorageGiB ?? Math.max(DEFAULTS.postgres.maxAllocatedStorageGiB, allocated);
  if (
    issues.known(props.allocatedStorageGiB) &&
    (!Number.isInteger(props.allocatedStorageGiB) ||
      props.allocatedStorageGiB < L.min ||
      props.allocatedStorageGiB > L.max)
  )
    issues.error(
      'postgres.storage',
      'allocatedStorageGiB',
      `allocatedStorageGiB ${show(props.allocatedStorageGiB)} is out of range: allowed ${L.min} to ${L.max} (gp3).`,
    );
  if (
    issues.known(props.maxAllocatedStorageGiB) &&
    (!Number.isInteger(props.maxAllocatedStorageGiB) ||
      props.maxAllocatedStorageGiB < allocated ||
      props.maxAllocatedStorageGiB > L.max)
  )
    issues.error(
      'postgres.storage',
      'maxAllocatedStorageGiB',
      `maxAllocatedStorageGiB ${show(props.maxAllocatedStorageGiB)} is out of range: allowed ${show(allocated)} (the allocated storage) to ${L.max}.`,
    );
  return { allocatedStorageGiB: allocated, maxAllocatedStorageGiB: max, storageType: 'gp3' };
}

function resolveBackups(issues: IssueCollector, props: PostgresBackendOptions): number {
  const L = LIMITS.postgresBackupRetentionDays;
  const days = props.backupRetentionDays ?? DEFAULTS.postgres.backupRetentionDays;
  if (
    issues.known(props.backupRetentionDays) &&
    (!Number.isInteger(props.backupRetentionDays) ||
      props.backupRetentionDays < L.min ||
      props.backupRetentionDays > L.max)
  )
    issues.error(
      'postgres.backup-retention',
      'backupRetentionDays',
      `backupRetentionDays ${show(props.backupRetentionDays)} is out of range: allowed ${L.min} to ${L.max}. ${L.rule}.`,
    );
  return days;
}

function resolveWindows(
  issues: IssueCollector,
  props: PostgresBackendOptions,
): { backupWindow: string; maintenanceWindow: string } {
  const d = DEFAULTS.postgres;
  const backupWindow = props.backupWindow ?? d.backupWindow;
  const maintenanceWindow = props.maintenanceWindow ?? d.maintenanceWindow;
  let daily: [number, number] | undefined;
  let weekly: [number, number] | undefined;
  if (issues.known(props.backupWindow)) {
    daily = parseDailyWindow(props.backupWindow);
    if (!daily || daily[1] - daily[0] < 30) {
      issues.error(
        'window.format',
        'backupWindow',
        `backupWindow ${show(props.backupWindow)} is not allowed: use "hh24:mi-hh24:mi" in UTC, at least 30 minutes long, e.g. "${d.backupWindow}".`,
      );
      daily = undefined;
    }
  } else daily = parseDailyWindow(backupWindow);
  if (issues.known(props.maintenanceWindow)) {
    weekly = parseWeeklyWindow(props.maintenanceWindow);
    if (!weekly || weekly[1] - weekly[0] < 30) {
      issues.error(
        'window.format',
        'maintenanceWindow',
        `maintenanceWindow ${show(props.maintenanceWindow)} is not allowed: use "ddd:hh24:mi-ddd:hh24:mi" in UTC, at least 30 minutes long, e.g. "${d.maintenanceWindow}".`,
      );
      weekly = undefined;
    }
  } else weekly = parseWeeklyWindow(maintenanceWindow);
  if (daily && weekly && (props.backupWindow !== undefined || props.maintenanceWindow !== undefined)) {
    const week = 7 * 24 * 60;
    const overlaps = [0, 1, 2, 3, 4, 5, 6, 7].some((day) => {
      const s = day * 24 * 60 + daily![0];
      const e = day * 24 * 60 + daily![1];
      return [0, week].some((shift) => s < weekly![1] - shift && weekly![0] - shift < e);
    });
    if (overlaps)
      issues.error(
        'window.overlap',
        'maintenanceWindow',
        `maintenanceWindow ${show(maintenanceWindow)} overlaps backupWindow ${show(backupWindow)}: RDS refuses overlapping windows.`,
      );
  }
  return { backupWindow, maintenanceWindow };
}

/** Everything a PostgreSQL database is made from. */
export interface PostgresPlanInput {
  readonly props: PostgresBackendOptions;
  /** Given for an existing database. */
  readonly existing?: ExistingPostgresInput;
  /** Where the database (and the users function) go, and the prop they were chosen with. */
  readonly subnets: { readonly prop: string; readonly facts: readonly SubnetFact[] };
}

/** A PostgreSQL database, checked and with every default applied. */
export interface PostgresPlan {
  /** The database's settings, every default applied. */
  readonly spec: PostgresBackendSpec;
  /** One per Availability Zone: RDS wants a subnet group in at least two, whatever the deployment. */
  readonly subnets: readonly SubnetFact[];
}

/** The database's own checks, then its placement's. */
export function planPostgresDatabase(input: PostgresPlanInput, ctx: ResolveContext): ValidationResult<PostgresPlan> {
  const result = resolvePostgresBackendSpec(input.props, ctx, input.existing);
  const existing = result.value.kind === PostgresDatabaseKind.EXISTING;
  const subnets = chooseSubnets(ctx, input.subnets.prop, input.subnets.facts, {
    min: existing ? 1 : 2,
    max: LIMITS.postgresSubnets,
    service: existing ? 'The PostgreSQL users function' : 'An RDS DB subnet group',
    why: existing ? 'to run in' : '(RDS requires two, even for a Single-AZ instance)',
  });
  return {
    value: { spec: result.value, subnets: subnets.subnets },
    errors: [...result.errors, ...subnets.errors],
    warnings: result.warnings,
  };
}
