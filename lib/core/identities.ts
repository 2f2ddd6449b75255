import { DEFAULTS } from './defaults';
import { IamStatementModel } from './iam';
import { RabbitMqBrokerSpec } from './rabbitmq';
import { RabbitMqMutualTlsSpec, clientCertificateIssuerStatements } from './rabbitmq-mtls';
import {
  RabbitMqApplicationUsersSpec,
  applicationUsersFunctionStatements,
  rotationFunctionStatements,
} from './rabbitmq-users';
import { RedisRbacSpec, redisUserRotationStatements } from './redis-rbac';
import { postgresUsersFunctionStatements } from './postgres-users';
import type { PostgresBackendSpec } from './postgres';

/**
 * The identities a transport needs, as plans both adapters render: each library function (its bundled handler, IAM
 * statements, environment and limits), the rotation schedules, and the users custom resource's properties (the
 * contract with the bundled handler). ARNs come from the adapter (tokens on both targets).
 */

/** A bundle under assets/handlers. */
export type HandlerAsset =
  'rabbitmq-users' | 'elasticache-users' | 'client-certificates' | 'tls-canary' | 'postgres-users' | 'signing-keys';

/** One library function. */
export interface LibraryFunctionPlan {
  /** Its id in the construct (`<id>`, `<id>Role`, `<id>Policy`, `<id>Logs`). */
  readonly id: string;
  /** What it does (descriptions of the function, role and policy). */
  readonly purpose: string;
  /** The bundle and its entry point. */
  readonly asset: HandlerAsset;
  readonly handler: string;
  /**
   * The entry point for a direct create/update/delete invocation (Terraform's `aws_lambda_invocation` with
   * `lifecycle_scope = "CRUD"`), when the function also serves a CloudFormation custom resource (`handler`).
   */
  readonly invocationHandler?: string;
  /** Everything it may do besides writing its logs (and, in a VPC, its network interfaces). */
  readonly statements: readonly IamStatementModel[];
  readonly environment: Readonly<Record<string, string>>;
  readonly timeoutSeconds: number;
  /** In the broker's VPC (the management API), or outside it (AWS APIs only). */
  readonly inVpc: boolean;
}

/** A rotation schedule of secrets, by one function. */
export interface RotationPlan {
  readonly days: number;
}

/** The RabbitMQ application users' functions: the custom resource's and the rotation's, both in the VPC. */
export function rabbitMqUsersFunctionPlans(args: {
  readonly spec: RabbitMqApplicationUsersSpec;
  readonly broker: RabbitMqBrokerSpec;
  readonly managementUrl: string;
  readonly adminSecretArn: string;
  readonly adminKeyArn?: string;
  readonly userSecretArns: readonly string[];
  readonly userKeyArn: string;
  /** The secrets the rotation function rotates: the users', and the admin's when the library generated it. */
  readonly rotatedSecretArns: readonly string[];
  readonly region: string;
}): { readonly users: LibraryFunctionPlan; readonly rotation: LibraryFunctionPlan; readonly schedule: RotationPlan } {
  const users: LibraryFunctionPlan = {
    id: 'Function',
    purpose: 'Celery vhost, users and permissions through the RabbitMQ management API',
    asset: 'rabbitmq-users',
    handler: 'index.onEvent',
    invocationHandler: 'index.onInvocation',
    statements: applicationUsersFunctionStatements({
      adminSecretArn: args.adminSecretArn,
      adminKeyArn: args.adminKeyArn,
      userSecretArns: args.userSecretArns,
      userKeyArn: args.userKeyArn,
      region: args.region,
    }),
    environment: {},
    timeoutSeconds: DEFAULTS.functions.timeoutSeconds,
    inVpc: true,
  };
  const rotation: LibraryFunctionPlan = {
    id: 'RotationFunction',
    purpose: 'rotation of the Celery RabbitMQ user and admin passwords',
    asset: 'rabbitmq-users',
    handler: 'index.onRotate',
    statements: rotationFunctionStatements({
      rotatedSecretArns: args.rotatedSecretArns,
      adminSecretArn: args.adminSecretArn,
      keyArns: [args.userKeyArn, ...(args.adminKeyArn ? [args.adminKeyArn] : [])],
      region: args.region,
    }),
    environment: {
      MANAGEMENT_URL: args.managementUrl,
      ADMIN_SECRET_ARN: args.adminSecretArn,
      PASSWORD_LENGTH: String(args.spec.users[0].secret.length),
      ADMIN_PASSWORD_LENGTH: String(args.broker.adminSecret?.length ?? DEFAULTS.rabbitmq.passwordLength),
      TIMEOUT_MS: String(DEFAULTS.rabbitmq.managementApiTimeoutMs),
    },
    timeoutSeconds: DEFAULTS.functions.timeoutSeconds,
    inVpc: true,
  };
  return { users, rotation, schedule: { days: args.spec.rotationDays } };
}

