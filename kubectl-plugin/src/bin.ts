#!/usr/bin/env node
import { runCli } from './cli.js';
import { processIO } from './io.js';

// The AWS SDK's notice about its future Node versions is not for our users.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
process.exitCode = await runCli(process.argv.slice(2), processIO());
