import { Construct } from 'constructs';
import { heldChoice, holdChoice } from '../core/choices';
import type { BrokerClientCertificatesChoice, BrokerCredentialsChoice, RedisAuthChoice } from '../core/choices';
import { DEFAULTS } from '../core/defaults';
import { BrokerPlan, CachePlan } from '../core/plan';
import type { BrokerClientCertificateOptions, RabbitMqMutualTlsSpec } from '../core/rabbitmq-mtls';
import type { SubordinateCaOptions, SubordinateCaSpec } from '../core/rabbitmq-mtls';
import { CeleryRole, userIdStem } from '../core/rabbitmq-users';
import { RedisRbacOptions } from '../core/redis-rbac';
import { WIRE } from '../core/wire';
import { ExistingSecret, GeneratedSecret, SecretSource, awsFacts } from './common';
import { AcmpcaCertificate, AcmpcaCertificateAuthority, AcmpcaCertificateAuthorityCertificate } from './provider';
import { ElasticacheUser, ElasticacheUserGroup } from './provider';

/** An existing secret on Terraform: its ARN, and its key for the `kms:Decrypt` statements of readers. */
interface SecretArn {
  readonly secretArn: string;
  readonly encryptionKeyArn?: string;
}

/** One ElastiCache RBAC user of a cache (Terraform). */
export interface RedisRbacUser {
  /** The name clients log in with. */
  readonly username: string;
  /** The ElastiCache user id. */
  readonly userId: string;
  /** The roles it serves (both for a shared user). */
  readonly roles: readonly CeleryRole[];
  /** `{"username", "user_id", "password"}`, CMK-encrypted, rotated. */
  readonly secret: GeneratedSecret;
  /** The `aws_elasticache_user`. */
  readonly resource: ElasticacheUser;
}

/** What a cache's `RedisAuth` made in it. */
export interface RedisAuthBinding {
  /** The AUTH token's secret (token auth only). */
  readonly authTokenSecret?: SecretSource;
  /** The JSON field of the token. */
  readonly authTokenSecretField: string;
  /** With `RedisAuth.rbacUsers()`: the users. */
  readonly rbacUsers?: readonly RedisRbacUser[];
  /** With `RedisAuth.rbacUsers()`: the group of the users and the switched-off `default` user. */
  readonly userGroup?: ElasticacheUserGroup;
}

/**
 * How a cache authenticates clients with an AUTH token (Terraform flavour: a secret is created, or named by ARN; a
 * plain-string token is never accepted).
 * @see https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/auth.html
 */
export class RedisAuth {
  /**
   * Generate a `[A-Za-z0-9]` token at apply time into a new Secrets Manager secret (JSON `{"password": ...}`)
   * encrypted with the cache's key.
   * @param options.length 16 to 128. @default 64
   */
  public static generatedToken(options: { length?: number } = {}): RedisAuth {
    return new RedisAuth({ kind: 'generatedToken', length: options.length });
  }

  /**
   * ElastiCache RBAC instead of an AUTH token: a producer and a worker user (or one shared user) with the access
   * string Celery needs, passwords generated at apply time into CMK-encrypted secrets (`{"username", "user_id",
   * "password"}`) and rotated every 30 days by the two-password approach, and the group's mandatory `default` user
   * switched off. What reaches the Terraform state is listed in docs/cdktf.md.
   */
  public static rbacUsers(options: RedisRbacOptions = {}): RedisAuth {
    return new RedisAuth({ kind: 'rbacUsers', options });
  }

  /**
   * Use an existing secret, read at apply time. Its field must hold 16 to 128 characters from `[A-Za-z0-9]`
   * (ElastiCache also accepts `! & # $ ^ < > -`, which then must be percent-encoded by clients; the rendered
   * settings do that).
   * @param options.field JSON field that holds the token. @default "password"
   * @param options.encryptionKeyArn key of the secret, for the `kms:Decrypt` statement of readers. @default - none
   */
  public static fromSecretArn(
    secretArn: string,
    options: { field?: string; encryptionKeyArn?: string } = {},
  ): RedisAuth {
    return new RedisAuth({
      kind: 'existingToken',
      secret: { secretArn, encryptionKeyArn: options.encryptionKeyArn },
      field: options.field,
    });
  }

  private constructor(choice: RedisAuthChoice<SecretArn>) {
    holdChoice(this, choice);
  }

