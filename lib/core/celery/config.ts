import { LITERAL_CONTEXT, ResolveContext, ValidationError, ValidationIssue } from '../errors';
import { VERSION } from '../version';
import { renderDotenv, renderEnvironment } from './environment';
import { CeleryManifest, FoundManifest, findManifests, renderManifest } from './manifest';
import { CeleryConfigInput, CeleryConfigModel, resolveCeleryConfig } from './model';
import { renderPython } from './python';

/** How the Celery configuration is rendered: Python module, Django settings block, dotenv lines or JSON manifest. */
export type CeleryConfigFormat = 'python' | 'django' | 'env' | 'json';
/** Every `CeleryConfigFormat`: what `celery-tls render --format` accepts. */
export const CELERY_CONFIG_FORMATS: readonly CeleryConfigFormat[] = ['python', 'django', 'env', 'json'];

/**
 * The Celery configuration of a TLS-only broker and result backend, rendered in any of the formats.
 * Refuses plaintext schemes; the rendered Python refuses plaintext or unverified connections at import.
 */
export class CeleryConfig {
  /** Reads a manifest (or a document holding exactly one, such as a `cdk deploy --outputs-file` file). */
  public static fromManifest(text: string, select?: string): CeleryConfig {
    const found = findManifests(text);
    const chosen = select ? found.filter((f: FoundManifest) => f.where.includes(select)) : found;
    if (chosen.length === 0) {
      throw new Error(
        select
          ? `no Celery manifest matching ${JSON.stringify(select)}; found: ${found.map((f) => f.where).join(', ') || 'none'}`
          : 'no Celery manifest found: pass the SSM parameter value, its get-parameter JSON, or a cdk deploy --outputs-file file',
      );
    }
    if (chosen.length > 1) {
      throw new Error(
        `several Celery manifests found (${chosen.map((f) => f.where).join(', ')}): choose one with --select`,
      );
    }
    return new CeleryConfig(chosen[0].manifest);
  }

  /** The validated configuration, with every option's default applied. */
  public readonly model: CeleryConfigModel;
  /** Warnings found while validating the input (errors throw a `ValidationError` instead). */
  public readonly warnings: ValidationIssue[];
  private readonly ctx: ResolveContext;

  constructor(input: CeleryConfigInput, ctx: ResolveContext = LITERAL_CONTEXT) {
    const result = resolveCeleryConfig(input, ctx);
    if (result.errors.length > 0) throw new ValidationError('CeleryConfig', result.errors);
    this.model = result.value;
    this.warnings = result.warnings;
    this.ctx = ctx;
  }

  /** `celeryconfig.py`. */
  public toPythonModule(source?: string): string {
    return renderPython(this.model, this.ctx, { flavor: 'module', version: VERSION, source });
  }

  /** A block for Django's settings.py (`CELERY_` namespace). */
  public toDjangoSettings(source?: string): string {
    return renderPython(this.model, this.ctx, { flavor: 'django', version: VERSION, source });
  }

  /** Non-secret environment variables (values may be deploy-time tokens). */
  public toEnvironment(): Record<string, string> {
    return renderEnvironment(this.model);
  }

  /** `KEY=value` lines (literal values only). */
  public toDotenv(): string {
    return renderDotenv(this.model, this.ctx);
  }

  /** The JSON manifest of this configuration (no secret values). */
  public toManifest(): CeleryManifest {
    return renderManifest(this.model);
  }

  /** The configuration as text in the given format; `source` is named in the python and django headers. */
  public render(format: CeleryConfigFormat, source?: string): string {
    switch (format) {
      case 'python':
        return this.toPythonModule(source);
      case 'django':
        return this.toDjangoSettings(source);
      case 'env':
        return this.toDotenv();
      case 'json':
        return JSON.stringify(this.toManifest(), null, 2) + '\n';
      default:
        throw new Error(`unknown format ${JSON.stringify(format)}: allowed ${CELERY_CONFIG_FORMATS.join(', ')}`);
    }
  }
}
