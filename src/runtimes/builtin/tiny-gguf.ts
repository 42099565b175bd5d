// A tiny llama-architecture GGUF for tests and the quick start: F32 weights drawn from a seeded
// generator (same seed, same bytes), and a byte-level SentencePiece ("llama") vocabulary of
// <unk>, <s>, </s>, the 256 byte tokens <0x00>…<0xFF> and the space piece U+2581, so any text
// tokenises (byte fallback) and every generated token detokenises to bytes. The text it writes
// is gibberish.
import { writeGguf, GgufType, type GgufTensor, type GgufValue } from './gguf.js';

export interface TinyGgufOptions {
  seed?: number;
  embeddingLength?: number;
  blockCount?: number;
  feedForwardLength?: number;
  headCount?: number;
  contextLength?: number;
  name?: string;
}

export const TINY_DEFAULTS = {
  seed: 42,
  embeddingLength: 64,
  blockCount: 2,
  feedForwardLength: 128,
  headCount: 4,
  contextLength: 512,
  name: 'steward-tiny',
} as const;

/** token_type values of llama.cpp's vocabulary. */
const TOKEN_NORMAL = 1;
const TOKEN_UNKNOWN = 2;
const TOKEN_CONTROL = 3;
const TOKEN_BYTE = 6;

export function tinyVocabulary(): { tokens: string[]; types: number[] } {
  const tokens = ['<unk>', '<s>', '</s>'];
  const types = [TOKEN_UNKNOWN, TOKEN_CONTROL, TOKEN_CONTROL];
  for (let b = 0; b < 256; b++) {
    tokens.push(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
    types.push(TOKEN_BYTE);
  }
  // SentencePiece writes a space as U+2581; as a normal token it detokenises back to a space
  // (as three byte tokens it would come back as the character U+2581).
  tokens.push('\u2581');
  types.push(TOKEN_NORMAL);
  return { tokens, types };
}

/** mulberry32: a small deterministic PRNG, enough for reproducible random weights. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function makeTinyGguf(options: TinyGgufOptions = {}): Buffer {
  const o = { ...TINY_DEFAULTS, ...options };
  if (o.embeddingLength % o.headCount !== 0) throw new Error('embeddingLength must be a multiple of headCount');
  const rand = prng(o.seed);
  const { tokens, types } = tinyVocabulary();
  const nVocab = tokens.length;
  const nEmbd = o.embeddingLength;
  const nFf = o.feedForwardLength;

  const random = (dims: number[]): Float32Array => {
    const n = dims.reduce((a, b) => a * b, 1);
    const scale = 1 / Math.sqrt(dims[0] ?? 1); // dims[0] is the input (fan-in) dimension
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = (rand() * 2 - 1) * scale;
    return out;
  };
  const ones = (n: number): Float32Array => new Float32Array(n).fill(1);
  const tensor = (name: string, dims: number[], data?: Float32Array): GgufTensor => ({ name, dims, data: data ?? random(dims) });

  const tensors: GgufTensor[] = [
    tensor('token_embd.weight', [nEmbd, nVocab]),
    tensor('output_norm.weight', [nEmbd], ones(nEmbd)),
    tensor('output.weight', [nEmbd, nVocab]),
  ];
  for (let i = 0; i < o.blockCount; i++) {
    const p = `blk.${i}.`;
    tensors.push(
      tensor(`${p}attn_norm.weight`, [nEmbd], ones(nEmbd)),
      tensor(`${p}attn_q.weight`, [nEmbd, nEmbd]),
      tensor(`${p}attn_k.weight`, [nEmbd, nEmbd]),
      tensor(`${p}attn_v.weight`, [nEmbd, nEmbd]),
      tensor(`${p}attn_output.weight`, [nEmbd, nEmbd]),
      tensor(`${p}ffn_norm.weight`, [nEmbd], ones(nEmbd)),
      tensor(`${p}ffn_gate.weight`, [nEmbd, nFf]),
      tensor(`${p}ffn_up.weight`, [nEmbd, nFf]),
      tensor(`${p}ffn_down.weight`, [nFf, nEmbd]),
    );
  }

  const u32 = (value: number): GgufValue => ({ type: GgufType.UINT32, value });
  const f32 = (value: number): GgufValue => ({ type: GgufType.FLOAT32, value });
  const str = (value: string): GgufValue => ({ type: GgufType.STRING, value });
  const metadata: Record<string, GgufValue> = {
    'general.architecture': str('llama'),
    'general.name': str(o.name),
    'general.file_type': u32(0), // ALL_F32
    'general.alignment': u32(32),
    'llama.context_length': u32(o.contextLength),
    'llama.embedding_length': u32(nEmbd),
    'llama.block_count': u32(o.blockCount),
    'llama.feed_forward_length': u32(nFf),
    'llama.attention.head_count': u32(o.headCount),
    'llama.attention.head_count_kv': u32(o.headCount),
    'llama.rope.dimension_count': u32(nEmbd / o.headCount),
    'llama.attention.layer_norm_rms_epsilon': f32(1e-5),
    'llama.vocab_size': u32(nVocab),
    'tokenizer.ggml.model': str('llama'),
    'tokenizer.ggml.tokens': { type: GgufType.ARRAY, itemType: GgufType.STRING, value: tokens },
    'tokenizer.ggml.scores': { type: GgufType.ARRAY, itemType: GgufType.FLOAT32, value: tokens.map(() => 0) },
    'tokenizer.ggml.token_type': { type: GgufType.ARRAY, itemType: GgufType.INT32, value: types },
    'tokenizer.ggml.unknown_token_id': u32(0),
    'tokenizer.ggml.bos_token_id': u32(1),
    'tokenizer.ggml.eos_token_id': u32(2),
    'tokenizer.ggml.add_bos_token': { type: GgufType.BOOL, value: true },
    'tokenizer.ggml.add_eos_token': { type: GgufType.BOOL, value: false },
    // No SentencePiece leading space, so text round-trips through tokenize/detokenize unchanged.
    'tokenizer.ggml.add_space_prefix': { type: GgufType.BOOL, value: false },
  };
  return writeGguf(metadata, tensors);
}