  /**
   * Makes or reads the secret or the users of this choice in the cache (called by `RedisCache`): ids `AuthToken`, or
   * `DefaultUser`, `<Role>Credentials`, `<Role>User` and `UserGroup`.
   */
  public bind(cache: Construct, plan: CachePlan, encryptionKeyArn: string): RedisAuthBinding {
    const choice = heldChoice<RedisAuthChoice<SecretArn>>(this);
    const authTokenSecretField = plan.tokenField;
    if (plan.spec.authMode === 'token') {
      const authTokenSecret =
        choice.kind === 'existingToken'
          ? new ExistingSecret(cache, 'AuthToken', {
              secretArn: choice.secret.secretArn,
              field: authTokenSecretField,
              encryptionKeyArn: choice.secret.encryptionKeyArn,
            })
          : new GeneratedSecret(cache, 'AuthToken', {
              shape: plan.spec.authToken!,
              encryptionKeyArn,
              version: plan.terraform!.authTokenVersion!,
            });
      return { authTokenSecret, authTokenSecretField };
    }
    if (plan.spec.authMode !== 'rbac' || !plan.rbac) return { authTokenSecretField };
    const rbac = plan.rbac;
    const defaultUser = new ElasticacheUser(cache, 'DefaultUser', {
      engine: rbac.engine,
      userId: rbac.defaultUser.userId,
      userName: rbac.defaultUser.userName,
      accessString: rbac.defaultUser.accessString,
      authenticationMode: { type: 'no-password-required' },
    });
    const rbacUsers = rbac.users.map((u) => {
      const name = userIdStem(u.roles);
      const secret = new GeneratedSecret(cache, `${name}Credentials`, {
        shape: u.secret,
        encryptionKeyArn,
        version: DEFAULTS.terraform.generatedSecretVersion,
      });
      const resource = new ElasticacheUser(cache, `${name}User`, {
        engine: rbac.engine,
        userId: u.userId,
        userName: u.username,
        accessString: u.accessString,
        // The first password, read from the version Terraform wrote; the rotation function owns it afterwards.
        authenticationMode: { type: 'password', passwords: [secret.value] },
        lifecycle: { ignoreChanges: ['authentication_mode'] },
      });
      return { username: u.username, userId: u.userId, roles: u.roles, secret, resource };
    });
    const userGroup = new ElasticacheUserGroup(cache, 'UserGroup', {
      engine: rbac.engine,
      userGroupId: rbac.userGroupId,
      userIds: [defaultUser.userId, ...rbacUsers.map((u) => u.resource.userId)],
    });
    return { authTokenSecretField, rbacUsers, userGroup };
  }
}

/** The admin credentials of an Amazon MQ broker (Terraform flavour). */
export class BrokerCredentials {
  /**
   * Generate a `[A-Za-z0-9]` password at apply time into a new secret (JSON `{"username", "password"}`) encrypted
   * with the broker's key. The characters are valid for Amazon MQ and safe in URLs.
   * @param options.length 12 to 250. @default 32
   */
  public static generated(options: { length?: number } = {}): BrokerCredentials {
    return new BrokerCredentials({ kind: 'generated', length: options.length });
  }

  /**
   * Use an existing JSON secret, read at apply time, whose `password` field holds the admin password (12 to 250
   * characters, at least 4 unique, no `, : =`). The user name is the broker's `adminUsername`.
   * @param options.encryptionKeyArn key of the secret, for the `kms:Decrypt` statement of readers. @default - none
   */
  public static fromSecretArn(secretArn: string, options: { encryptionKeyArn?: string } = {}): BrokerCredentials {
    return new BrokerCredentials({
      kind: 'existing',
      secret: { secretArn, encryptionKeyArn: options.encryptionKeyArn },
    });
  }

  private constructor(choice: BrokerCredentialsChoice<SecretArn>) {
    holdChoice(this, choice);
  }

  /**
   * Makes or reads the admin secret of this choice in the broker (called by `RabbitMqBroker`): id `AdminCredentials`.
   * @param keyArn the key of a generated secret (called only when one is generated)
   */
  public bind(broker: Construct, plan: BrokerPlan, keyArn: () => string): SecretSource {
    const choice = heldChoice<BrokerCredentialsChoice<SecretArn>>(this);
    if (choice.kind === 'existing') {
      return new ExistingSecret(broker, 'AdminCredentials', {
        secretArn: choice.secret.secretArn,
        field: WIRE.secretPasswordField,
        encryptionKeyArn: choice.secret.encryptionKeyArn,
      });
    }
    // Amazon MQ for RabbitMQ keeps the user of the creation request and ignores later changes: no version prop.
    return new GeneratedSecret(broker, 'AdminCredentials', {
      shape: plan.spec.adminSecret!,
      encryptionKeyArn: keyArn(),
      version: DEFAULTS.terraform.generatedSecretVersion,
    });
  }
}

