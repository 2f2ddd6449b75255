import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { BrokerClientCertificateOptions, SubordinateCaOptions } from '../core/rabbitmq-mtls';
import { RedisRbacOptions } from '../core/redis-rbac';

/**
 * How a cache authenticates clients with an AUTH token.
 * @see https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/auth.html
 */
export class RedisAuth {
  /**
   * Generate a `[A-Za-z0-9]` token into a new Secrets Manager secret (JSON `{"password": ...}`) encrypted with the
   * cache's key.
   * @param options.length 16 to 128. @default 64
   */
  public static generatedToken(options: { length?: number } = {}): RedisAuth {
    return new RedisAuth(options.length, undefined, undefined, undefined);
  }

  /**
   * ElastiCache RBAC instead of an AUTH token: a producer and a worker user (or one shared user) with the access
   * string Celery needs, passwords generated into CMK-encrypted secrets (`{"username", "user_id", "password"}`) and
   * rotated every 30 days by the two-password approach, and the group's mandatory `default` user switched off.
   * Pick it for new caches: it rotates without any CloudFormation change and gives each role its own identity.
   * Switching an existing cache from an AUTH token to RBAC is not a CloudFormation update (see the README).
   */
  public static rbacUsers(options: RedisRbacOptions = {}): RedisAuth {
    return new RedisAuth(undefined, undefined, undefined, options);
  }

  /**
   * Use an existing secret. Its field must hold 16 to 128 characters from `[A-Za-z0-9]` (ElastiCache also accepts
   * `! & # $ ^ < > -`, which then must be percent-encoded by clients; the rendered settings do that).
   * @param field JSON field that holds the token. @default "password"
   */
  public static fromSecret(secret: secretsmanager.ISecret, field?: string): RedisAuth {
    return new RedisAuth(undefined, secret, field, undefined);
  }

  private constructor(
    /** @internal */ public readonly _length: number | undefined,
    /** @internal */ public readonly _secret: secretsmanager.ISecret | undefined,
    /** @internal */ public readonly _field: string | undefined,
    /** @internal */ public readonly _rbac: RedisRbacOptions | undefined,
  ) {}
}

/** The admin credentials of an Amazon MQ broker. */
export class BrokerCredentials {
  /**
   * Generate a `[A-Za-z0-9]` password into a new secret (JSON `{"username", "password"}`) encrypted with the broker's
   * key. The characters are valid for Amazon MQ and safe in URLs.
   * @param options.length 12 to 250. @default 32
   */
  public static generated(options: { length?: number } = {}): BrokerCredentials {
    return new BrokerCredentials(options.length, undefined);
  }

  /**
   * Use an existing JSON secret whose `password` field holds the admin password (12 to 250 characters, at least 4
   * unique, no `, : =`). The user name is the broker's `adminUsername`.
   */
  public static fromSecret(secret: secretsmanager.ISecret): BrokerCredentials {
    return new BrokerCredentials(undefined, secret);
  }

  private constructor(
    /** @internal */ public readonly _length: number | undefined,
    /** @internal */ public readonly _secret: secretsmanager.ISecret | undefined,
  ) {}
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
    return new BrokerClientCertificates(caArn, options, undefined);
  }

  /**
   * A new subordinate AWS Private CA for the broker's clients, signed by a parent CA of this account and region (a
   * root, usually), activated by CloudFormation and retained on delete. The broker trusts the parent (the root): see
   * `trustAnchorCaArn`. Costs about $400 a month (general purpose) or $50 (short-lived mode) on top of the parent.
   */
  public static newSubordinateCa(options: SubordinateCaOptions & BrokerClientCertificateOptions): BrokerClientCertificates {
    return new BrokerClientCertificates(undefined, options, options);
  }

  private constructor(
    /** @internal */ public readonly _caArn: string | undefined,
    /** @internal */ public readonly _options: BrokerClientCertificateOptions,
    /** @internal */ public readonly _subordinate: SubordinateCaOptions | undefined,
  ) {}
}