/**
 * The PostgreSQL users function (lib/handlers/postgres-users): in the database's VPC, it connects as the master user
 * over verified TLS and makes the Celery roles, schema and tables, and it is the rotation function of the two role
 * secrets (alternating each role with its twin; the environment tells it the database and the secrets). It rotates
 * exactly the two role secrets and reads the master's.
 */
export function postgresUsersFunctionPlans(args: {
  /** The roles (their password length) and the rotation interval. */
  readonly spec: Pick<PostgresBackendSpec, 'roles' | 'rotationDays'>;
  /** The endpoint's DNS name (the rotation connects by it, as the custom resource does). */
  readonly host: string;
  readonly port: number | string;
  readonly masterSecretArn: string;
  /** The key of the master secret (RDS-managed: `MasterUserSecret.KmsKeyId`). @default - none named */
  readonly masterKeyArn?: string;
  readonly workerSecretArn: string;
  readonly producerSecretArn: string;
  readonly userKeyArn: string;
  readonly region: string;
}): { readonly users: LibraryFunctionPlan; readonly schedule: RotationPlan } {
  const d = DEFAULTS.postgres;
  return {
    users: {
      id: 'Function',
      purpose: 'Celery PostgreSQL roles, schema and tables as the master user, and the rotation of the role passwords',
      asset: 'postgres-users',
      handler: 'index.onEvent',
      invocationHandler: 'index.onInvocation',
      statements: postgresUsersFunctionStatements(args),
      // What a rotation event does not carry (lib/handlers/postgres-users onRotate); ARNs and names, no secret.
      environment: {
        DB_HOST: args.host,
        DB_PORT: String(args.port),
        DB_NAME: d.database,
        DB_SCHEMA: d.schema,
        MASTER_SECRET_ARN: args.masterSecretArn,
        WORKER_SECRET_ARN: args.workerSecretArn,
        WORKER_USERNAME: d.users.worker,
        PRODUCER_SECRET_ARN: args.producerSecretArn,
        PRODUCER_USERNAME: d.users.producer,
        PASSWORD_LENGTH: String(args.spec.roles[0].secret.length),
      },
      timeoutSeconds: DEFAULTS.functions.timeoutSeconds,
      inVpc: true,
    },
    schedule: { days: args.spec.rotationDays },
  };
}

/**
 * The properties of the PostgreSQL users custom resource, as the bundled handler reads them
 * (lib/handlers/postgres-users): the endpoint, the names of `DEFAULTS.postgres`, and the three secrets.
 */
export function postgresUsersResourceProperties(args: {
  readonly host: string;
  readonly port: number | string;
  readonly masterSecretArn: string;
  readonly workerSecretArn: string;
  readonly producerSecretArn: string;
}): Record<string, unknown> {
  const d = DEFAULTS.postgres;
  return {
    Host: args.host,
    Port: args.port,
    Database: d.database,
    Schema: d.schema,
    MasterSecretArn: args.masterSecretArn,
    WorkerSecretArn: args.workerSecretArn,
    ProducerSecretArn: args.producerSecretArn,
    WorkerUsername: d.users.worker,
    ProducerUsername: d.users.producer,
  };
}

