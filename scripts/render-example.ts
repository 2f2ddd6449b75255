// Renders the example app's Celery settings into a directory, for `npm run lint:python`: celeryconfig.py and the
// Django settings block for each role, of the example as `cdk synth` builds it and of its mutual-TLS variant.
// Host names and ARNs are deploy-time values there, so the settings read them from the environment.
// Usage: tsx scripts/render-example.ts DIR
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { CeleryRole } from 'celery-tls-constructs';
import { CeleryTlsExampleStack } from '../examples/cdk/stack';

const dir = process.argv[2];
if (!dir) throw new Error('usage: tsx scripts/render-example.ts DIR');
process.env.CDK_VALIDATION ??= 'false';
const variants = {
  example: {},
  mtls: {
    clientCaArn: 'arn:aws:acm-pca:eu-west-1:111122223333:certificate-authority/11111111-2222-3333-4444-555555555555',
  },
};
for (const [variant, props] of Object.entries(variants)) {
  const stack = new CeleryTlsExampleStack(new App(), 'CeleryTlsExample', props);
  for (const role of Object.values(CeleryRole)) {
    const config = stack.transport.celeryConfigFor(role);
    writeFileSync(join(dir, `${variant}_${role}_celeryconfig.py`), config.toPythonModule('examples/cdk/stack.ts'));
    writeFileSync(join(dir, `${variant}_${role}_django_settings.py`), config.toDjangoSettings('examples/cdk/stack.ts'));
  }
}
