import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SecretBox } from '../common/crypto/secret-box';

// SECRETS_KEY wins; otherwise a key generated once under DATA_DIR, so a laptop install keeps working across restarts.
export function resolveSecretsKey(configured: string | undefined, dataDir: string): { key: Buffer; source: string } {
  if (configured) return { key: SecretBox.parseKey(configured), source: 'SECRETS_KEY' };
  const file = path.join(dataDir, 'secrets.key');
  if (!fs.existsSync(file)) {
    fs.mkdirSync(dataDir, { recursive: true });
    fs.writeFileSync(file, randomBytes(32).toString('hex'), { mode: 0o600, flag: 'wx' });
  }
  return { key: SecretBox.parseKey(fs.readFileSync(file, 'utf8').trim()), source: file };
}
