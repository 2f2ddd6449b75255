if (process.env.CDK_VALIDATION === undefined) process.env.CDK_VALIDATION = 'false';
