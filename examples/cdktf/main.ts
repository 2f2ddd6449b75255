#!/usr/bin/env node
// Synthesizes the example offline into examples/cdktf/cdktf.out:
//   npm run synth:cdktf
// or, with cdktf-cli installed: cd examples/cdktf && CHECKPOINT_DISABLE=1 npx cdktf synth
import { join } from 'node:path';
import { App } from 'cdktf';
import { CeleryTlsExampleStack } from './stack';

// The cdktf CLI sets CDKTF_OUTDIR; run directly, the app writes next to this file.
const app = new App({ outdir: process.env.CDKTF_OUTDIR ?? join(__dirname, 'cdktf.out') });
new CeleryTlsExampleStack(app, 'celery-tls-example');
app.synth();
