#!/usr/bin/env node
// Baseline for bench/cdktf.mjs: a bare cdktf app with the AWS provider and one resource, nothing of this library.
import { App, TerraformStack } from 'cdktf';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { SsmParameter } from '@cdktf/provider-aws/lib/ssm-parameter';

const app = new App({ outdir: process.env.CDKTF_OUTDIR ?? 'cdktf.out' });
const stack = new TerraformStack(app, 'baseline');
new AwsProvider(stack, 'aws', { region: 'eu-west-1' });
new SsmParameter(stack, 'Parameter', { name: '/baseline/value', type: 'String', value: 'baseline' });
app.synth();
