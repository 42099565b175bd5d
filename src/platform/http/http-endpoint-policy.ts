/**
 * Which addresses the server may call when users hand it a URL: evaluation endpoints and judges,
 * webhooks. Such URLs are user input, so without a rule they reach whatever the server can reach, the cloud
 * metadata service included (server-side request forgery).
 *
 * The rule: link-local addresses (169.254.0.0/16 and fe80::/10, where most cloud metadata
 * services answer), the metadata addresses outside them (AWS over IPv6 `fd00:ec2::254`, Alibaba
 * Cloud `100.100.100.200`) and unspecified ones (0.0.0.0/8, ::) are refused, also when an IPv6
 * address carries a refused IPv4 address (IPv4-mapped `::ffff:a.b.c.d`, IPv4-translated, NAT64
 * `64:ff9b::/96` and `64:ff9b:1::/48`, 6to4 `2002::/16`), whatever its textual form (addresses
 * are read in canonical form by the WHATWG URL parser, then checked with `net.BlockList`).
 * Loopback and private networks, where model servers usually run, are not refused. With an
 * allow-list (`STEWARD_EVAL_ENDPOINT_ALLOW`: host names, `*.suffix`, addresses or CIDRs,
 * comma-separated; webhooks: `STEWARD_WEBHOOK_ALLOW`), only what it names is called, refused addresses included if named. It is
 * checked when a run is created (a clear 400 before any work) and again on every connection the
 * runner opens, so a name that resolves elsewhere later (DNS rebinding) fails its requests
 * instead of reaching a refused address.
 */
import dns from 'node:dns';
import net from 'node:net';
import { errors } from '../errors.js';

export interface EndpointPolicy {
  /** Throws an `invalid_argument` AppError when `url`'s host is refused (a name that does not resolve passes: the run then fails to connect). */
  check(url: string, what: string): Promise<void>;
  /** A `lookup` for net.connect that refuses what `check` refuses. */
  lookup: net.LookupFunction;
}

const REFUSED_V4 = new net.BlockList();
REFUSED_V4.addSubnet('169.254.0.0', 16, 'ipv4');
REFUSED_V4.addSubnet('0.0.0.0', 8, 'ipv4');
REFUSED_V4.addAddress('100.100.100.200', 'ipv4'); // Alibaba Cloud metadata
const REFUSED_V6 = new net.BlockList();
REFUSED_V6.addSubnet('fe80::', 10, 'ipv6');
REFUSED_V6.addAddress('::', 'ipv6');
REFUSED_V6.addAddress('fd00:ec2::254', 'ipv6'); // AWS instance metadata over IPv6

const familyOf = (address: string): 'ipv4' | 'ipv6' => (net.isIPv6(address) ? 'ipv6' : 'ipv4');

/** The eight 16-bit groups of an IPv6 address in any textual form (zone dropped), or null. */
export function ipv6Groups(address: string): number[] | null {
  const bare = address.replace(/%.*$/, '');
  if (!net.isIPv6(bare)) return null;
  // The WHATWG URL parser writes every IPv6 form (dotted tail, leading zeros, upper case) canonically: hex groups, one "::" at most.
  const canonical = new URL(`http://[${bare}]/`).hostname.slice(1, -1);
  const groups = (part: string) => (part ? part.split(':').map((h) => parseInt(h, 16)) : []);
  const gap = canonical.indexOf('::');
  if (gap < 0) return groups(canonical);
  const [left, right] = [groups(canonical.slice(0, gap)), groups(canonical.slice(gap + 2))];
  return [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
}

/** The IPv4 address an IPv6 address carries to an IPv4 host (mapped, translated, NAT64, 6to4), or null. */
export function embeddedIPv4(address: string): string | null {
  const g = ipv6Groups(address);
  if (!g) return null;
  const v4 = (hi: number, lo: number) => `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
  const zero = (from: number, to: number) => g.slice(from, to).every((x) => x === 0);
  if (zero(0, 5) && g[5] === 0xffff) return v4(g[6]!, g[7]!); // ::ffff:a.b.c.d
  if (zero(0, 4) && g[4] === 0xffff && g[5] === 0) return v4(g[6]!, g[7]!); // ::ffff:0:a.b.c.d
  if (g[0] === 0x64 && g[1] === 0xff9b && (zero(2, 6) || g[2] === 1)) return v4(g[6]!, g[7]!); // NAT64, RFC 6052 and 8215
  if (g[0] === 0x2002) return v4(g[1]!, g[2]!); // 6to4
  return null;
}

/** Whether the default rule refuses `address`, itself or the IPv4 address it carries. */
function refusedByDefault(address: string): boolean {
  const bare = address.replace(/%.*$/, '');
  if (net.isIPv4(bare)) return REFUSED_V4.check(bare, 'ipv4');
  if (!net.isIPv6(bare)) return false;
  const v4 = embeddedIPv4(bare);
  return REFUSED_V6.check(bare, 'ipv6') || (v4 !== null && REFUSED_V4.check(v4, 'ipv4'));
}

/** `setting` names the allow-list in messages (where an operator widens it). */
export function createEndpointPolicy(allow: readonly string[], setting = 'STEWARD_EVAL_ENDPOINT_ALLOW'): EndpointPolicy {
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
    const bare = address.replace(/%.*$/, '');
    const carried = embeddedIPv4(bare);
    // An IPv4-mapped address (::ffff:a.b.c.d) is the IPv4 host itself: named by its IPv4 form.
    const g = ipv6Groups(bare);
    const mapped = g !== null && g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff;
    const plain = mapped && carried !== null ? carried : bare;
    if (listed) {
      if (hosts.has(name) || suffixes.some((s) => name.endsWith(s)) || nets.check(plain, familyOf(plain))) return null;
      return `${name}${name === plain ? '' : ` (${plain})`} is not in ${setting}`;
    }
    if (refusedByDefault(bare)) {
      const reaches = carried !== null && carried !== plain ? ` (it reaches ${carried})` : '';
      return `${name}${name === plain ? '' : ` resolves to ${plain}, which`} is a link-local, unspecified or cloud metadata address${reaches}; name it in ${setting} to call it anyway`;
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