/** What a broker's `BrokerClientCertificates` made in it. */
export interface BrokerClientCertificatesBinding {
  /** The CA, the trust anchor and the certificate lifetimes. */
  readonly mutualTls: RabbitMqMutualTlsSpec;
  /** With `newSubordinateCa()`: the CA, and its installed certificate (certificates are issued after it). */
  readonly clientCa?: {
    readonly authority: AcmpcaCertificateAuthority;
    readonly activation: AcmpcaCertificateAuthorityCertificate;
  };
}

/**
 * Client certificates for mutual TLS to a RabbitMQ 4.2 broker (Terraform flavour): the broker requires a certificate
 * from this AWS Private CA and logs clients in by its common name (EXTERNAL), so a stolen password is not enough. Each
 * application user gets a certificate (common name = user name), issued into a CMK-encrypted secret by a rotation
 * function and re-issued every `renewDays`.
 */
export class BrokerClientCertificates {
  /**
   * Certificates from an existing AWS Private CA in this account and region. Use a CA whose own certificate is enough
   * to verify the client certificates (Amazon MQ trusts the CA's certificate, not its chain).
   */
  public static fromPrivateCa(caArn: string, options: BrokerClientCertificateOptions = {}): BrokerClientCertificates {
    return new BrokerClientCertificates({ kind: 'privateCa', caArn, options });
  }

  /**
   * A new subordinate AWS Private CA for the broker's clients, signed by a parent CA of this account and region (a
   * root, usually), activated by installing its certificate, and protected with `prevent_destroy`. The broker trusts
   * the parent (the root): see `trustAnchorCaArn`.
   */
  public static newSubordinateCa(
    options: SubordinateCaOptions & BrokerClientCertificateOptions,
  ): BrokerClientCertificates {
    return new BrokerClientCertificates({ kind: 'subordinateCa', subordinate: options, options });
  }

  private constructor(choice: BrokerClientCertificatesChoice) {
    holdChoice(this, choice);
  }

  /**
   * Makes the subordinate CA of this choice in the broker, if it is one (called by `RabbitMqBroker`): ids `ClientCa`,
   * `ClientCaCertificate` and `ClientCaActivation`.
   */
  public bind(broker: Construct, plan: BrokerPlan): BrokerClientCertificatesBinding {
    const mutualTls = plan.mutualTls!;
    if (!plan.subordinateCa) return { mutualTls };
    const clientCa = createSubordinateCa(broker, plan.subordinateCa);
    return { mutualTls: { ...mutualTls, caArn: clientCa.authority.arn }, clientCa };
  }
}

function createSubordinateCa(scope: Construct, sub: SubordinateCaSpec) {
  // Destroying a CA invalidates every certificate it issued: Terraform refuses to destroy it or its installed
  // certificate, like the keys (the CDK side retains the same two).
  const lifecycle = { preventDestroy: DEFAULTS.terraform.keyPreventDestroy };
  const authority = new AcmpcaCertificateAuthority(scope, 'ClientCa', {
    type: 'SUBORDINATE',
    certificateAuthorityConfiguration: {
      keyAlgorithm: sub.keyAlgorithm,
      signingAlgorithm: sub.signingAlgorithm,
      subject: { commonName: sub.commonName },
    },
    usageMode: sub.usageMode,
    lifecycle,
  });
  const certificate = new AcmpcaCertificate(scope, 'ClientCaCertificate', {
    certificateAuthorityArn: sub.parentCaArn,
    certificateSigningRequest: authority.certificateSigningRequest,
    signingAlgorithm: sub.parentSigningAlgorithm,
    templateArn: sub.templateArn(awsFacts(scope).partition),
    validity: { type: 'YEARS', value: String(sub.validityYears) },
  });
  const activation = new AcmpcaCertificateAuthorityCertificate(scope, 'ClientCaActivation', {
    certificateAuthorityArn: authority.arn,
    certificate: certificate.certificate,
    certificateChain: sub.parentCertificateChain,
    lifecycle,
  });
  return { authority, activation };
}
