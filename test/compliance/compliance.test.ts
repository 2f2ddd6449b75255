import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, CfnParameter, CfnWaitConditionHandle, Stack } from 'aws-cdk-lib';
import {
  COMPLIANCE_ACKNOWLEDGEMENTS,
  COMPLIANCE_PACKS,
  ComplianceAcknowledgement,
  MTLS_ACKNOWLEDGEMENTS,
  acknowledgeComplianceFindings,
  addCompliancePacks,
  compliancePacks,
} from '../../examples/cdk/compliance';
import { CeleryTlsExampleStack } from '../../examples/cdk/stack';

/**
 * The example stack against aws-cdk-lib's built-in CloudFormation validation in construct-library strict mode and
 * the cdk-nag v3 packs, with the acknowledgements of examples/cdk/compliance.ts and docs/compliance.md.
 */

const ROOT = join(__dirname, '..', '..');
// The example's own feature flags (cdk.json), plus construct-library strict mode: warnings fail, default rules on.
const STRICT = {
  ...JSON.parse(readFileSync(join(ROOT, 'cdk.json'), 'utf8')).context,
  '@aws-cdk/core:strictCfnValidateErrors': true,
  '@aws-cdk/core:validateAgainstDefaultRules': true,
};
const STACK = 'CeleryTlsExample';

/** Synthesizes with the built-in validation on (test/setup-env.js turns it off for every other test). */
function synthWithValidation(app: App): { error?: Error; report: any } {
  const saved = process.env.CDK_VALIDATION;
  process.env.CDK_VALIDATION = 'true';
  let error: Error | undefined;
  try {
    app.synth();
  } catch (e) {
    error = e as Error;
  } finally {
    process.env.CDK_VALIDATION = saved;
  }
  return { error, report: JSON.parse(readFileSync(join(app.outdir, 'validation-report.json'), 'utf8')) };
}

const outdir = (name: string) => mkdtempSync(join(tmpdir(), `celery-tls-compliance-${name}-`));
const key = (pack: string, id: string, path: string) => `${pack} | ${id} | ${path}`;

// GIVEN the example stack, every acknowledgement, the four packs and strict built-in validation (synthesized once)
const app = new App({ outdir: outdir('strict'), context: STRICT });
const stack = new CeleryTlsExampleStack(app, STACK);
acknowledgeComplianceFindings(stack);
addCompliancePacks(app);
const strict = synthWithValidation(app);

// AND the same stack without acknowledgements, checked by each pack directly (what the acknowledgements silence)
const bare = new App({ outdir: outdir('bare'), context: STRICT });
new CeleryTlsExampleStack(bare, STACK);
bare.synth();
const findings = compliancePacks().flatMap((pack) =>
  pack.validateScope(bare).violations.flatMap((v) =>
    v.violatingResources.map((r) => ({
      pack: pack.name,
      id: v.ruleName,
      severity: v.severity,
      path: String(r.constructPath).replace(`${STACK}/`, ''),
    })),
  ),
);

describe('compliance of the example stack', () => {
  test('synth passes the built-in CloudFormation validation (strict) and the four cdk-nag packs', () => {
    expect(strict.error?.message).toBeUndefined();
  });

  test('the validation report has zero findings, and the validation ran (the report file exists)', () => {
    expect(strict.report.title).toBe('Validation Report');
    const violations = (strict.report.pluginReports as any[]).flatMap((r) =>
      (r.violations ?? []).map((v: any) => `${r.pluginName}: ${v.ruleName}`),
    );
    expect(violations).toEqual([]);
  });

  test('every finding of the packs is acknowledged, and every acknowledgement silences a finding', () => {
    const found = findings.map((f) => key(f.pack, f.id, f.path)).sort();
    const acknowledged = COMPLIANCE_ACKNOWLEDGEMENTS.map((a) => key(a.pack, a.id, a.path)).sort();
    expect(found).toEqual(acknowledged);
  });

  test('each acknowledgement is on one resource and carries a reason; no secret of the example is left unrotated', () => {
    for (const a of COMPLIANCE_ACKNOWLEDGEMENTS) {
      expect(a.path).toMatch(/\/(Resource|DefaultPolicy\/Resource)$/);
      expect(a.reason.length).toBeGreaterThan(80);
      expect(a.id).not.toMatch(/RotationEnabled|SMG4/);
    }
  });

  test('the stack is the example with its fixes: flow logs to a CMK-encrypted group, closed default group, managed flow-log policy', () => {
    const t = JSON.parse(readFileSync(join(app.outdir, `${STACK}.template.json`), 'utf8'));
    const of = (type: string) => Object.values<any>(t.Resources).filter((r) => r.Type === type);
    expect(of('AWS::EC2::FlowLog')).toHaveLength(1);
    expect(of('AWS::EC2::FlowLog')[0].Properties).toMatchObject({
      TrafficType: 'ALL',
      LogDestinationType: 'cloud-watch-logs',
    });
    for (const lg of of('AWS::Logs::LogGroup'))
      expect(lg.Properties).toMatchObject({
        RetentionInDays: 365,
        KmsKeyId: { 'Fn::GetAtt': [expect.any(String), 'Arn'] },
      });
    expect(of('Custom::VpcRestrictDefaultSG')).toHaveLength(1);
    // The flow-log policy, one per function of the RabbitMQ users (custom resource, provider, rotation), the
    // ElastiCache users' rotation and the TLS canary: no inline policies.
    expect(of('AWS::IAM::ManagedPolicy')).toHaveLength(6);
  });
});

