import 'reflect-metadata';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { generateOpenApiJson } from './bootstrap/openapi-document';

// `npm run openapi` writes openapi/openapi.json from the decorators; `--stdout` prints it (the drift test compares).
async function main() {
  const json = await generateOpenApiJson();
  if (process.argv.includes('--stdout')) {
    process.stdout.write(json);
    return;
  }
  const out = path.resolve(__dirname, '..', '..', 'openapi', 'openapi.json');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, json);
  console.log(`wrote ${out}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
