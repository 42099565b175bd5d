/**
 * How much JavaScript and CSS the web UI's first page loads, gzipped: the scripts, module
 * preloads and stylesheets `web/dist/index.html` names (lazy routes are not counted: the first
 * page does not fetch them). `npm run size:web` after `npm run build:web`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

export interface FirstPageSize {
  files: { file: string; bytes: number; gzip: number }[];
  jsGzip: number;
  cssGzip: number;
}

export function firstPageSize(dist: string): FirstPageSize {
  const html = fs.readFileSync(path.join(dist, 'index.html'), 'utf8');
  const refs = [...html.matchAll(/(?:src|href)="\/?(assets\/[^"]+\.(?:js|css))"/g)].map((m) => m[1]!);
  const files = [...new Set(refs)].map((file) => {
    const bytes = fs.readFileSync(path.join(dist, file));
    return { file, bytes: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
  });
  const sum = (ext: string) => files.filter((f) => f.file.endsWith(ext)).reduce((s, f) => s + f.gzip, 0);
  return { files, jsGzip: sum('.js'), cssGzip: sum('.css') };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const dist = fileURLToPath(new URL('../web/dist/', import.meta.url));
  const size = firstPageSize(dist);
  for (const f of size.files) console.log(`${f.file.padEnd(40)} ${(f.bytes / 1024).toFixed(1).padStart(8)} KB  ${(f.gzip / 1024).toFixed(1).padStart(7)} KB gzip`);
  console.log(`first page: ${(size.jsGzip / 1024).toFixed(1)} KB of JavaScript gzipped (budget 300 KB), ${(size.cssGzip / 1024).toFixed(1)} KB of CSS`);
}
