#!/usr/bin/env node
// `npm test`: typecheck and build (spawned-process tests run the compiled entrypoint), then every jest tier.
const { spawnSync } = require('node:child_process');

function run(cmd, args, extraEnv = {}) {
  const res = spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, ...extraEnv } });
  if (res.status !== 0) process.exit(res.status ?? 1);
}

// The web build too: the browser tests load web/dist from the spawned platform.
run('npm', ['run', 'build', '--silent']);
run('node', ['scripts/check-boundaries.js']);
run('npx', ['jest', '--ci', '--maxWorkers=2', ...process.argv.slice(2)], { NODE_OPTIONS: '--no-node-snapshot' });
