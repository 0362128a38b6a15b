'use strict';
// Test-only require hook: lets a forked sandbox worker run from the TypeScript sources (under jest)
// with @swc/core, a devDependency. Production forks dist/**/worker-main.js and never loads this.
const fs = require('fs');
const Module = require('module');
const { transformSync } = require('@swc/core');

Module._extensions['.ts'] = function compileTs(module, filename) {
  const { code } = transformSync(fs.readFileSync(filename, 'utf8'), {
    filename,
    jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
    module: { type: 'commonjs' },
    sourceMaps: 'inline',
  });
  module._compile(code, filename);
};
