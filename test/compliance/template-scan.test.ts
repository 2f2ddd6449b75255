import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, CfnResource, Stack } from 'aws-cdk-lib';
import { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { CfnInclude } from 'aws-cdk-lib/cloudformation-include';
import { COMPLIANCE_PACKS, TEMPLATE_SCAN_FINDINGS, compliancePacks } from '../../examples/cdk/compliance';
import { CeleryTlsExampleStack } from '../../examples/cdk/stack';

/**
 * The four cdk-nag packs over the synthesized template of the example, as a template scanner sees it: the template
 * is loaded into a fresh stack with CfnInclude (every resource becomes its L1 class, with no L2 tree around it) and
 * each pack checks that stack. The findings beyond the construct-level run (compliance.test.ts) must be exactly
 * TEMPLATE_SCAN_FINDINGS of examples/cdk/compliance.ts, which docs/compliance.md lists.
 *
 * The synths here leave aws-cdk-lib's built-in CloudFormation validation off (CDK_VALIDATION=false from
 * test/setup-env.js): it only reads the template and writes a report, the template is byte-for-byte the same with
 * it on (checked when this test was written), and compliance.test.ts already runs it in strict mode on this stack.
 */

const ROOT = join(__dirname, '..', '..');
const CONTEXT = JSON.parse(readFileSync(join(ROOT, 'cdk.json'), 'utf8')).context;
const STACK = 'CeleryTlsExample';
const HANDLER_PATH = 'Custom::VpcRestrictDefaultSGCustomResourceProvider/Handler';

interface Finding {
  readonly pack: string;
  readonly id: string;
  readonly logicalId: string;
}
const key = (f: Finding) => `${f.pack} | ${f.id} | ${f.logicalId}`;
const outdir = (name: string) => mkdtempSync(join(tmpdir(), `celery-tls-template-scan-${name}-`));

/** Synthesizes the example (no acknowledgements) and scans it twice: the construct tree, then the template. */
function scan(name: string, props: { clientCaArn?: string } = {}) {
  const app = new App({ outdir: outdir(name), context: CONTEXT });
  const stack = new CeleryTlsExampleStack(app, STACK, props);
  app.synth();
  const logicalIds = new Map<string, string>();
  for (const c of stack.node.findAll())
    if (CfnResource.isCfnResource(c)) logicalIds.set(c.node.path, stack.resolve(c.logicalId));
  const constructLevel: Finding[] = compliancePacks().flatMap((pack) =>
    pack.validateScope(app).violations.flatMap((v) =>
      v.violatingResources.map((r) => {
        const logicalId = logicalIds.get(String(r.constructPath));
        if (!logicalId) throw new Error(`no logical id for ${r.constructPath}`);
        return { pack: pack.name, id: v.ruleName, logicalId };
      }),
    ),
  );

  const templateFile = join(app.outdir, `${STACK}.template.json`);
  const scanApp = new App({ outdir: outdir(`${name}-include`) });
  const include = new CfnInclude(new Stack(scanApp, 'TemplateScan'), 'Template', { templateFile });
  const prefix = `${include.node.path}/`;
  const templateLevel: Finding[] = compliancePacks().flatMap((pack) =>
    pack.validateScope(scanApp).violations.flatMap((v) =>
      v.violatingResources.map((r) => {
        const path = String(r.constructPath);
        if (!path.startsWith(prefix)) throw new Error(`unexpected path ${path}`);
        return { pack: pack.name, id: v.ruleName, logicalId: path.slice(prefix.length) };
      }),
    ),
  );
  const constructKeys = new Set(constructLevel.map(key));
  const templateOnly = templateLevel.filter((f) => !constructKeys.has(key(f)));
  return {
    stack,
    include,
    template: JSON.parse(readFileSync(templateFile, 'utf8')),
    constructLevel,
    templateLevel,
    templateOnly,
  };
}

const example = scan('example');
const perPack = [
  ...COMPLIANCE_PACKS.map((pack) => {
    const n = (fs: Finding[]) => fs.filter((f) => f.pack === pack).length;
    return [pack, n(example.constructLevel), n(example.templateLevel), n(example.templateOnly)] as const;
  }),
  ['Total', example.constructLevel.length, example.templateLevel.length, example.templateOnly.length] as const,
];

describe('the four packs over the synthesized template (CfnInclude) of the example', () => {
  test('every construct-level finding is also reported on the template (the template view loses none)', () => {
    const templateKeys = new Set(example.templateLevel.map(key));
    expect(example.constructLevel.map(key).filter((k) => !templateKeys.has(k))).toEqual([]);
    expect(example.constructLevel.length).toBeGreaterThan(0);
  });

  test('the template-only findings are exactly TEMPLATE_SCAN_FINDINGS (none missing, none stale)', () => {
    console.log(
      `template-level scan per pack (construct-level / template-level / template-only):\n${perPack
        .map(([pack, c, t, o]) => `  ${pack}: ${c} / ${t} / ${o}`)
        .join('\n')}`,
    );
    expect(example.templateOnly.map(key).sort()).toEqual(TEMPLATE_SCAN_FINDINGS.map(key).sort());
  });

  test('the restrict-default-security-group handler is among them, and the construct view skips it because it is a plain CfnResource', () => {
    const handler = example.stack.node.findAll().find((c) => c.node.path === `${STACK}/${HANDLER_PATH}`);
    expect(handler).toBeDefined();
    expect(CfnResource.isCfnResource(handler)).toBe(true);
    expect(handler).not.toBeInstanceOf(CfnFunction);
    const logicalId = example.stack.resolve((handler as CfnResource).logicalId);
    expect(example.template.Resources[logicalId].Type).toBe('AWS::Lambda::Function');
    // In the included template the same resource is a CfnFunction, which the Lambda rules check.
    expect(example.include.getResource(logicalId)).toBeInstanceOf(CfnFunction);
    const onHandler = example.templateOnly.filter((f) => f.logicalId === logicalId);
    expect(onHandler.map((f) => f.id)).toEqual(expect.arrayContaining(['HIPAA.Security-LambdaDLQ']));
    expect(example.constructLevel.filter((f) => f.logicalId === logicalId)).toEqual([]);
  });

  test('VPCDefaultSecurityGroupClosed on the template is a false positive: the template closes the default group', () => {
    const vpcFindings = TEMPLATE_SCAN_FINDINGS.filter((f) => /VPCDefaultSecurityGroupClosed$/.test(f.id));
    expect(vpcFindings).toHaveLength(3);
    for (const f of vpcFindings) expect(example.template.Resources[f.logicalId].Type).toBe('AWS::EC2::VPC');
    const restrict = Object.values<any>(example.template.Resources).filter(
      (r) => r.Type === 'Custom::VpcRestrictDefaultSG',
    );
    expect(restrict).toHaveLength(1);
    expect(restrict[0].Properties.DefaultSecurityGroupId).toEqual({
      'Fn::GetAtt': [vpcFindings[0].logicalId, 'DefaultSecurityGroup'],
    });
  });

  test('each listed finding is on a resource of the template, once, with a reason', () => {
    expect(new Set(TEMPLATE_SCAN_FINDINGS.map(key)).size).toBe(TEMPLATE_SCAN_FINDINGS.length);
    for (const f of TEMPLATE_SCAN_FINDINGS) {
      expect(example.template.Resources[f.logicalId]).toBeDefined();
      expect(f.reason.length).toBeGreaterThan(80);
    }
  });

  test('the variant with client certificates has the same template-only findings', () => {
    const ca = 'arn:aws:acm-pca:eu-west-1:111122223333:certificate-authority/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0';
    const mtls = scan('mtls', { clientCaArn: ca });
    expect(mtls.templateOnly.map(key).sort()).toEqual(TEMPLATE_SCAN_FINDINGS.map(key).sort());
  });
});

describe('docs/compliance.md, "Template-level scan"', () => {
  const doc = readFileSync(join(ROOT, 'docs/compliance.md'), 'utf8');
  const rows = (heading: string) => {
    const section = doc.split(/^##+ /m).find((s) => s.startsWith(heading));
    if (!section) throw new Error(`docs/compliance.md has no "${heading}" heading`);
    return section
      .split('\n')
      .filter((l) => l.startsWith('|') && !/^\|\s*-/.test(l))
      .slice(1)
      .map((l) =>
        l
          .slice(1, -1)
          .split(' | ')
          .map((c) => c.trim().replace(/^`|`$/g, '')),
      );
  };

  test('lists every template-only finding with its pack, rule, logical id and reason', () => {
    const listed = rows('Template-level scan').map(([pack, id, logicalId, reason]) => ({
      pack,
      id,
      logicalId,
      reason,
    }));
    expect(listed).toEqual(
      TEMPLATE_SCAN_FINDINGS.map(({ pack, id, logicalId, reason }) => ({
        pack,
        id,
        logicalId,
        reason: reason.replace(/\|/g, '\\|'),
      })),
    );
  });

  test('the template-level counts per pack are the real ones', () => {
    const counts = rows('Template-level counts per pack').map(([pack, ...n]) => [pack, ...n.map(Number)]);
    expect(counts).toEqual(perPack.map((r) => [...r]));
  });
});
