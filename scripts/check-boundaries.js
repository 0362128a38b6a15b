#!/usr/bin/env node
// libs/ is plain TypeScript for bot developers: no Nest, and nothing from src/.
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..', 'libs');
const problems = [];
function walk(dir) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) walk(p);
    else if (p.endsWith('.ts')) {
      const text = fs.readFileSync(p, 'utf8');
      for (const m of text.matchAll(/(?:from\s+|require\()\s*['"]([^'"]+)['"]/g)) {
        const spec = m[1];
        if (spec.startsWith('@nestjs/')) problems.push(`${p}: imports ${spec}`);
        if (spec.startsWith('.') && path.resolve(path.dirname(p), spec).startsWith(path.join(__dirname, '..', 'src'))) {
          problems.push(`${p}: imports ${spec} from src/`);
        }
      }
    }
  }
}
if (fs.existsSync(root)) walk(root);
if (problems.length) {
  console.error(`libs/ boundary violations:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
