#!/usr/bin/env node
'use strict';
// Runs the TypeScript sources through tsx, so the CLI works right after `make install`, with no build step.
require('tsx/cjs');
require('../src/main.ts').run();
