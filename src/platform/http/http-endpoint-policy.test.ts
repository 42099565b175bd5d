import type dns from 'node:dns';
import { describe, expect, it } from 'vitest';
import { createEndpointPolicy, embeddedIPv4, ipv6Groups } from './http-endpoint-policy.js';

/** What the policy's connection-time lookup answers for `host`: the addresses, or the error code. */
function lookup(policy: ReturnType<typeof createEndpointPolicy>, host: string): Promise<string> {
  return new Promise((resolve) => {
    policy.lookup(host, { all: true } as dns.LookupOptions, (err, address) => {
      if (err) resolve(`error ${err.code}`);
      else resolve((address as unknown as dns.LookupAddress[]).map((a) => a.address).join(','));
    });
  });
}

describe('evaluation endpoint policy', () => {
  it('refuses link-local and unspecified addresses by default, and lets model servers on loopback or private networks through', async () => {
    const p = createEndpointPolicy([]);
    for (const url of ['http://169.254.169.254/latest/meta-data', 'http://[fe80::1]:8000/v1', 'http://0.0.0.0:8000/v1', 'http://[::ffff:169.254.1.1]/v1']) {
      await expect(p.check(url, 'endpoint')).rejects.toMatchObject({ code: 'invalid_argument', message: expect.stringMatching(/link-local, unspecified or cloud metadata/) });
    }
    for (const url of ['http://127.0.0.1:8000/v1', 'http://10.1.2.3/v1', 'https://192.168.0.9/v1', 'http://localhost:1/v1', 'http://[::1]:8000/v1']) {
      await expect(p.check(url, 'endpoint')).resolves.toBeUndefined();
    }
    // A name that does not resolve is not refused here: the run fails to connect, as for any down endpoint.
    await expect(p.check('http://no-such-host.invalid/v1', 'endpoint')).resolves.toBeUndefined();
    expect(await lookup(p, 'localhost')).toMatch(/127\.0\.0\.1|::1/);
  });

  it('refuses cloud metadata addresses outside link-local space, and refused IPv4 addresses carried in IPv6 in any textual form', async () => {
    const p = createEndpointPolicy([]);
    const refused = [
      'http://[fd00:ec2::254]/latest/meta-data', // AWS IMDS over IPv6
      'http://[FD00:0EC2:0000:0000:0000:0000:0000:0254]/',
      'http://100.100.100.200/latest/meta-data', // Alibaba Cloud
      'http://[64:ff9b::a9fe:a9fe]/', // NAT64 of 169.254.169.254
      'http://[64:ff9b::169.254.169.254]/',
      'http://[64:ff9b:1::a9fe:a9fe]/', // local-use NAT64 prefix
      'http://[::ffff:169.254.169.254]/', // IPv4-mapped
      'http://[0:0:0:0:0:ffff:a9fe:a9fe]/',
      'http://[::ffff:0:a9fe:a9fe]/', // IPv4-translated
      'http://[2002:a9fe:a9fe::1]/', // 6to4
      'http://[64:ff9b::100.100.100.200]/',
      'http://[::ffff:0.0.0.0]/',
      'http://2852039166/', // 169.254.169.254 as one number (the URL parser reads it as IPv4)
      'http://0xa9.0xfe.0xa9.0xfe/',
    ];
    for (const url of refused) {
      await expect(p.check(url, 'endpoint'), url).rejects.toMatchObject({ code: 'invalid_argument', message: expect.stringMatching(/link-local, unspecified or cloud metadata/) });
    }
    await expect(p.check('http://[64:ff9b::a9fe:a9fe]/', 'endpoint')).rejects.toThrow(/it reaches 169\.254\.169\.254/);
    // Model servers behind NAT64 or on other private addresses stay callable.
    for (const url of ['http://[64:ff9b::a00:1]/v1', 'http://[fd00:ec2::253]/v1', 'http://100.100.100.201/v1', 'http://[2002:a00:1::1]/v1']) {
      await expect(p.check(url, 'endpoint'), url).resolves.toBeUndefined();
    }
  });

  it('reads IPv6 addresses in every textual form', () => {
    expect(ipv6Groups('::1')).toEqual([0, 0, 0, 0, 0, 0, 0, 1]);
    expect(ipv6Groups('64:ff9b::169.254.169.254')).toEqual([0x64, 0xff9b, 0, 0, 0, 0, 0xa9fe, 0xa9fe]);
    expect(ipv6Groups('fe80::1%eth0')).toEqual([0xfe80, 0, 0, 0, 0, 0, 0, 1]);
    expect(ipv6Groups('1:2:3:4:5:6:7:8')).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(ipv6Groups('10.0.0.1')).toBeNull();
    expect(embeddedIPv4('::ffff:a9fe:a9fe')).toBe('169.254.169.254');
    expect(embeddedIPv4('64:ff9b::a9fe:a9fe')).toBe('169.254.169.254');
    expect(embeddedIPv4('2002:a9fe:a9fe::')).toBe('169.254.169.254');
    expect(embeddedIPv4('::1')).toBeNull();
    expect(embeddedIPv4('fd00:ec2::254')).toBeNull();
  });

  it('refuses at connection time an address that carries a refused one, as the check does', async () => {
    // The lookup refuses what DNS answers (an address literal answers itself), as the check does.
    const p = createEndpointPolicy([]);
    expect(await lookup(p, '64:ff9b::a9fe:a9fe')).toBe('error EACCES');
    expect(await lookup(p, '100.100.100.200')).toBe('error EACCES');
    expect(await lookup(p, '64:ff9b::7f00:1')).toBe('64:ff9b::7f00:1');
  });

  it('with an allow-list, calls only what it names (addresses, CIDRs, host names, *.suffixes), link-local included if named', async () => {
    const p = createEndpointPolicy(['10.0.0.0/8', '127.0.0.1', '169.254.169.254', 'models.example', '*.internal.example']);
    for (const url of ['http://10.9.8.7/v1', 'http://127.0.0.1:9/v1', 'http://169.254.169.254/']) await expect(p.check(url, 'endpoint')).resolves.toBeUndefined();
    for (const url of ['http://192.168.1.1/v1', 'http://[::1]:8000/v1', 'http://169.254.0.1/']) {
      await expect(p.check(url, 'judge endpoint')).rejects.toMatchObject({ code: 'invalid_argument', message: expect.stringMatching(/^judge endpoint .* not in STEWARD_EVAL_ENDPOINT_ALLOW/) });
    }
    // On every connection too: a name the list does not cover is refused when it resolves.
    expect(await lookup(createEndpointPolicy(['10.0.0.0/8']), 'localhost')).toBe('error EACCES');
    expect(await lookup(createEndpointPolicy(['localhost']), 'localhost')).toMatch(/127\.0\.0\.1|::1/);
  });
});

describe('the shared OpenAI client under the policy', () => {
  it('refuses a connection whose host resolves to an address the policy refuses, and makes it otherwise', async () => {
    const { createServer } = await import('node:http');
    const { createOpenAIClient } = await import('../../platform/openai/openai-client.js');
    let hits = 0;
    const server = createServer((_req, res) => {
      hits++;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ choices: [{ message: { role: 'assistant', content: 'ok' } }], usage: { completion_tokens: 1 } }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const req = { model: 'm', messages: [{ role: 'user', content: 'hi' }] };
    try {
      const refused = createOpenAIClient({ url: `http://localhost:${port}/v1`, connections: 1, timeoutMs: 5000, lookup: createEndpointPolicy(['10.0.0.0/8']).lookup });
      await expect(refused.chat(req)).rejects.toThrow(/refused by the endpoint policy/);
      await refused.close();
      expect(hits).toBe(0);
      const allowed = createOpenAIClient({ url: `http://localhost:${port}/v1`, connections: 1, timeoutMs: 5000, lookup: createEndpointPolicy([]).lookup });
      expect((await allowed.chat(req)).text).toBe('ok');
      await allowed.close();
      expect(hits).toBe(1);
    } finally {
      server.close();
    }
  });
});
