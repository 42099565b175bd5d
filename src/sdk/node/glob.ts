/**
 * Glob patterns over manifest paths (`/`-separated), as `steward pull --include` takes them:
 * `*` any run of characters but `/`, `**` any run including `/` (a whole `**\/` segment may also
 * match nothing), `?` one character but `/`, `[abc]` / `[!abc]` a character class. A pattern
 * without `/` matches the file name at any depth (`*.json`, `config.json`), as in .gitignore; a
 * pattern with one matches the whole path from the root (`tokenizer/*.json`, `/config.json`).
 */
export function globToRegExp(pattern: string): RegExp {
  const anchored = pattern.includes('/');
  const p = pattern.replace(/^\//, '');
  let re = '';
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === '*') {
      if (p[i + 1] === '*') {
        const segment = (i === 0 || p[i - 1] === '/') && p[i + 2] === '/';
        re += segment ? '(?:.*/)?' : '.*';
        i += segment ? 2 : 1;
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = p.indexOf(']', i + 2);
      if (end === -1) re += '\\[';
      else {
        const body = p.slice(i + 1, end).replace(/\\/g, '\\\\');
        re += body.startsWith('!') ? `[^${body.slice(1)}]` : `[${body.replace(/^\^/, '\\^')}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(anchored ? `^${re}$` : `(?:^|/)${re}$`);
}

/** A predicate true for paths matching any of `patterns`. */
export function globMatcher(patterns: readonly string[]): (path: string) => boolean {
  const res = patterns.map(globToRegExp);
  return (path) => res.some((r) => r.test(path));
}
