import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const root = path.join(__dirname, '..', '..');

describe('openapi/openapi.json', () => {
  it('is what the code produces (run `npm run openapi` after changing a route)', () => {
    const committed = fs.readFileSync(path.join(root, 'openapi', 'openapi.json'), 'utf8');
    const generated = execFileSync(process.execPath, [path.join(root, 'dist', 'src', 'openapi.js'), '--stdout'], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '' },
    });
    expect(JSON.parse(committed)).toEqual(JSON.parse(generated));
  });
});
