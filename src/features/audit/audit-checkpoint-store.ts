/**
 * Where signed audit checkpoints live, outside the database, and the key that signs them.
 *
 * Two stores: an append-only file of JSON lines (default `DATA/audit-checkpoints.jsonl`, 0600),
 * or one object per checkpoint in an S3-compatible bucket, under
 * `<prefix>/audit-checkpoints/<9999999999999999 - seq>-<seq>.json`: the inverted number makes the
 * newest checkpoint the first key a listing returns, and no checkpoint overwrites another. A store
 * only keeps and finds checkpoints; whether one is genuine is its signature's business
 * (audit-fns.ts). Entries that are not checkpoints (a line torn by a crash) are skipped.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import type { CheckpointConfig } from '../../platform/config.js';
import { keyIdOf, parseCheckpoint, type Checkpoint } from './audit-fns.js';

export interface CheckpointStore {
  /** Where the checkpoints are, as an operator would name it (`file:/…`, `s3://bucket/prefix/audit-checkpoints/`). */
  readonly location: string;
  append(cp: Checkpoint): Promise<void>;
  /** The checkpoint with the highest seq (the later one of equals), or null when there is none. */
  latest(): Promise<Checkpoint | null>;
  close(): void;
}

export interface CheckpointKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  keyId: string;
}

const parseLine = (text: string): Checkpoint | null => {
  try {
    return parseCheckpoint(JSON.parse(text));
  } catch {
    return null;
  }
};

export function createFileCheckpointStore(file: string): CheckpointStore {
  return {
    location: `file:${file}`,
    async append(cp) {
      await fs.promises.mkdir(path.dirname(file), { recursive: true });
      const fh = await fs.promises.open(file, 'a', 0o600);
      try {
        await fh.appendFile(`${JSON.stringify(cp)}\n`);
        // Durable before the caller counts it written: a checkpoint lost to a power cut would
        // leave the head it signed unanchored.
        await fh.sync();
      } finally {
        await fh.close();
      }
    },
    async latest() {
      let stream: fs.ReadStream;
      try {
        const fh = await fs.promises.open(file, 'r');
        stream = fh.createReadStream({ encoding: 'utf8' });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw err;
      }
      // The whole file, not its tail: a copy of an old checkpoint appended at the end must not
      // pass for the latest one.
      let best: Checkpoint | null = null;
      for await (const line of readline.createInterface({ input: stream, crlfDelay: Infinity })) {
        const cp = parseLine(line);
        if (cp && (!best || cp.seq >= best.seq)) best = cp;
      }
      return best;
    },
    close() {},
  };
}

/** Larger than any safe-integer seq: `MAX_SEQ - seq` is 16 digits and sorts newest first. */
const MAX_SEQ = 9_999_999_999_999_999n;

export async function createS3CheckpointStore(cfg: Extract<CheckpointConfig, { kind: 's3' }>): Promise<CheckpointStore> {
  // Loaded only when S3 is configured, as for the blob store.
  const { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } = await import('@aws-sdk/client-s3');
  const client = new S3Client({
    region: cfg.region,
    endpoint: cfg.endpoint,
    forcePathStyle: cfg.forcePathStyle,
    credentials: cfg.accessKeyId && cfg.secretAccessKey ? { accessKeyId: cfg.accessKeyId, secretAccessKey: cfg.secretAccessKey } : undefined,
    // As the blob store: many S3-compatible stores reject the SDK's default CRC32 checksums.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const Bucket = cfg.bucket;
  const trimmed = cfg.prefix.replace(/^\/+|\/+$/g, '');
  const dir = `${trimmed ? `${trimmed}/` : ''}audit-checkpoints/`;
  const keyOf = (seq: number) => `${dir}${(MAX_SEQ - BigInt(seq)).toString().padStart(16, '0')}-${seq}.json`;

  return {
    location: `s3://${Bucket}/${dir}`,
    async append(cp) {
      await client.send(new PutObjectCommand({ Bucket, Key: keyOf(cp.seq), Body: JSON.stringify(cp), ContentType: 'application/json' }));
    },
    async latest() {
      let token: string | undefined;
      do {
        const page = await client.send(new ListObjectsV2Command({ Bucket, Prefix: dir, MaxKeys: 100, ContinuationToken: token }));
        for (const o of page.Contents ?? []) {
          const named = /-(\d+)\.json$/.exec(o.Key ?? '');
          if (!named || o.Key !== keyOf(Number(named[1]))) continue;
          const res = await client.send(new GetObjectCommand({ Bucket, Key: o.Key }));
          const cp = parseLine((await res.Body?.transformToString('utf8')) ?? '');
          // An object whose content names another seq than its key (an old checkpoint copied
          // under a newer name) is not the latest checkpoint.
          if (cp && cp.seq === Number(named[1])) return cp;
        }
        token = page.NextContinuationToken;
      } while (token);
      return null;
    },
    close() {
      client.destroy();
    },
  };
}

export async function openCheckpointStore(cfg: CheckpointConfig): Promise<CheckpointStore> {
  return cfg.kind === 'file' ? createFileCheckpointStore(cfg.path) : createS3CheckpointStore(cfg);
}

/**
 * The ed25519 key in `file` (PKCS#8 PEM). With `create`, a missing file is generated (0600),
 * atomically: a second server starting at once reads the same key rather than writing its own.
 */
export function loadCheckpointKey(file: string, opts: { create: boolean }): CheckpointKey {
  if (opts.create && !fs.existsSync(file)) {
    const { privateKey } = generateKeyPairSync('ed25519');
    const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(tmp, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    try {
      fs.linkSync(tmp, file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    } finally {
      fs.rmSync(tmp, { force: true });
    }
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`the audit checkpoint key ${file} cannot be read (${(err as Error).message}): give an ed25519 private key in PKCS#8 PEM (openssl genpkey -algorithm ed25519)`);
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new Error(`the audit checkpoint key ${file} is a ${privateKey.asymmetricKeyType ?? 'unknown'} key; checkpoints are signed with ed25519 (openssl genpkey -algorithm ed25519)`);
  }
  const publicKey = createPublicKey(privateKey);
  return { privateKey, publicKey, keyId: keyIdOf(publicKey) };
}
