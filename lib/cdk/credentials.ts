import { Stack } from 'aws-cdk-lib';
import * as acmpca from 'aws-cdk-lib/aws-acmpca';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { heldChoice, holdChoice } from '../core/choices';
import type { BrokerClientCertificatesChoice, BrokerCredentialsChoice, RedisAuthChoice } from '../core/choices';
import { BrokerPlan, CachePlan } from '../core/plan';
import type { BrokerClientCertificateOptions, RabbitMqMutualTlsSpec } from '../core/rabbitmq-mtls';
import type { SubordinateCaOptions, SubordinateCaSpec } from '../core/rabbitmq-mtls';
import { CeleryRole, userIdStem } from '../core/rabbitmq-users';
import { RedisRbacOptions } from '../core/redis-rbac';
import { createGeneratedSecret, defaultRemovalPolicy } from './common';
import { WIRE } from '../core/wire';

/** One ElastiCache RBAC user of a cache. */
export interface RedisRbacUser {
  /** The name clients log in with. */
  readonly username: string;
  /** The ElastiCache user id. */
  readonly userId: string;
  /** The roles it serves (both for a shared user). */
  readonly roles: readonly CeleryRole[];
  /** `{"username", "user_id", "password"}`, CMK-encrypted, rotated. */
  readonly secret: secretsmanager.ISecret;
  /** The user resource. */
  readonly resource: elasticache.CfnUser;
}

/** What a cache's `RedisAuth` made in it. */
export interface RedisAuthBinding {
  /** The AUTH token's secret (token auth only). */
  readonly authTokenSecret?: secretsmanager.ISecret;
  /** The JSON field of the token in `authTokenSecret`. */
  readonly authTokenSecretField: string;
  /** With `RedisAuth.rbacUsers()`: the users. */
  readonly rbacUsers?: readonly RedisRbacUser[];
  /** With `RedisAuth.rbacUsers()`: the group of the users and the switched-off `default` user. */
  readonly userGroup?: elasticache.CfnUserGroup;
}

/**
 * How a cache authenticates clients: an AUTH token, or ElastiCache RBAC users.
 * @see https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/auth.html
 */
export class RedisAuth {
  /**
   * Generate a `[A-Za-z0-9]` token into a new Secrets Manager secret (JSON `{"password": ...}`) encrypted with the
   * cache's key.
   * @param options.length 16 to 128. @default 64
   */
  public static generatedToken(options: { length?: number } = {}): RedisAuth {
    return new RedisAuth({ kind: 'generatedToken', length: options.length });
  }

  /**
   * ElastiCache RBAC instead of an AUTH token: a producer and a worker user (or one shared user) with the access
   * string Celery needs, passwords generated into CMK-encrypted secrets (`{"username", "user_id", "password"}`) and
   * rotated every 30 days by the two-password approach, and the group's mandatory `default` user switched off.
   * Pick it for new caches: it rotates without any CloudFormation change and gives each role its own identity.
   * Switching an existing cache from an AUTH token to RBAC is not a CloudFormation update (see the README).
   */
  public static rbacUsers(options: RedisRbacOptions = {}): RedisAuth {
    return new RedisAuth({ kind: 'rbacUsers', options });
  }

  /**
   * Use an existing secret. Its field must hold 16 to 128 characters from `[A-Za-z0-9]` (ElastiCache also accepts
   * `! & # $ ^ < > -`, which then must be percent-encoded by clients; the rendered settings do that).
   * @param field JSON field that holds the token. @default "password"
   */
  public static fromSecret(secret: secretsmanager.ISecret, field?: string): RedisAuth {
    return new RedisAuth({ kind: 'existingToken', secret, field });
  }

  private constructor(choice: RedisAuthChoice<secretsmanager.ISecret>) {
    holdChoice(this, choice);
  }

