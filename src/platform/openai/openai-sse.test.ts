import { describe, expect, it } from 'vitest';
import { sseEvents, SseOverflowError } from './openai-sse.js';

/** The bytes of `text` cut into the given sizes (the rest in one piece). */
async function* pieces(bytes: Uint8Array, cut: (i: number) => number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; ) {
    const n = Math.max(1, cut(i));
    yield bytes.subarray(i, i + n);
    i += n;
  }
}

async function collect(body: AsyncIterable<Uint8Array>) {
  const out = [];
  for await (const batch of sseEvents(body)) out.push(...batch);
  return out;
}

const enc = (s: string) => new TextEncoder().encode(s);

describe('sseEvents', () => {
  const text = 'data: {"t":"héllo 日本 🙂"}\n\n: keep-alive\n\nevent: error\ndata: one\ndata: two\n\ndata:[DONE]\n\n';
  const expected = [
    { data: '{"t":"héllo 日本 🙂"}', event: undefined, id: undefined },
    { data: 'one\ntwo', event: 'error', id: undefined },
    { data: '[DONE]', event: undefined, id: undefined },
  ];

  it('decodes characters split across chunks whole, whatever the cut', async () => {
    const bytes = enc(text);
    expect(await collect(pieces(bytes, () => 1))).toEqual(expected);
    expect(await collect(pieces(bytes, () => 2))).toEqual(expected);
    expect(await collect(pieces(bytes, (i) => (i % 5) + 1))).toEqual(expected);
  });

  it('reads CRLF and lone CR line ends like LF', async () => {
    expect(await collect(pieces(enc(text.replaceAll('\n', '\r\n')), () => 3))).toEqual(expected);
    expect(await collect(pieces(enc(text.replaceAll('\n', '\r')), () => 3))).toEqual(expected);
  });

  it('delivers an event still open when the stream ends', async () => {
    expect(await collect(pieces(enc('data: a\n\ndata: [DONE]'), () => 4))).toEqual([
      { data: 'a', event: undefined, id: undefined },
      { data: '[DONE]', event: undefined, id: undefined },
    ]);
  });

  it('refuses a line that never ends instead of buffering it without bound', async () => {
    async function* endless(): AsyncGenerator<Uint8Array> {
      yield enc('data: ');
      const block = enc('x'.repeat(1 << 20));
      for (let i = 0; i < 32; i++) yield block;
    }
    await expect(collect(endless())).rejects.toBeInstanceOf(SseOverflowError);
  });
});
