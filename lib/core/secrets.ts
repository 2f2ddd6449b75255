import { DEFAULTS } from './defaults';
import { IssueCollector, show } from './errors';
import { WIRE } from './wire';
import { LIMITS, LengthLimit } from './limits';

/**
 * The shape of a generated secret: what Secrets Manager (`GenerateSecretString` or `GetRandomPassword`) must produce
 * so that the service accepts it and it is safe in a URL. The core knows shapes, never values.
 */
export interface GeneratedSecretShape {
  /** Length of the generated password. */
  readonly length: number;
  /** Characters are `[A-Za-z0-9]` only. */
  readonly excludePunctuation: true;
  /** The password contains no space character. */
  readonly includeSpace: false;
  /** The password contains at least one character of each included type (upper case, lower case, digit). */
  readonly requireEachIncludedType: true;
  /** The JSON field the password is generated into. */
  readonly generateStringKey: string;
  /** Fixed JSON fields written next to the password (e.g. the user name). */
  readonly template: Record<string, string>;
  /** What the secret is for, used in descriptions. */
  readonly description: string;
}

/** Limits of a secret kind, with the reason shown in messages. */
function checkLength(issues: IssueCollector, prop: string, length: number | undefined, limits: LengthLimit): void {
  if (!issues.known(length)) return;
  if (!Number.isInteger(length) || length < limits.min || length > limits.max) {
    issues.error(
      'secret.length',
      prop,
      `${prop} ${show(length)} is not allowed: use a whole number from ${limits.min} to ${limits.max}. ${limits.rule}.`,
    );
  }
}

/** Shape of the generated ElastiCache AUTH token secret: `{"password": "<token>"}`. */
export function redisAuthTokenShape(issues: IssueCollector, prop: string, length?: number): GeneratedSecretShape {
  checkLength(issues, prop, length, LIMITS.redisAuthToken);
  return {
    length: length ?? DEFAULTS.redis.authTokenLength,
    excludePunctuation: true,
    includeSpace: false,
    requireEachIncludedType: true,
    generateStringKey: WIRE.secretPasswordField,
    template: {},
    description: 'ElastiCache AUTH token for Celery',
  };
}

/** Shape of a generated Amazon MQ user secret: `{"username": "...", "password": "..."}`. */
export function rabbitMqUserShape(
  issues: IssueCollector,
  prop: string,
  username: string,
  length?: number,
): GeneratedSecretShape {
  checkLength(issues, prop, length, LIMITS.rabbitMqPassword);
  return {
    length: length ?? DEFAULTS.rabbitmq.passwordLength,
    excludePunctuation: true,
    includeSpace: false,
    requireEachIncludedType: true,
    generateStringKey: WIRE.secretPasswordField,
    template: { [WIRE.secretUsernameField]: username },
    description: `Amazon MQ for RabbitMQ credentials of user ${username}`,
  };
}

/** Checks the JSON field name used to read a password out of a user-supplied secret. */
export function checkSecretField(issues: IssueCollector, prop: string, field: string | undefined): void {
  if (!issues.known(field)) return;
  if (!/^[A-Za-z0-9_.-]{1,128}$/.test(field)) {
    issues.error(
      'secret.field',
      prop,
      `${prop} ${show(field)} is not a usable JSON field name: use 1 to 128 letters, digits, "_", "." or "-".`,
    );
  }
}