  /**
   * Makes the secret or the users of this choice in the cache (called by `RedisCache`): ids `AuthToken`, or
   * `DefaultUser`, `<Role>Credentials`, `<Role>User` and `UserGroup`.
   */
  public bind(cache: Construct, plan: CachePlan, key: kms.IKey): RedisAuthBinding {
    const choice = heldChoice<RedisAuthChoice<secretsmanager.ISecret>>(this);
    const authTokenSecretField = plan.tokenField;
    if (plan.spec.authMode === 'token') {
      const authTokenSecret =
        choice.kind === 'existingToken'
          ? choice.secret
          : createGeneratedSecret(cache, 'AuthToken', plan.spec.authToken!, key);
      return { authTokenSecret, authTokenSecretField };
    }
    if (plan.spec.authMode !== 'rbac' || !plan.rbac) return { authTokenSecretField };
    const rbac = plan.rbac;
    const defaultUser = new elasticache.CfnUser(cache, 'DefaultUser', {
      engine: rbac.engine,
      userId: rbac.defaultUser.userId,
      userName: rbac.defaultUser.userName,
      accessString: rbac.defaultUser.accessString,
      authenticationMode: { Type: 'no-password-required' },
    });
    const rbacUsers = rbac.users.map((u) => {
      const name = userIdStem(u.roles);
      const secret = createGeneratedSecret(cache, `${name}Credentials`, u.secret, key);
      const resource = new elasticache.CfnUser(cache, `${name}User`, {
        engine: rbac.engine,
        userId: u.userId,
        userName: u.username,
        accessString: u.accessString,
        authenticationMode: {
          Type: 'password',
          Passwords: [secret.secretValueFromJson(WIRE.secretPasswordField).unsafeUnwrap()],
        },
      });
      return { username: u.username, userId: u.userId, roles: u.roles, secret, resource };
    });
    const userGroup = new elasticache.CfnUserGroup(cache, 'UserGroup', {
      engine: rbac.engine,
      userGroupId: rbac.userGroupId,
      userIds: [defaultUser.ref, ...rbacUsers.map((u) => u.resource.ref)],
    });
    return { authTokenSecretField, rbacUsers, userGroup };
  }
}

/** What a broker's `BrokerCredentials` made in it. */
export interface BrokerCredentialsBinding {
  /** JSON secret with `username` and `password` of the admin user. */
  readonly adminSecret: secretsmanager.ISecret;
  /** The secret when it was generated here (it is then rotated with the users). */
  readonly generatedAdminSecret?: secretsmanager.Secret;
  /** The key of the admin secret, when known. */
  readonly encryptionKey?: kms.IKey;
}

/** The admin credentials of an Amazon MQ broker. */
export class BrokerCredentials {
  /**
   * Generate a `[A-Za-z0-9]` password into a new secret (JSON `{"username", "password"}`) encrypted with the broker's
   * key. The characters are valid for Amazon MQ and safe in URLs.
   * @param options.length 12 to 250. @default 32
   */
  public static generated(options: { length?: number } = {}): BrokerCredentials {
    return new BrokerCredentials({ kind: 'generated', length: options.length });
  }

  /**
   * Use an existing JSON secret whose `password` field holds the admin password (12 to 250 characters, at least 4
   * unique, no `, : =`). The user name is the broker's `adminUsername`.
   */
  public static fromSecret(secret: secretsmanager.ISecret): BrokerCredentials {
    return new BrokerCredentials({ kind: 'existing', secret });
  }

  private constructor(choice: BrokerCredentialsChoice<secretsmanager.ISecret>) {
    holdChoice(this, choice);
  }

  /**
   * Makes the admin secret of this choice in the broker (called by `RabbitMqBroker`): ids `Key` (unless a key is
   * given) and `AdminCredentials`.
   * @param makeKey the key of a generated secret
   */
  public bind(broker: Construct, plan: BrokerPlan, makeKey: () => kms.IKey): BrokerCredentialsBinding {
    const choice = heldChoice<BrokerCredentialsChoice<secretsmanager.ISecret>>(this);
    if (choice.kind === 'existing') return { adminSecret: choice.secret, encryptionKey: choice.secret.encryptionKey };
    const encryptionKey = makeKey();
    const secret = createGeneratedSecret(broker, 'AdminCredentials', plan.spec.adminSecret!, encryptionKey);
    return { adminSecret: secret, generatedAdminSecret: secret, encryptionKey };
  }
}

