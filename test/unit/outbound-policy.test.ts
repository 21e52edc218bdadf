/**
 * The outbound (SSRF) policy on its own: every refused range in IPv4 and IPv6, mapped addresses,
 * the metadata endpoints, the allowlist by CIDR and by name, the https rule, and the connect-time
 * lookup that judges what a name resolves to.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent, request } from 'undici';
import { ConfigError, loadConfig } from '../../lib/config';
import { OUTBOUND_REFUSED, OutboundPolicy, outboundPolicyOf, outboundRefusal } from '../../lib/outbound-policy';

const strict = new OutboundPolicy();

describe('refused addresses', () => {
  test.each([
    ['0.0.0.0', 'unspecified'],
    ['10.1.2.3', 'private'],
    ['100.64.0.1', 'shared'],
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['169.254.169.254', 'link-local'],
    ['169.254.1.1', 'link-local'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['224.0.0.251', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['240.0.0.1', 'reserved'],
    ['255.255.255.255', 'broadcast'],
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['fc00::1', 'unique-local'],
    ['fd12:3456::1', 'unique-local'],
    ['fe80::1', 'link-local'],
    ['ff02::1', 'multicast'],
    ['fd00:ec2::254', 'metadata'],
  ])('%s is refused (%s)', (address, why) => {
    expect(strict.addressRefusal(address)).toMatch(why);
    const host = address.includes(':') ? `[${address}]` : address;
    expect(strict.checkUrl(`https://${host}/hook`)).toMatch(why);
  });

  test.each(['8.8.8.8', '1.1.1.1', '172.32.0.1', '100.128.0.1', '192.169.0.1', '2606:4700:4700::1111', '2001:db8::1'])('%s is allowed', (address) => {
    expect(strict.addressRefusal(address)).toBeNull();
  });

  test('IPv4-mapped and NAT64 IPv6 addresses are judged as their IPv4', () => {
    expect(strict.addressRefusal('::ffff:127.0.0.1')).toMatch(/maps to 127\.0\.0\.1.*loopback/);
    expect(strict.addressRefusal('::ffff:a9fe:a9fe')).toMatch(/maps to 169\.254\.169\.254.*link-local/);
    expect(strict.addressRefusal('64:ff9b::10.0.0.1')).toMatch(/maps to 10\.0\.0\.1.*private/);
    expect(strict.addressRefusal('::ffff:8.8.8.8')).toBeNull();
    // new URL() writes a mapped address in hex; the check sees through it
    expect(strict.checkUrl('https://[::ffff:192.168.0.1]/')).toMatch(/maps to 192\.168\.0\.1/);
  });

  test('the metadata endpoints are refused, an IPv6 zone does not hide an address', () => {
    expect(strict.checkUrl('https://169.254.169.254/latest/meta-data/')).toMatch(/link-local/);
    expect(strict.checkUrl('https://[fd00:ec2::254]/latest/meta-data/')).toMatch(/cloud metadata/);
    expect(strict.addressRefusal('fe80::1%eth0')).toMatch(/link-local/);
  });

  test('other spellings of IPv4 literals are normalised by the URL parser and refused', () => {
    expect(strict.checkUrl('https://2130706433/')).toMatch(/127\.0\.0\.1.*loopback/);
    expect(strict.checkUrl('https://0x7f.1/')).toMatch(/loopback/);
  });
});

describe('checkUrl at create time', () => {
  test('https only by default; http with allowHttp; other schemes never', () => {
    expect(strict.checkUrl('https://hooks.example.com/x')).toBeNull();
    expect(strict.checkUrl('http://hooks.example.com/x')).toMatch(/https required/);
    expect(new OutboundPolicy({ allowHttp: true }).checkUrl('http://hooks.example.com/x')).toBeNull();
    expect(new OutboundPolicy({ allowHttp: true }).checkUrl('ftp://hooks.example.com/x')).toMatch(/scheme ftp:/);
    expect(strict.checkUrl('file:///etc/passwd')).toMatch(/scheme file:/);
    expect(strict.checkUrl('not a url')).toBe('not a URL');
    expect(strict.checkUrl('https://user:pw@hooks.example.com/')).toMatch(/credentials/);
  });

  test('a host name passes (it is judged when connecting, by what it resolves to)', () => {
    expect(strict.checkUrl('https://localhost/hook')).toBeNull();
  });

  test('the allowlist by CIDR, by address and by name', () => {
    const policy = new OutboundPolicy({ allow: ['10.20.0.0/16', '::1', 'Fakes.Internal'] });
    expect(policy.checkUrl('https://10.20.3.4/')).toBeNull();
    expect(policy.checkUrl('https://10.21.3.4/')).toMatch(/private/);
    expect(policy.checkUrl('https://[::1]:8443/')).toBeNull();
    expect(policy.checkUrl('https://127.0.0.1/')).toMatch(/loopback/);
    expect(policy.addressRefusal('::ffff:10.20.0.9')).toBeNull(); // mapped: judged (and allowed) as its IPv4
    expect(policy.checkUrl('https://fakes.internal./x')).toBeNull();
  });

  test('a bad allowlist entry is refused, naming it', () => {
    expect(() => new OutboundPolicy({ allow: ['10.0.0.0/33'] })).toThrow(/10\.0\.0\.0\/33/);
    expect(() => new OutboundPolicy({ allow: ['not a host!'] })).toThrow(/not a host!/);
  });
});

describe('configuration', () => {
  test('OUTBOUND_ALLOW and OUTBOUND_ALLOW_HTTP are parsed and checked', () => {
    const config = loadConfig({ OUTBOUND_ALLOW: ' 127.0.0.1, 10.0.0.0/8 ,fakes.local', OUTBOUND_ALLOW_HTTP: 'true' });
    expect(config.OUTBOUND_ALLOW).toEqual(['127.0.0.1', '10.0.0.0/8', 'fakes.local']);
    expect(config.OUTBOUND_ALLOW_HTTP).toBe(true);
    expect(outboundPolicyOf(config).checkUrl('http://10.9.9.9/')).toBeNull();
    const defaults = loadConfig({});
    expect(defaults.OUTBOUND_ALLOW).toEqual([]);
    expect(defaults.OUTBOUND_ALLOW_HTTP).toBe(false);
    expect(() => loadConfig({ OUTBOUND_ALLOW: '10.0.0.0/99' })).toThrow(ConfigError);
    expect(() => loadConfig({ OUTBOUND_ALLOW: '10.0.0.0/99' })).toThrow(/OUTBOUND_ALLOW/);
    expect(() => loadConfig({ OUTBOUND_ALLOW_HTTP: 'yes' })).toThrow(/OUTBOUND_ALLOW_HTTP/);
  });
});

describe('at connect time', () => {
  let server: Server;
  let port: number;
  let hits = 0;

  beforeAll(async () => {
    server = createServer((_req, res) => {
      hits += 1;
      res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  function lookup(policy: OutboundPolicy, name: string, all: boolean): Promise<unknown> {
    return new Promise((resolve, reject) => {
      policy.lookup(name, { all }, (err, address) => (err ? reject(err) : resolve(address)));
    });
  }

  test('a name that resolves to a refused address fails the lookup with EOUTBOUNDREFUSED', async () => {
    await expect(lookup(strict, 'localhost', false)).rejects.toMatchObject({ code: OUTBOUND_REFUSED, message: expect.stringMatching(/localhost.*loopback/) as unknown });
    await expect(lookup(strict, 'localhost', true)).rejects.toMatchObject({ code: OUTBOUND_REFUSED });
    const allowed = new OutboundPolicy({ allow: ['127.0.0.0/8', '::1'] });
    await expect(lookup(allowed, 'localhost', false)).resolves.toMatch(/^(127\.|::1)/);
    const byName = await lookup(new OutboundPolicy({ allow: ['localhost'] }), 'localhost', true);
    expect(Array.isArray(byName) && byName.length > 0).toBe(true);
  });

  async function get(policy: OutboundPolicy, url: string): Promise<number> {
    const agent = new Agent({ connect: policy.connector() });
    try {
      const res = await request(url, { dispatcher: agent });
      await res.body.arrayBuffer();
      return res.statusCode;
    } finally {
      await agent.close();
    }
  }

  test('the connector refuses a literal address and a name resolving to one; nothing reaches the server', async () => {
    hits = 0;
    const literal = await get(strict, `http://127.0.0.1:${port}/`).catch((err: unknown) => err);
    expect(outboundRefusal(literal)?.message).toMatch(/127\.0\.0\.1.*loopback/);
    const v6 = await get(strict, `http://[::1]:${port}/`).catch((err: unknown) => err);
    expect(outboundRefusal(v6)?.message).toMatch(/::1.*loopback/);
    const mapped = await get(strict, `http://[::ffff:127.0.0.1]:${port}/`).catch((err: unknown) => err);
    expect(outboundRefusal(mapped)?.message).toMatch(/maps to 127\.0\.0\.1/);
    const named = await get(strict, `http://localhost:${port}/`).catch((err: unknown) => err);
    expect(outboundRefusal(named)?.message).toMatch(/localhost.*loopback/);
    expect(hits).toBe(0);
  });

  test('an allowed address connects; a redirect is answered, not followed', async () => {
    hits = 0;
    expect(await get(new OutboundPolicy({ allow: ['127.0.0.1', '::1'] }), `http://localhost:${port}/`)).toBe(302);
    expect(hits).toBe(1);
  });
});
