/**
 * What every rotation function here shares: the Secrets Manager rotation event, the Secrets Manager calls rotation
 * needs (the SDK of the Lambda runtime by default, an in-memory store in tests), and the checks each step starts with.
 * @see https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotate-secrets_lambda-functions.html
 */
export const CURRENT = 'AWSCURRENT';
export const PENDING = 'AWSPENDING';

export interface RotationEvent {
  readonly SecretId: string;
  readonly ClientRequestToken: string;
  readonly Step: 'createSecret' | 'setSecret' | 'testSecret' | 'finishSecret';
}

/** The Secrets Manager calls rotation needs (the default uses the AWS SDK; tests pass an in-memory store). */
export interface RotationSecrets {
  /** The value of a version by stage or id; undefined when no such version exists. */
  get(arn: string, select: { stage: string; versionId?: string }): Promise<string | undefined>;
  /** Whether rotation is on, and the stages of each version id. */
  describe(arn: string): Promise<{ rotationEnabled: boolean; versions: Record<string, string[]> }>;
  randomPassword(length: number): Promise<string>;
  putPending(arn: string, token: string, value: string): Promise<void>;
  /** Moves AWSCURRENT to `token`, away from `fromVersionId`. */
  promote(arn: string, token: string, fromVersionId: string): Promise<void>;
  /** Sets a tag on the secret (non-secret facts only, readable with DescribeSecret). */
  tag(arn: string, key: string, value: string): Promise<void>;
}

/**
 * The checks each step starts with: rotation is on, the token is a version of the secret, and it is AWSPENDING.
 * Returns undefined when the version is already AWSCURRENT (the step has nothing left to do), else the stages of
 * every version.
 */
export async function pendingVersions(
  secrets: RotationSecrets,
  arn: string,
  token: string,
): Promise<Record<string, string[]> | undefined> {
  const described = await secrets.describe(arn);
  if (!described.rotationEnabled) throw new Error(`secret ${arn} does not have rotation enabled`);
  const stages = described.versions[token];
  if (!stages) throw new Error(`secret ${arn} has no version ${token}`);
  if (stages.includes(CURRENT)) return undefined;
  if (!stages.includes(PENDING)) throw new Error(`version ${token} of secret ${arn} is not ${PENDING}`);
  return described.versions;
}

/** Replaces every known secret value in a text, so that no message can carry one. */
export function redact(text: string, known: readonly string[]): string {
  return known.reduce((t, s) => (s ? t.split(s).join('***') : t), text);
}

/** What a rotation step gets: the secret, the token, and a list to add every secret value it handles to. */
export interface RotationStepContext {
  readonly arn: string;
  readonly token: string;
  /** Each value added here is redacted from any error the step throws. */
  readonly known: string[];
}

export type RotationStep = (ctx: RotationStepContext) => Promise<void>;

/**
 * A rotation function from its createSecret, setSecret and testSecret steps: the checks every step starts with, the
 * common finishSecret (AWSCURRENT moves to the token), and errors that name the step and the secret and carry no
 * secret value.
 */
export function rotationHandler(
  secrets: RotationSecrets,
  steps: {
    readonly createSecret: RotationStep;
    readonly setSecret: RotationStep;
    readonly testSecret: RotationStep;
    /** Runs after finishSecret made the token AWSCURRENT (e.g. records a fact of the new version). */
    readonly finished?: RotationStep;
  },
  log: (line: string) => void,
): (event: RotationEvent) => Promise<void> {
  return async (event) => {
    const { SecretId: arn, ClientRequestToken: token, Step: step } = event;
    const known: string[] = [];
    try {
      const versions = await pendingVersions(secrets, arn, token);
      if (!versions) {
        log(`${step}: version ${token} is already ${CURRENT}`);
        return;
      }
      if (step === 'finishSecret') {
        await promotePending(secrets, arn, token, versions);
        log(`finishSecret: version ${token} is ${CURRENT}`);
        await steps.finished?.({ arn, token, known });
        return;
      }
      const run = (steps as Record<string, RotationStep | undefined>)[step];
      if (!run)
        throw new Error(`Step ${JSON.stringify(step)} is not createSecret, setSecret, testSecret or finishSecret`);
      await run({ arn, token, known });
    } catch (err) {
      throw new Error(redact(`${step} of ${arn} failed: ${(err as Error).message}`, known));
    }
  };
}

/** Moves AWSCURRENT to the token (finishSecret). */
export async function promotePending(
  secrets: RotationSecrets,
  arn: string,
  token: string,
  versions: Record<string, string[]>,
): Promise<void> {
  const from = Object.entries(versions).find(([, s]) => s.includes(CURRENT))?.[0];
  if (!from) throw new Error(`secret ${arn} has no ${CURRENT} version`);
  await secrets.promote(arn, token, from);
}

/** Secrets Manager through the SDK of the Lambda runtime (loaded lazily, as in the custom resource). */
export function sdkRotationSecrets(): RotationSecrets {
  const sm = require('@aws-sdk/client-secrets-manager');
  const endpoint = process.env.SECRETS_MANAGER_ENDPOINT;
  const client = new sm.SecretsManagerClient(endpoint ? { endpoint } : {});
  return {
    async get(arn, select) {
      try {
        const out = await client.send(
          new sm.GetSecretValueCommand({ SecretId: arn, VersionStage: select.stage, VersionId: select.versionId }),
        );
        return out.SecretString;
      } catch (err) {
        if ((err as { name?: string }).name === 'ResourceNotFoundException') return undefined;
        throw err;
      }
    },
    async describe(arn) {
      const out = await client.send(new sm.DescribeSecretCommand({ SecretId: arn }));
      return { rotationEnabled: out.RotationEnabled === true, versions: out.VersionIdsToStages ?? {} };
    },
    async randomPassword(length) {
      const out = await client.send(
        new sm.GetRandomPasswordCommand({
          PasswordLength: length,
          ExcludePunctuation: true,
          IncludeSpace: false,
          RequireEachIncludedType: true,
        }),
      );
      return out.RandomPassword;
    },
    async putPending(arn, token, value) {
      await client.send(
        new sm.PutSecretValueCommand({
          SecretId: arn,
          ClientRequestToken: token,
          SecretString: value,
          VersionStages: [PENDING],
        }),
      );
    },
    async promote(arn, token, fromVersionId) {
      await client.send(
        new sm.UpdateSecretVersionStageCommand({
          SecretId: arn,
          VersionStage: CURRENT,
          MoveToVersionId: token,
          RemoveFromVersionId: fromVersionId,
        }),
      );
    },
    async tag(arn, key, value) {
      await client.send(new sm.TagResourceCommand({ SecretId: arn, Tags: [{ Key: key, Value: value }] }));
    },
  };
}
