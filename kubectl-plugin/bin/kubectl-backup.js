#!/usr/bin/env node
// The installed command. It loads the built program, so npm can link it before the first build.
await import('../dist/bin.js');
