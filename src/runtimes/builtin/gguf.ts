// A minimal GGUF (v3) writer and reader: enough to write a tiny F32 llama model and to read its
// header, metadata and tensor infos back. Layout per ggml's docs/gguf.md: header (magic, version,
// tensor count, KV count), KV pairs, tensor infos, padding to `general.alignment`, tensor data.

export const GGUF_MAGIC = 0x46554747; // "GGUF" read as a little-endian u32
export const GGUF_VERSION = 3;
export const GGUF_DEFAULT_ALIGNMENT = 32;

export enum GgufType {
  UINT8 = 0,
  INT8 = 1,
  UINT16 = 2,
  INT16 = 3,
  UINT32 = 4,
  INT32 = 5,
  FLOAT32 = 6,
  BOOL = 7,
  STRING = 8,
  ARRAY = 9,
  UINT64 = 10,
  INT64 = 11,
  FLOAT64 = 12,
}

/** ggml tensor type of the data; only F32 is written here. */
export const GGML_TYPE_F32 = 0;

export type GgufValue =
  | { type: GgufType.UINT32 | GgufType.INT32 | GgufType.FLOAT32 | GgufType.UINT8 | GgufType.INT8 | GgufType.UINT16 | GgufType.INT16 | GgufType.FLOAT64; value: number }
  | { type: GgufType.UINT64 | GgufType.INT64; value: bigint }
  | { type: GgufType.BOOL; value: boolean }
  | { type: GgufType.STRING; value: string }
  | { type: GgufType.ARRAY; itemType: GgufType; value: (number | bigint | boolean | string)[] };

export interface GgufTensor {
  name: string;
  /** ggml order: dims[0] is the innermost (contiguous) dimension. */
  dims: number[];
  data: Float32Array;
}

export interface GgufTensorInfo {
  name: string;
  dims: number[];
  type: number;
  offset: bigint;
}

class Writer {
  private chunks: Buffer[] = [];
  length = 0;
  private push(b: Buffer): void {
    this.chunks.push(b);
    this.length += b.length;
  }
  u8(v: number): void {
    const b = Buffer.alloc(1);
    b.writeUInt8(v);
    this.push(b);
  }
  u32(v: number): void {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v);
    this.push(b);
  }
  u64(v: bigint | number): void {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(v));
    this.push(b);
  }
  string(s: string): void {
    const bytes = Buffer.from(s, 'utf8');
    this.u64(bytes.length);
    this.push(bytes);
  }
  scalar(type: GgufType, v: number | bigint | boolean | string): void {
    const b = Buffer.alloc(8);
    switch (type) {
      case GgufType.UINT8: b.writeUInt8(v as number); return this.push(b.subarray(0, 1));
      case GgufType.INT8: b.writeInt8(v as number); return this.push(b.subarray(0, 1));
      case GgufType.UINT16: b.writeUInt16LE(v as number); return this.push(b.subarray(0, 2));
      case GgufType.INT16: b.writeInt16LE(v as number); return this.push(b.subarray(0, 2));
      case GgufType.UINT32: b.writeUInt32LE(v as number); return this.push(b.subarray(0, 4));
      case GgufType.INT32: b.writeInt32LE(v as number); return this.push(b.subarray(0, 4));
      case GgufType.FLOAT32: b.writeFloatLE(v as number); return this.push(b.subarray(0, 4));
      case GgufType.FLOAT64: b.writeDoubleLE(v as number); return this.push(b);
      case GgufType.UINT64: b.writeBigUInt64LE(BigInt(v as bigint)); return this.push(b);
      case GgufType.INT64: b.writeBigInt64LE(BigInt(v as bigint)); return this.push(b);
      case GgufType.BOOL: b.writeUInt8(v ? 1 : 0); return this.push(b.subarray(0, 1));
      case GgufType.STRING: return this.string(v as string);
      default: throw new Error(`GGUF: cannot write a scalar of type ${type}`);
    }
  }
  value(v: GgufValue): void {
    this.u32(v.type);
    if (v.type === GgufType.ARRAY) {
      this.u32(v.itemType);
      this.u64(v.value.length);
      for (const item of v.value) this.scalar(v.itemType, item);
    } else {
      this.scalar(v.type, v.value);
    }
  }
  pad(alignment: number): void {
    const rem = this.length % alignment;
    if (rem !== 0) this.push(Buffer.alloc(alignment - rem));
  }
  raw(b: Buffer): void {
    this.push(b);
  }
  toBuffer(): Buffer {
    return Buffer.concat(this.chunks, this.length);
  }
}

