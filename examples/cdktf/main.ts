#!/usr/bin/env node
// Synthesizes the example offline into examples/cdktf/cdktf.out:
//   npm run synth:cdktf
// or, with cdktf-cli installed: cd examples/cdktf && CHECKPOINT_DISABLE=1 npx cdktf synth
import { join } from 'node:path';
import { App } from 'cdktf';
import { CeleryTlsExampleStack } from './stack';

// The cdktf CLI sets CDKTF_OUTDIR; run directly, the app writes next to this file.
const app = new App({ outdir: process.env.CDKTF_OUTDIR ?? join(__dirname, 'cdktf.out') });
// Optional: CLIENT_CA_ARN=arn:aws:acm-pca:... for mutual TLS to the broker (as `cdk synth -c clientCaArn=...`).
new CeleryTlsExampleStack(app, 'celery-tls-example', { clientCaArn: process.env.CLIENT_CA_ARN || undefined });
app.synth();
