/**
 * Markdown (model cards, datasheets) rendered to HTML and sanitised with DOMPurify before it
 * touches the page: a card is written by whoever pushed the version, so it is untrusted input.
 * Links open in a new tab without referrer or opener.
 */
import DOMPurify from 'dompurify';
import { marked } from 'marked';
import { useMemo } from 'react';

export function renderMarkdown(source: string): string {
  const html = marked.parse(source, { async: false, gfm: true });
  const clean = DOMPurify.sanitize(html, { USE_PROFILES: { html: true }, FORBID_TAGS: ['style', 'form', 'input', 'button', 'iframe'], FORBID_ATTR: ['style'] });
  const doc = new DOMParser().parseFromString(`<div>${clean}</div>`, 'text/html');
  for (const a of doc.querySelectorAll('a[href]')) {
    a.setAttribute('target', '_blank');
    a.setAttribute('rel', 'noopener noreferrer');
  }
  return doc.body.firstElementChild!.innerHTML;
}

export default function Markdown({ source }: { source: string }) {
  const html = useMemo(() => renderMarkdown(source), [source]);
  // Sanitised above; nothing else is put into the page as HTML.
  return <div className="markdown" dangerouslySetInnerHTML={{ __html: html }} />;
}
