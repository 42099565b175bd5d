import type dns from 'node:dns';
import { describe, expect, it } from 'vitest';
import { createEndpointPolicy } from './evals-endpoint-policy.js';

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
      await expect(p.check(url, 'endpoint')).rejects.toMatchObject({ code: 'invalid_argument', message: expect.stringMatching(/link-local or unspecified/) });
    }
    for (const url of ['http://127.0.0.1:8000/v1', 'http://10.1.2.3/v1', 'https://192.168.0.9/v1', 'http://localhost:1/v1', 'http://[::1]:8000/v1']) {
      await expect(p.check(url, 'endpoint')).resolves.toBeUndefined();
    }
    // A name that does not resolve is not refused here: the run fails to connect, as for any down endpoint.
    await expect(p.check('http://no-such-host.invalid/v1', 'endpoint')).resolves.toBeUndefined();
    expect(await lookup(p, 'localhost')).toMatch(/127\.0\.0\.1|::1/);
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