export function writeGguf(metadata: Record<string, GgufValue>, tensors: GgufTensor[], alignment = GGUF_DEFAULT_ALIGNMENT): Buffer {
  const w = new Writer();
  w.u32(GGUF_MAGIC);
  w.u32(GGUF_VERSION);
  w.u64(tensors.length);
  w.u64(Object.keys(metadata).length);
  for (const [key, value] of Object.entries(metadata)) {
    w.string(key);
    w.value(value);
  }
  let offset = 0;
  const offsets: number[] = [];
  for (const t of tensors) {
    const elements = t.dims.reduce((a, b) => a * b, 1);
    if (elements !== t.data.length) throw new Error(`GGUF: tensor ${t.name} has ${t.data.length} values for dims ${t.dims.join('x')}`);
    w.string(t.name);
    w.u32(t.dims.length);
    for (const d of t.dims) w.u64(d);
    w.u32(GGML_TYPE_F32);
    w.u64(offset);
    offsets.push(offset);
    offset += align(t.data.byteLength, alignment);
  }
  w.pad(alignment);
  for (const t of tensors) {
    w.raw(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    w.pad(alignment);
  }
  return w.toBuffer();
}

function align(n: number, alignment: number): number {
  return Math.ceil(n / alignment) * alignment;
}

export interface GgufFile {
  version: number;
  metadata: Map<string, unknown>;
  tensors: GgufTensorInfo[];
  /** Byte offset where the tensor data starts. */
  dataOffset: number;
}

/** Reads the header, metadata and tensor infos (not the data); throws on a malformed file. */
export function readGguf(buf: Buffer): GgufFile {
  let pos = 0;
  const need = (n: number): void => {
    if (pos + n > buf.length) throw new Error(`GGUF: truncated at byte ${pos} (needs ${n} more)`);
  };
  const u32 = (): number => { need(4); const v = buf.readUInt32LE(pos); pos += 4; return v; };
  const u64 = (): bigint => { need(8); const v = buf.readBigUInt64LE(pos); pos += 8; return v; };
  const str = (): string => {
    const len = Number(u64());
    need(len);
    const s = buf.toString('utf8', pos, pos + len);
    pos += len;
    return s;
  };
  const scalar = (type: GgufType): unknown => {
    switch (type) {
      case GgufType.UINT8: need(1); return buf.readUInt8(pos++);
      case GgufType.INT8: need(1); return buf.readInt8(pos++);
      case GgufType.UINT16: { need(2); const v = buf.readUInt16LE(pos); pos += 2; return v; }
      case GgufType.INT16: { need(2); const v = buf.readInt16LE(pos); pos += 2; return v; }
      case GgufType.UINT32: return u32();
      case GgufType.INT32: { need(4); const v = buf.readInt32LE(pos); pos += 4; return v; }
      case GgufType.FLOAT32: { need(4); const v = buf.readFloatLE(pos); pos += 4; return v; }
      case GgufType.FLOAT64: { need(8); const v = buf.readDoubleLE(pos); pos += 8; return v; }
      case GgufType.UINT64: return u64();
      case GgufType.INT64: { need(8); const v = buf.readBigInt64LE(pos); pos += 8; return v; }
      case GgufType.BOOL: need(1); return buf.readUInt8(pos++) !== 0;
      case GgufType.STRING: return str();
      case GgufType.ARRAY: {
        const itemType = u32() as GgufType;
        const n = Number(u64());
        const out: unknown[] = [];
        for (let i = 0; i < n; i++) out.push(scalar(itemType));
        return out;
      }
      default: throw new Error(`GGUF: unknown value type ${type as number} at byte ${pos}`);
    }
  };
  if (u32() !== GGUF_MAGIC) throw new Error('GGUF: bad magic (not a GGUF file)');
  const version = u32();
  const tensorCount = Number(u64());
  const kvCount = Number(u64());
  const metadata = new Map<string, unknown>();
  for (let i = 0; i < kvCount; i++) {
    const key = str();
    metadata.set(key, scalar(u32() as GgufType));
  }
  const tensors: GgufTensorInfo[] = [];
  for (let i = 0; i < tensorCount; i++) {
    const name = str();
    const nDims = u32();
    const dims: number[] = [];
    for (let d = 0; d < nDims; d++) dims.push(Number(u64()));
    tensors.push({ name, dims, type: u32(), offset: u64() });
  }
  const alignment = Number(metadata.get('general.alignment') ?? GGUF_DEFAULT_ALIGNMENT);
  return { version, metadata, tensors, dataOffset: align(pos, alignment) };
}
