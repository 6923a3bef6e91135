#!/usr/bin/env node
// `npx feedloop ...`: runs the TypeScript CLI through tsx, so no build step is needed.
require('tsx/cjs');
require('../cli/main.ts');
