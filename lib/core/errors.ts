/**
 * Validation results. Core checks are pure functions that return issues; adapters turn errors into a thrown
 * `ValidationError` and warnings into construct annotations.
 */
export interface ValidationIssue {
  /** Stable machine-readable code, e.g. `redis.transit-encryption-off`. */
  readonly code: string;
  /** The prop the issue is about, as the user wrote it (e.g. `engineVersion`, `authToken.length`). */
  readonly prop: string;
  /** Names the prop, shows the value received, says what is allowed and how to fix it. */
  readonly message: string;
}

export interface ValidationResult<T> {
  readonly value: T;
  readonly errors: ValidationIssue[];
  readonly warnings: ValidationIssue[];
}

/** Thrown by the adapters (at synth time) when props are invalid. */
export class ValidationError extends Error {
  /** The validation errors that make the configuration invalid. */
  public readonly issues: ValidationIssue[];

  constructor(where: string, issues: ValidationIssue[]) {
    super(`${where}: invalid configuration\n${issues.map((i) => `  - [${i.code}] ${i.message}`).join('\n')}`);
    this.name = 'ValidationError';
    this.issues = issues;
  }
}

/** Tells the core which values are deploy-time tokens; checks skip them. Each adapter passes its own. */
export interface ResolveContext {
  /** True for a deploy-time value (a CDK or cdktf token), which checks cannot read. */
  readonly isUnresolved: (value: unknown) => boolean;
}

export const LITERAL_CONTEXT: ResolveContext = { isUnresolved: () => false };

/** Renders a received value for an error message. */
export function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === undefined) return 'undefined';
  return JSON.stringify(value) ?? String(value);
}

/** Small collector so that every check reads the same way. */
export class IssueCollector {
  public readonly errors: ValidationIssue[] = [];
  public readonly warnings: ValidationIssue[] = [];

  constructor(private readonly ctx: ResolveContext) {}

  public error(code: string, prop: string, message: string): void {
    this.errors.push({ code, prop, message });
  }

  public warn(code: string, prop: string, message: string): void {
    this.warnings.push({ code, prop, message });
  }

  /** True when the value is known at synth time (not undefined and not a token). */
  public known<T>(value: T | undefined): value is T {
    return value !== undefined && !this.ctx.isUnresolved(value);
  }

  public result<T>(value: T): ValidationResult<T> {
    return { value, errors: this.errors, warnings: this.warnings };
  }
}

/** The value of a result: throws one `ValidationError` with every error, else hands the warnings to `warn`. */
export function settle<T>(
  where: string,
  result: ValidationResult<T>,
  warn: (warnings: readonly ValidationIssue[]) => void,
): T {
  if (result.errors.length > 0) throw new ValidationError(where, result.errors);
  warn(result.warnings);
  return result.value;
}
