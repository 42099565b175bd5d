import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readGgufFileInfo } from 'node-llama-cpp';
import { readGguf, GGML_TYPE_F32 } from './gguf.js';
import { makeTinyGguf, tinyVocabulary, TINY_DEFAULTS } from './tiny-gguf.js';

describe('tiny GGUF generator', () => {
  it('is a few hundred KB and deterministic from its seed', () => {
    const a = makeTinyGguf();
    expect(a.length).toBeGreaterThan(100_000);
    expect(a.length).toBeLessThan(1_000_000);
    expect(makeTinyGguf().equals(a)).toBe(true);
    expect(makeTinyGguf({ seed: 7 }).equals(a)).toBe(false);
  });

  it('round-trips header, metadata and tensor infos through the reader', () => {
    const f = readGguf(makeTinyGguf());
    expect(f.version).toBe(3);
    expect(f.metadata.get('general.architecture')).toBe('llama');
    for (const key of ['llama.context_length', 'llama.embedding_length', 'llama.block_count', 'llama.feed_forward_length', 'llama.attention.head_count']) {
      expect(typeof f.metadata.get(key), key).toBe('number');
    }
    expect(f.metadata.get('llama.attention.layer_norm_rms_epsilon')).toBeCloseTo(1e-5);
    expect(f.metadata.get('tokenizer.ggml.model')).toBe('llama');
    const tokens = f.metadata.get('tokenizer.ggml.tokens') as string[];
    expect(tokens).toEqual(tinyVocabulary().tokens);
    expect(tokens).toContain('<0x00>');
    expect(tokens).toContain('<0xFF>');
    expect((f.metadata.get('tokenizer.ggml.token_type') as number[]).filter((t) => t === 6)).toHaveLength(256);
    const names = f.tensors.map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(['token_embd.weight', 'output_norm.weight', 'output.weight']));
    for (let i = 0; i < TINY_DEFAULTS.blockCount; i++) {
      for (const t of ['attn_norm', 'attn_q', 'attn_k', 'attn_v', 'attn_output', 'ffn_norm', 'ffn_gate', 'ffn_up', 'ffn_down']) {
        expect(names).toContain(`blk.${i}.${t}.weight`);
      }
    }
    expect(f.tensors.every((t) => t.type === GGML_TYPE_F32 && t.offset % 32n === 0n)).toBe(true);
    expect(f.tensors.find((t) => t.name === 'token_embd.weight')?.dims).toEqual([TINY_DEFAULTS.embeddingLength, tokens.length]);
  });

  it('is read by node-llama-cpp’s own GGUF reader', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tiny-gguf-'));
    const path = join(dir, 'tiny.gguf');
    writeFileSync(path, makeTinyGguf());
    const info = await readGgufFileInfo(path);
    expect(info.metadata.general.architecture).toBe('llama');
    expect(info.tensorInfo?.length).toBe(3 + 9 * TINY_DEFAULTS.blockCount);
  });

  it('rejects truncated and foreign files', () => {
    const buf = makeTinyGguf();
    expect(() => readGguf(buf.subarray(0, 1000))).toThrow(/truncated/);
    expect(() => readGguf(Buffer.from('not a gguf file at all'))).toThrow(/magic/);
  });
});