describe('compliance of the example with client certificates (mutual TLS, `-c clientCaArn=...`)', () => {
  const CA = 'arn:aws:acm-pca:eu-west-1:111122223333:certificate-authority/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0';
  const all = [...COMPLIANCE_ACKNOWLEDGEMENTS, ...MTLS_ACKNOWLEDGEMENTS];

  test('strict built-in validation and the four packs pass with the further acknowledgements of the certificate function', () => {
    const a = new App({ outdir: outdir('mtls'), context: STRICT });
    acknowledgeComplianceFindings(new CeleryTlsExampleStack(a, STACK, { clientCaArn: CA }), all);
    addCompliancePacks(a);
    const r = synthWithValidation(a);
    expect(r.error?.message).toBeUndefined();
    expect(r.report.pluginReports.flatMap((p: any) => p.violations)).toEqual([]);
  });

  test('every finding of the variant is acknowledged, and every further acknowledgement silences one', () => {
    const b = new App({ outdir: outdir('mtls-bare'), context: STRICT });
    new CeleryTlsExampleStack(b, STACK, { clientCaArn: CA });
    b.synth();
    const found = compliancePacks()
      .flatMap((pack) =>
        pack
          .validateScope(b)
          .violations.flatMap((v) =>
            v.violatingResources.map((r) =>
              key(pack.name, v.ruleName, String(r.constructPath).replace(`${STACK}/`, '')),
            ),
          ),
      )
      .sort();
    expect(found).toEqual(all.map((a) => key(a.pack, a.id, a.path)).sort());
  });
});

describe('the gates can fail', () => {
  test('a pack reports what an acknowledgement no longer covers (packs run during synth)', () => {
    const a = new App({ outdir: outdir('missing-ack'), context: STRICT });
    const s = new CeleryTlsExampleStack(a, STACK);
    acknowledgeComplianceFindings(
      s,
      COMPLIANCE_ACKNOWLEDGEMENTS.filter((x) => x.id !== 'AwsSolutions-ECS2'),
    );
    addCompliancePacks(a);
    // The built-in validation stays off here: this checks the packs' wiring, not the template.
    expect(() => a.synth()).toThrow(/AwsSolutions-ECS2/);
  });

  test('strict mode fails a template on a warning of the built-in validation', () => {
    const a = new App({ outdir: outdir('warning'), context: STRICT });
    const s = new Stack(a, 'Warned');
    new CfnParameter(s, 'Unused', { type: 'String' });
    new CfnWaitConditionHandle(s, 'Something'); // a template needs one resource
    const { error, report } = synthWithValidation(a);
    expect(report.pluginReports[0].violations.map((v: any) => [v.ruleName, v.severity])).toEqual([
      ['W2001', 'warning'],
    ]);
    expect(error?.message).toMatch(/W2001/);
  });
});

describe('docs/compliance.md', () => {
  const doc = readFileSync(join(ROOT, 'docs/compliance.md'), 'utf8');
  const rows = (heading: string) => {
    const section = doc.split(/^## /m).find((s) => s.startsWith(heading));
    if (!section) throw new Error(`docs/compliance.md has no "## ${heading}" section`);
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

  test('lists every acknowledgement with its pack, rule, resource and reason', () => {
    const listed = rows('Acknowledgements').map(([pack, id, path, reason]) => ({ pack, id, path, reason }));
    const expected = COMPLIANCE_ACKNOWLEDGEMENTS.map(({ pack, id, path, reason }: ComplianceAcknowledgement) => ({
      pack,
      id,
      path,
      reason: reason.replace(/\|/g, '\\|'),
    }));
    expect(listed).toEqual(expected);
  });

  test('lists the further acknowledgements with client certificates', () => {
    const listed = rows('With client certificates').map(([pack, id, path, reason]) => ({ pack, id, path, reason }));
    expect(listed).toEqual(
      MTLS_ACKNOWLEDGEMENTS.map(({ pack, id, path, reason }) => ({
        pack,
        id,
        path,
        reason: reason.replace(/\|/g, '\\|'),
      })),
    );
  });

  test('the counts per pack are the real ones', () => {
    const counts = rows('Counts per pack').map(([pack, before, acknowledged, open]) => [
      pack,
      Number(before),
      Number(acknowledged),
      Number(open),
    ]);
    const actual = COMPLIANCE_PACKS.map((pack) => {
      const n = findings.filter((f) => f.pack === pack).length;
      return [
        pack,
        n,
        COMPLIANCE_ACKNOWLEDGEMENTS.filter((a) => a.pack === pack).length,
        n - COMPLIANCE_ACKNOWLEDGEMENTS.filter((a) => a.pack === pack).length,
      ];
    });
    expect(counts).toEqual([
      ...actual,
      [
        'Total',
        findings.length,
        COMPLIANCE_ACKNOWLEDGEMENTS.length,
        findings.length - COMPLIANCE_ACKNOWLEDGEMENTS.length,
      ],
    ]);
  });
});
