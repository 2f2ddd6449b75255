import { CeleryConfigInput, CeleryConfigModel } from './model';

/** Identifies a manifest document and its version. */
export const MANIFEST_SCHEMA = 'celery-tls-constructs/manifest@1';

/**
 * The JSON manifest: every non-secret fact a client needs (endpoints, user names, secret ARNs, options). Published as
 * an SSM parameter and a stack output; `celery-tls render` turns it into settings.
 */
export interface CeleryManifest extends CeleryConfigInput {
  /** The manifest schema and version: always "celery-tls-constructs/manifest@1". */
  readonly schema: typeof MANIFEST_SCHEMA;
}

export function renderManifest(model: CeleryConfigModel): CeleryManifest {
  const strip = <T extends object>(o: T): T => JSON.parse(JSON.stringify(o));
  return strip({
    schema: MANIFEST_SCHEMA,
    broker: model.broker,
    resultBackend: model.resultBackend,
    options: model.options,
    // Secret ARNs and paths only: the key pair, the store and the key ring are read at start-up.
    ...(model.security ? { security: model.security } : {}),
  });
}

function isManifest(value: unknown): value is CeleryManifest {
  return typeof value === 'object' && value !== null && (value as { schema?: unknown }).schema === MANIFEST_SCHEMA;
}

function tryJson(text: unknown): unknown {
  if (typeof text !== 'string') return text;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** A manifest found in a document, with where it was found. */
export interface FoundManifest {
  readonly where: string;
  readonly manifest: CeleryManifest;
}

/**
 * Finds manifests in: a manifest itself; `cdk deploy --outputs-file` JSON ({stack: {outputKey: value}});
 * `aws ssm get-parameter` JSON ({Parameter: {Value}}); or `aws cloudformation describe-stacks` JSON.
 */
export function findManifests(text: string): FoundManifest[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new Error(`the manifest is not JSON: ${(e as Error).message}`);
  }
  const found: FoundManifest[] = [];
  const visit = (value: unknown, where: string, depth: number) => {
    const parsed = tryJson(value);
    if (isManifest(parsed)) {
      found.push({ where: where || '(document)', manifest: parsed });
      return;
    }
    if (depth > 6 || typeof parsed !== 'object' || parsed === null) return;
    for (const [k, v] of Object.entries(parsed)) visit(v, where ? `${where}.${k}` : k, depth + 1);
  };
  visit(doc, '', 0);
  return found;
}
