#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { CeleryTlsExampleStack } from '../examples/cdk/stack';

const app = new App();
new CeleryTlsExampleStack(app, 'CeleryTlsExample', {
  description: 'celery-tls-constructs example: TLS-only Celery broker and result backend',
  // Optional: `npx cdk synth -c clientCaArn=arn:aws:acm-pca:...` for mutual TLS to the broker.
  clientCaArn: app.node.tryGetContext('clientCaArn'),
});
app.synth();
