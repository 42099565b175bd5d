/**
 * Page-aligned buffers for O_DIRECT I/O, shared by the blob store (direct writes of received
 * blobs) and the CLI (direct writes into a staging file). O_DIRECT needs the buffer's address
 * aligned as well as the file offset, and a Buffer's address is whatever malloc returned.
 */

/** Bytes per direct write; also the alignment of every buffer this module hands out. */
export const DIRECT_BLOCK_BYTES = 1 << 20;
/** File offsets of direct writes are multiples of this (the page size covers every block size in use). */
export const DIRECT_ALIGN = 4096;
/** WebAssembly memory comes in 64 KiB pages. */
const WASM_PAGE = 64 * 1024;
/** Aligned buffers made at a time: one WebAssembly memory of 16 MiB. */
const BUFFERS_PER_MEMORY = 16;

/**
 * Page-aligned buffers: views into WebAssembly memories, the only memory JavaScript can
 * allocate with a known alignment (O_DIRECT needs the address aligned too, and a Buffer's is
 * whatever malloc returned). Made 16 at a time, up to `max`, and reused.
 */
export class AlignedPool {
  private readonly free: Buffer[] = [];
  private made = 0;

  constructor(private readonly max: number) {}

  /** Two buffers, or null when the pool is spent (the caller then writes through the page cache). */
  takePair(): [Buffer, Buffer] | null {
    while (this.free.length < 2 && this.made < this.max) this.grow();
    if (this.free.length < 2) return null;
    return [this.free.pop()!, this.free.pop()!];
  }

  give(...bufs: Buffer[]): void {
    this.free.push(...bufs);
  }

  private grow(): void {
    const pages = (BUFFERS_PER_MEMORY * DIRECT_BLOCK_BYTES) / WASM_PAGE;
    const mem = new WebAssembly.Memory({ initial: pages, maximum: pages });
    for (let i = 0; i < BUFFERS_PER_MEMORY; i++) this.free.push(Buffer.from(mem.buffer, i * DIRECT_BLOCK_BYTES, DIRECT_BLOCK_BYTES));
    this.made += BUFFERS_PER_MEMORY;
  }
}