/**
 * The properties of the users custom resource (`Custom::CeleryRabbitMqUsers`), as the bundled handler reads them
 * (lib/handlers/rabbitmq-users): vhost, users with their password secrets and permissions, queue type, dead letters.
 */
export function rabbitMqUsersResourceProperties(args: {
  readonly spec: RabbitMqApplicationUsersSpec;
  readonly broker: RabbitMqBrokerSpec;
  readonly managementUrl: string;
  readonly adminSecretArn: string;
  readonly userSecretArns: readonly string[];
}): Record<string, unknown> {
  const { spec } = args;
  return {
    ManagementUrl: args.managementUrl,
    AdminSecretArn: args.adminSecretArn,
    Vhost: spec.vhost,
    DefaultQueueType: args.broker.quorumQueues ? 'quorum' : undefined,
    DeadLetterQueue: spec.deadLetter?.queue,
    DeliveryLimit: spec.deadLetter?.definition['delivery-limit'],
    ReplaceDirectExchanges: spec.directExchangesToReplace.length ? [...spec.directExchangesToReplace] : undefined,
    Users: spec.users.map((u, i) => ({
      Name: u.username,
      PasswordSecretArn: args.userSecretArns[i],
      Configure: u.permissions.configure,
      Write: u.permissions.write,
      Read: u.permissions.read,
    })),
  };
}

/** The client-certificate issuer (outside the VPC: AWS Private CA and Secrets Manager APIs only) and its schedule. */
export function clientCertificateFunctionPlan(args: {
  readonly mutualTls: RabbitMqMutualTlsSpec;
  readonly secretArns: readonly string[];
  readonly keyArn: string;
  readonly region: string;
  readonly partition: string;
}): { readonly function: LibraryFunctionPlan; readonly schedule: RotationPlan } {
  const d = DEFAULTS.rabbitmq.clientCertificates;
  const { mutualTls } = args;
  return {
    function: {
      id: 'CertificateFunction',
      purpose: 'issues the Celery client certificates from the private CA',
      asset: 'client-certificates',
      handler: 'index.onRotate',
      statements: clientCertificateIssuerStatements({
        caArn: mutualTls.caArn,
        secretArns: args.secretArns,
        keyArn: args.keyArn,
        region: args.region,
        partition: args.partition,
      }),
      environment: {
        CA_ARN: mutualTls.caArn,
        SIGNING_ALGORITHM: mutualTls.caSigningAlgorithm,
        VALIDITY_DAYS: String(mutualTls.validityDays),
        WAIT_SECONDS: String(d.issueWaitSeconds),
      },
      // The wait for AWS Private CA to sign, and a minute for the rest.
      timeoutSeconds: d.issueWaitSeconds + 60,
      inVpc: false,
    },
    schedule: { days: mutualTls.renewDays },
  };
}

/**
 * The ElastiCache RBAC users' rotation (outside the VPC: ElastiCache and Secrets Manager APIs only, never the cache)
 * and its schedule.
 */
export function redisUsersRotationPlan(args: {
  readonly rbac: RedisRbacSpec;
  readonly secretArns: readonly string[];
  readonly userArns: readonly string[];
  readonly keyArn: string;
  readonly region: string;
}): { readonly function: LibraryFunctionPlan; readonly schedule: RotationPlan } {
  const d = DEFAULTS.redis.rbac;
  return {
    function: {
      id: 'RotationFunction',
      purpose: 'rotates the Celery ElastiCache user passwords',
      asset: 'elasticache-users',
      handler: 'index.onRotate',
      statements: redisUserRotationStatements({
        secretArns: args.secretArns,
        userArns: args.userArns,
        keyArn: args.keyArn,
        region: args.region,
      }),
      environment: {
        PASSWORD_LENGTH: String(args.rbac.users[0].secret.length),
        WAIT_SECONDS: String(d.rotationWaitSeconds),
      },
      timeoutSeconds: d.rotationFunctionTimeoutSeconds,
      inVpc: false,
    },
    schedule: { days: args.rbac.rotationDays },
  };
}

/** The signing-keys function and its schedules (lib/core/security-keys.ts holds the plan). */
export { signingKeysFunctionPlan } from './security-keys';
