/**
 * Which addresses the server may call for evaluations. A run's endpoint and judge are URLs that
 * users hand the server, so without a rule they reach whatever the server can reach, the cloud
 * metadata service included (server-side request forgery).
 *
 * The rule: link-local addresses (169.254.0.0/16 and fe80::/10, where cloud metadata services
 * answer) and unspecified ones (0.0.0.0/8, ::) are refused; loopback and private networks,
 * where model servers usually run, are not. With an allow-list (`STEWARD_EVAL_ENDPOINT_ALLOW`:
 * host names, `*.suffix`, addresses or CIDRs, comma-separated), only what it names is called,
 * link-local included if named. It is checked when a run is created (a clear 400 before any
 * work) and again on every connection the runner opens, so a name that resolves elsewhere later
 * (DNS rebinding) fails its requests instead of reaching a refused address.
 */
import dns from 'node:dns';
import net from 'node:net';
import { errors } from '../../platform/errors.js';

export interface EndpointPolicy {
  /** Throws an `invalid_argument` AppError when `url`'s host is refused (a name that does not resolve passes: the run then fails to connect). */
  check(url: string, what: string): Promise<void>;
  /** A `lookup` for net.connect that refuses what `check` refuses. */
  lookup: net.LookupFunction;
}

const REFUSED = new net.BlockList();
REFUSED.addSubnet('169.254.0.0', 16, 'ipv4');
REFUSED.addSubnet('0.0.0.0', 8, 'ipv4');
REFUSED.addSubnet('fe80::', 10, 'ipv6');
REFUSED.addAddress('::', 'ipv6');

const familyOf = (address: string): 'ipv4' | 'ipv6' => (net.isIPv6(address) ? 'ipv6' : 'ipv4');

export function createEndpointPolicy(allow: readonly string[]): EndpointPolicy {
  const hosts = new Set<string>();
  const suffixes: string[] = [];
  const nets = new net.BlockList();
  for (const raw of allow) {
    const entry = raw.trim().toLowerCase();
    if (!entry) continue;
    const [addr, bits] = entry.split('/');
    if (net.isIP(addr!) && bits !== undefined) nets.addSubnet(addr!, Number(bits), familyOf(addr!));
    else if (net.isIP(entry)) nets.addAddress(entry, familyOf(entry));
    else if (entry.startsWith('*.')) suffixes.push(entry.slice(1));
    else hosts.add(entry);
  }
  const listed = hosts.size + suffixes.length > 0 || allow.some((e) => net.isIP(e.trim().split('/')[0]!));

  /** Why `host` at `address` may not be called, or null. */
  function refusal(host: string, address: string): string | null {
    const name = host.toLowerCase().replace(/^\[|\]$/g, '');
    const plain = address.startsWith('::ffff:') && net.isIPv4(address.slice(7)) ? address.slice(7) : address;
    if (listed) {
      if (hosts.has(name) || suffixes.some((s) => name.endsWith(s)) || nets.check(plain, familyOf(plain))) return null;
      return `${name}${name === plain ? '' : ` (${plain})`} is not in STEWARD_EVAL_ENDPOINT_ALLOW`;
    }
    if (REFUSED.check(plain, familyOf(plain))) {
      return `${name}${name === plain ? '' : ` resolves to ${plain}, which`} is a link-local or unspecified address (where cloud metadata services answer); name it in STEWARD_EVAL_ENDPOINT_ALLOW to call it anyway`;
    }
    return null;
  }

  return {
    async check(url, what) {
      const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
      const addresses = net.isIP(host) ? [host] : await dns.promises.lookup(host, { all: true }).then((a) => a.map((x) => x.address), () => []);
      for (const address of addresses) {
        const why = refusal(host, address);
        if (why) throw errors.invalid(`${what} ${url} refused: ${why}`, { url });
      }
    },
    lookup: ((hostname: string, options: dns.LookupOptions, callback: (err: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => void) => {
      dns.lookup(hostname, options, (err, address, family) => {
        if (err) return callback(err, address, family);
        const list = Array.isArray(address) ? address.map((a) => a.address) : [address];
        for (const a of list) {
          const why = refusal(hostname, a);
          if (why) return callback(Object.assign(new Error(`refused by the endpoint policy: ${why}`), { code: 'EACCES' }), address, family);
        }
        callback(null, address, family);
      });
    }) as net.LookupFunction,
  };
}
