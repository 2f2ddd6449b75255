import { Construct } from 'constructs';
import { BrokerCredentialsChoice, RedisAuthChoice, heldChoice, holdChoice } from '../core/choices';
import { DEFAULTS } from '../core/defaults';
import { BrokerPlan, CachePlan } from '../core/plan';
import { ExistingSecret, GeneratedSecret, SecretSource } from './common';
import { WIRE } from '../core/wire';

/** An existing secret on Terraform: its ARN, and its key for the `kms:Decrypt` statements of readers. */
interface SecretArn {
  readonly secretArn: string;
  readonly encryptionKeyArn?: string;
}

/** What a cache's `RedisAuth` made in it. */
export interface RedisAuthBinding {
  /** The AUTH token's secret (undefined only for an unsafe plaintext cache). */
  readonly authTokenSecret?: SecretSource;
  /** The JSON field of the token. */
  readonly authTokenSecretField: string;
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

  /** Makes or reads the AUTH-token secret of this choice in the cache (called by `RedisCache`): id `AuthToken`. */
  public bind(cache: Construct, plan: CachePlan, encryptionKeyArn: string): RedisAuthBinding {
    const choice = heldChoice<RedisAuthChoice<SecretArn>>(this);
    const field = plan.tokenField;
    if (!plan.spec.authEnabled) return { authTokenSecretField: field };
    const authTokenSecret =
      choice.kind === 'existingToken'
        ? new ExistingSecret(cache, 'AuthToken', {
            secretArn: choice.secret.secretArn,
            field,
            encryptionKeyArn: choice.secret.encryptionKeyArn,
          })
        : new GeneratedSecret(cache, 'AuthToken', {
            shape: plan.spec.authToken!,
            encryptionKeyArn,
            version: plan.terraform!.authTokenVersion!,
          });
    return { authTokenSecret, authTokenSecretField: field };
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
