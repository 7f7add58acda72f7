#!/usr/bin/env node
// Node 24 strips TypeScript types natively, so the CLI runs from source without a build step.
import '../src/cli/main.ts';