/** What a broker's `BrokerClientCertificates` made in it. */
export interface BrokerClientCertificatesBinding {
  /** The CA, the trust anchor and the certificate lifetimes. */
  readonly mutualTls: RabbitMqMutualTlsSpec;
  /** With `newSubordinateCa()`: the CA, and its activation (certificates are issued after it). */
  readonly clientCa?: {
    readonly authority: acmpca.CfnCertificateAuthority;
    readonly activation: acmpca.CfnCertificateAuthorityActivation;
  };
}

/**
 * Client certificates for mutual TLS to a RabbitMQ 4.2 broker: the broker requires a certificate from this AWS
 * Private CA and logs clients in by its common name (EXTERNAL), so a stolen password is not enough. Each application
 * user gets a certificate (common name = user name), issued into a CMK-encrypted secret by a rotation function and
 * re-issued every `renewDays`.
 */
export class BrokerClientCertificates {
  /**
   * Certificates from an existing AWS Private CA in this account and region (the common, cheap case: a
   * general-purpose CA costs about $400 a month, one in short-lived mode about $50). Use a CA whose own certificate is
   * enough to verify the client certificates (Amazon MQ trusts the CA's certificate, not its chain).
   */
  public static fromPrivateCa(caArn: string, options: BrokerClientCertificateOptions = {}): BrokerClientCertificates {
    return new BrokerClientCertificates({ kind: 'privateCa', caArn, options });
  }

  /**
   * A new subordinate AWS Private CA for the broker's clients, signed by a parent CA of this account and region (a
   * root, usually), activated by CloudFormation and retained on delete. The broker trusts the parent (the root): see
   * `trustAnchorCaArn`. Costs about $400 a month (general purpose) or $50 (short-lived mode) on top of the parent.
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
   * `ClientCaCertificate` and `ClientCaActivation`, all retained on delete.
   */
  public bind(broker: Construct, plan: BrokerPlan): BrokerClientCertificatesBinding {
    const mutualTls = plan.mutualTls!;
    if (!plan.subordinateCa) return { mutualTls };
    const clientCa = createSubordinateCa(broker, plan.subordinateCa);
    return { mutualTls: { ...mutualTls, caArn: clientCa.authority.attrArn }, clientCa };
  }
}

function createSubordinateCa(scope: Construct, sub: SubordinateCaSpec) {
  const authority = new acmpca.CfnCertificateAuthority(scope, 'ClientCa', {
    type: 'SUBORDINATE',
    keyAlgorithm: sub.keyAlgorithm,
    signingAlgorithm: sub.signingAlgorithm,
    subject: { commonName: sub.commonName },
    usageMode: sub.usageMode,
  });
  const certificate = new acmpca.CfnCertificate(scope, 'ClientCaCertificate', {
    certificateAuthorityArn: sub.parentCaArn,
    certificateSigningRequest: authority.attrCertificateSigningRequest,
    signingAlgorithm: sub.parentSigningAlgorithm,
    templateArn: sub.templateArn(Stack.of(scope).partition),
    validity: { type: 'YEARS', value: sub.validityYears },
  });
  const activation = new acmpca.CfnCertificateAuthorityActivation(scope, 'ClientCaActivation', {
    certificateAuthorityArn: authority.attrArn,
    certificate: certificate.attrCertificate,
    certificateChain: sub.parentCertificateChain,
    status: 'ACTIVE',
  });
  // Deleting a CA invalidates every certificate it issued: keep it, like the keys and secrets.
  authority.applyRemovalPolicy(defaultRemovalPolicy('certificateAuthority'));
  activation.applyRemovalPolicy(defaultRemovalPolicy('certificateAuthority'));
  return { authority, activation };
}
