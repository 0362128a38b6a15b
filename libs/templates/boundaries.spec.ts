import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

// libs/ is plain TypeScript reused outside the platform (shared/STYLE.md): no Nest, nothing from src/.
describe('libs/templates boundaries', () => {
  const files = readdirSync(__dirname).filter((f) => f.endsWith('.ts'));
  it.each(files)('%s imports neither src/ nor Nest', (file) => {
    const source = readFileSync(join(__dirname, file), 'utf8');
    const imports = [...source.matchAll(/from\s+['"]([^'"]+)['"]/g)].map((m) => m[1]);
    for (const spec of imports) {
      expect(spec).not.toMatch(/^@nestjs\//);
      expect(spec).not.toMatch(/(^|\/)src(\/|$)/);
      if (spec.startsWith('.')) expect(spec).toMatch(/^\.\/[^/]+$/);
    }
  });
});
