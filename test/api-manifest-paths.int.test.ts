/**
 * Manifest paths over HTTP, on both backends: stored in Unicode NFC, and the version's digest is
 * the sha256 of the canonical manifest of exactly those stored paths; two paths of one manifest
 * equal after NFC, control characters, lone surrogates and fullwidth dot tricks are 400 with
 * nothing created.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ModelVersionDocument } from '../src/contracts/model-version.js';
import { blob, createModel, createVersion, expectBody, expectError, finalize, manifest, modelPath, putBlob, serveSuite, uid, versionPath, type Api } from './helpers/test-api.js';
import { BACKENDS } from './helpers/test-server.js';

/** The canonical manifest as docs/architecture.md defines it, computed here independently of the server's code. */
function expectedDigest(files: { path: string; size: number; sha256: string }[]): string {
  const sorted = [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const text = `[${sorted.map((f) => `{"path":${JSON.stringify(f.path)},"sha256":"${f.sha256}","size":${f.size}}`).join(',')}]`;
  return `sha256:${createHash('sha256').update(text).digest('hex')}`;
}

describe.each(BACKENDS)('manifest paths on %s', (backend) => {
  let api: Api;
  serveSuite(backend, (_s, a) => (api = a));

  it('stores a decomposed (NFD) path in NFC, hashes the stored paths into the digest, and serves the file by either spelling', async () => {
    const name = `nfc-${uid()}`;
    await createModel(api, name);
    const b = blob(`café ${name}`);
    const nfd = 'cafe\u0301/me\u0301nu.txt';
    const nfc = 'caf\u00e9/m\u00e9nu.txt';
    const created = await createVersion(api, name, { version: '1.0.0', files: [{ path: nfd, size: b.size, sha256: b.sha256 }, ...manifest({ 'a.bin': b })] });
    const stored = [{ path: nfc, size: b.size, sha256: b.sha256 }, { path: 'a.bin', size: b.size, sha256: b.sha256 }];
    expect(created.files?.map((f) => f.path).sort()).toEqual(['a.bin', nfc]);
    expect(created.digest).toBe(expectedDigest(stored));
    await putBlob(api, b);
    const ready = await finalize(api, name, '1.0.0');
    expect(ready.digest).toBe(expectedDigest(stored));

    const got = expectBody(await api.get(`${versionPath(name, '1.0.0')}?files=true`), 200, ModelVersionDocument);
    expect(got.files?.map((f) => f.path).sort()).toEqual(['a.bin', nfc]);
    expect(got.digest).toBe(expectedDigest(got.files!));
    for (const spelling of [nfc, nfd]) {
      const file = await api.get(`${versionPath(name, '1.0.0')}/files/${spelling.split('/').map(encodeURIComponent).join('/')}`);
      expect(file.status, spelling).toBe(200);
      expect(file.bytes.equals(b.bytes)).toBe(true);
    }
  });

  it('refuses two paths that are one after NFC, and unsafe characters, creating nothing', async () => {
    const name = `nfc-bad-${uid()}`;
    await createModel(api, name);
    const b = blob(`bad ${name}`);
    const file = (path: string) => ({ path, size: b.size, sha256: b.sha256 });
    const cases: [string, { path: string; size: number; sha256: string }[], RegExp][] = [
      ['NFC twins', [file('caf\u00e9.txt'), file('cafe\u0301.txt')], /appears twice \(paths are compared in Unicode NFC\)/],
      ['a control character', [file('a\u001b[31mred.txt')], /contains the control character U\+001B/],
      ['a newline', [file('evil\nname.txt')], /contains the control character U\+000A/],
      ['a C1 control', [file('a\u009bb.txt')], /contains the control character U\+009B/],
      ['a lone surrogate', [file('a\ud800.txt')], /contains a lone surrogate \(U\+D800\)/],
      ['fullwidth dots', [file('\uff0e\uff0e/x')], /contains "\.\." once its compatibility characters are folded/],
      ['a fullwidth solidus', [file('\uff0fetc/passwd')], /is absolute once/],
    ];
    for (const [what, files, message] of cases) {
      const err = expectError(await api.post(`${modelPath(name)}/versions`, { version: '1.0.0', files }), 400, 'invalid_argument');
      expect(err.message, what).toMatch(message);
    }
    expectError(await api.get(versionPath(name, '1.0.0')), 404, 'not_found');
  });
});
