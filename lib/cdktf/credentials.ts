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
    return new RedisAuth(options.length, undefined, undefined, undefined);
  }

  /**
   * Use an existing secret, read at apply time. Its field must hold 16 to 128 characters from `[A-Za-z0-9]`
   * (ElastiCache also accepts `! & # $ ^ < > -`, which then must be percent-encoded by clients; the rendered
   * settings do that).
   * @param options.field JSON field that holds the token. @default "password"
   * @param options.encryptionKeyArn key of the secret, for the `kms:Decrypt` statement of readers. @default - none
   */
  public static fromSecretArn(secretArn: string, options: { field?: string; encryptionKeyArn?: string } = {}): RedisAuth {
    return new RedisAuth(undefined, secretArn, options.field, options.encryptionKeyArn);
  }

  private constructor(
    /** @internal */ public readonly _length: number | undefined,
    /** @internal */ public readonly _secretArn: string | undefined,
    /** @internal */ public readonly _field: string | undefined,
    /** @internal */ public readonly _keyArn: string | undefined,
  ) {}
}

/** The admin credentials of an Amazon MQ broker (Terraform flavour). */
export class BrokerCredentials {
  /**
   * Generate a `[A-Za-z0-9]` password at apply time into a new secret (JSON `{"username", "password"}`) encrypted
   * with the broker's key. The characters are valid for Amazon MQ and safe in URLs.
   * @param options.length 12 to 250. @default 32
   */
  public static generated(options: { length?: number } = {}): BrokerCredentials {
    return new BrokerCredentials(options.length, undefined, undefined);
  }

  /**
   * Use an existing JSON secret, read at apply time, whose `password` field holds the admin password (12 to 250
   * characters, at least 4 unique, no `, : =`). The user name is the broker's `adminUsername`.
   * @param options.encryptionKeyArn key of the secret, for the `kms:Decrypt` statement of readers. @default - none
   */
  public static fromSecretArn(secretArn: string, options: { encryptionKeyArn?: string } = {}): BrokerCredentials {
    return new BrokerCredentials(undefined, secretArn, options.encryptionKeyArn);
  }

  private constructor(
    /** @internal */ public readonly _length: number | undefined,
    /** @internal */ public readonly _secretArn: string | undefined,
    /** @internal */ public readonly _keyArn: string | undefined,
  ) {}
}
