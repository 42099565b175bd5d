/**
 * The local upload socket: a Unix-domain socket in the data dir that is a second door into the
 * same HTTP server, offered to clients on this host (`GET /api/v1/uploads/local-socket`) for
 * their byte uploads. Over loopback TCP a 2 GB push cost the two processes ~1.5 s of CPU in
 * the TCP stack (segmentation, ACKs, softirqs) on top of the copies; a Unix socket copies the
 * bytes and does nothing else.
 *
 * The rules it keeps: every request through the socket passes the same auth hook as over TCP
 * (the socket grants nothing by itself); it is offered only to a caller on this host; and a
 * client checks, through the socket, that it reaches the very server that offered it
 * (`instance`), so a stale or foreign socket at that path is never used.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import type { Server } from 'node:http';
import net from 'node:net';
import type { Logger } from '../../platform/log.js';

/** Longest socket path every platform accepts (sun_path holds 108 bytes on Linux, 104 on macOS). */
const MAX_SOCKET_PATH = 100;

export interface LocalSocket {
  /** Identifies this server process; a client compares it through the socket before using it. */
  readonly instance: string;
  /** Starts the socket (once) in front of `server`; its path, or null when there can be none. */
  open(server: Server): Promise<string | null>;
}

export function createLocalSocket(opts: { path: string; log: Logger }): LocalSocket {
  const instance = randomUUID();
  let opened: Promise<string | null> | null = null;
  return {
    instance,
    open(server) {
      opened ??= listen(server, opts.path).catch((err: unknown) => {
        opts.log.warn({ err, path: opts.path }, 'local upload socket unavailable; clients upload over TCP');
        return null;
      });
      return opened;
    },
  };
}

async function listen(server: Server, file: string): Promise<string | null> {
  if (process.platform === 'win32' || Buffer.byteLength(file) > MAX_SOCKET_PATH) return null;
  // A socket left by a killed server refuses the listen; the data dir belongs to one server.
  fs.rmSync(file, { force: true });
  // Each connection is handed to the HTTP server, which then owns it like one it accepted:
  // same parser, hooks, timeouts, and shutdown (closeAllConnections reaches these too).
  const uds = net.createServer((socket) => server.emit('connection', socket));
  await new Promise<void>((resolve, reject) => {
    uds.once('error', reject);
    uds.listen(file, () => {
      uds.off('error', reject);
      resolve();
    });
  });
  // Never what keeps the process alive: the TCP listener decides that.
  uds.unref();
  const ino = fs.statSync(file).ino;
  server.once('close', () => {
    uds.close();
    // Only our own socket: a later server on the same data dir may have replaced it.
    if (fs.statSync(file, { throwIfNoEntry: false })?.ino === ino) fs.rmSync(file, { force: true });
  });
  return file;
}

/** True for a caller on this host: loopback TCP, or no address at all (the Unix socket itself). */
export function isLocalCaller(remoteAddress: string | undefined): boolean {
  if (remoteAddress === undefined) return true;
  const a = remoteAddress.startsWith('::ffff:') ? remoteAddress.slice(7) : remoteAddress;
  return a === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(a);
}
