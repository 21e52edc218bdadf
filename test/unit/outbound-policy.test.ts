/**
 * The outbound (SSRF) policy on its own: every refused range in IPv4 and IPv6, mapped addresses,
 * the metadata endpoints, the allowlist by CIDR and by name, the https rule, and the connect-time
 * lookup that judges what a name resolves to.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent, request } from 'undici';
import { ConfigError, loadConfig } from '../../lib/config/config';
import { allowEntryFor, OUTBOUND_REFUSED, OutboundPolicy, outboundPolicyOf, outboundRefusal, parseAllowEntry } from '../../lib/security/outbound-policy';

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

describe('allowlist entries with a port (npm start allowed the whole of 127.0.0.1)', () => {
  test.each([
    ['127.0.0.1', { kind: 'range', family: 'ipv4', address: '127.0.0.1', bits: 32 }],
    ['127.0.0.1:4010', { kind: 'range', family: 'ipv4', address: '127.0.0.1', bits: 32, port: 4010 }],
    ['10.0.0.0/8:443', { kind: 'range', family: 'ipv4', address: '10.0.0.0', bits: 8, port: 443 }],
    ['::1', { kind: 'range', family: 'ipv6', address: '::1', bits: 128 }],
    ['[::1]', { kind: 'range', family: 'ipv6', address: '::1', bits: 128 }],
    ['[::1]:4010', { kind: 'range', family: 'ipv6', address: '::1', bits: 128, port: 4010 }],
    ['[fd00::/8]:65535', { kind: 'range', family: 'ipv6', address: 'fd00::', bits: 8, port: 65535 }],
    ['fd00::/8', { kind: 'range', family: 'ipv6', address: 'fd00::', bits: 8 }],
    ['Fakes.Internal.', { kind: 'name', name: 'fakes.internal' }],
    ['fakes.internal:8443', { kind: 'name', name: 'fakes.internal', port: 8443 }],
  ])('%s parses', (entry, expected) => {
    expect(parseAllowEntry(entry)).toEqual(expected);
  });

  test.each([
    ['127.0.0.1:0', /port/],
    ['127.0.0.1:65536', /port/],
    ['127.0.0.1:', /port/],
    ['127.0.0.1:http', /port/],
    ['127.0.0.1:80:81', /not a CIDR/],
    ['::1:4010x', /not a CIDR/],
    ['[127.0.0.1]:80', /not a CIDR/],
    ['[fakes.internal]:80', /not a CIDR/],
    ['[::1]x', /not a CIDR/],
    ['10.0.0.0/33:80', /prefix length/],
    ['not a host!:80', /not a CIDR/],
    [':80', /not a CIDR/],
  ])('%s is refused, naming it', (entry, why) => {
    const parsed = parseAllowEntry(entry);
    expect('problem' in parsed && parsed.problem).toMatch(why);
    expect('problem' in parsed && parsed.problem).toContain(entry);
    expect(() => new OutboundPolicy({ allow: [entry] })).toThrow(/outbound allowlist/);
  });

  test('an address with a port allows that port only, by URL, by address and through a mapped IPv6 address', () => {
    const policy = new OutboundPolicy({ allow: ['127.0.0.1:4010', '[::1]:4010', 'fakes.internal:8443'], allowHttp: true });
    expect(policy.checkUrl('http://127.0.0.1:4010/v1/charges')).toBeNull();
    expect(policy.checkUrl('http://127.0.0.1:7233/')).toMatch(/127\.0\.0\.1 port 7233 is a loopback address/);
    expect(policy.checkUrl('http://127.0.0.1/')).toMatch(/port 80 .*loopback/);
    expect(policy.checkUrl('https://127.0.0.1/')).toMatch(/port 443 .*loopback/);
    expect(policy.checkUrl('http://127.0.0.2:4010/')).toMatch(/loopback/);
    expect(policy.checkUrl('http://[::1]:4010/')).toBeNull();
    expect(policy.checkUrl('http://[::1]:5432/')).toMatch(/loopback/);
    expect(policy.checkUrl('http://[::ffff:127.0.0.1]:4010/')).toBeNull();
    expect(policy.checkUrl('http://[::ffff:127.0.0.1]:7233/')).toMatch(/maps to 127\.0\.0\.1/);
    expect(policy.addressRefusal('127.0.0.1', 4010)).toBeNull();
    expect(policy.addressRefusal('127.0.0.1', 7233)).toMatch(/loopback/);
    // The port unknown (a bare lookup): only entries for every port count.
    expect(policy.addressRefusal('127.0.0.1')).toMatch(/loopback/);
    expect(new OutboundPolicy({ allow: ['127.0.0.1'] }).addressRefusal('127.0.0.1', 7233)).toBeNull();
  });

  test('the URL default ports count: https is 443, http is 80', () => {
    const policy = new OutboundPolicy({ allow: ['10.1.2.3:443', '10.1.2.4:80'], allowHttp: true });
    expect(policy.checkUrl('https://10.1.2.3/')).toBeNull();
    expect(policy.checkUrl('http://10.1.2.3/')).toMatch(/private/);
    expect(policy.checkUrl('http://10.1.2.4/')).toBeNull();
    expect(policy.checkUrl('https://10.1.2.4/')).toMatch(/private/);
  });

  test('allowEntryFor: the entry that allows exactly a URL\'s host and port', () => {
    expect(allowEntryFor('http://127.0.0.1:4010')).toBe('127.0.0.1:4010');
    expect(allowEntryFor('http://[::1]:4010/')).toBe('[::1]:4010');
    expect(allowEntryFor('https://Fakes.Internal/x')).toBe('fakes.internal:443');
    expect(allowEntryFor('http://fakes.internal/x')).toBe('fakes.internal:80');
    for (const url of ['http://127.0.0.1:4010', 'http://[::1]:4010/', 'https://fakes.internal/']) {
      expect(new OutboundPolicy({ allow: [allowEntryFor(url)], allowHttp: true }).checkUrl(url)).toBeNull();
    }
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
    // host:port entries, as npm start writes them.
    expect(loadConfig({ OUTBOUND_ALLOW: '127.0.0.1:4010,[::1]:4010' }).OUTBOUND_ALLOW).toEqual(['127.0.0.1:4010', '[::1]:4010']);
    expect(() => loadConfig({ OUTBOUND_ALLOW: '127.0.0.1:99999' })).toThrow(/OUTBOUND_ALLOW.*port/);
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

  test('an address allowed on another port only is refused at connect time, by literal and by name', async () => {
    hits = 0;
    const otherPort = new OutboundPolicy({ allow: [`127.0.0.1:${port + 1}`, `[::1]:${port + 1}`] });
    const literal = await get(otherPort, `http://127.0.0.1:${port}/`).catch((err: unknown) => err);
    expect(outboundRefusal(literal)?.message).toMatch(new RegExp(`127\\.0\\.0\\.1 port ${port} is a loopback`));
    const named = await get(otherPort, `http://localhost:${port}/`).catch((err: unknown) => err);
    expect(outboundRefusal(named)?.message).toMatch(/localhost.*loopback/);
    expect(hits).toBe(0);
    const thisPort = new OutboundPolicy({ allow: [`127.0.0.1:${port}`, `[::1]:${port}`] });
    expect(await get(thisPort, `http://127.0.0.1:${port}/`)).toBe(302);
    expect(await get(thisPort, `http://localhost:${port}/`)).toBe(302);
    expect(hits).toBe(2);
  });

  test('an allowed address connects; a redirect is answered, not followed', async () => {
    hits = 0;
    expect(await get(new OutboundPolicy({ allow: ['127.0.0.1', '::1'] }), `http://localhost:${port}/`)).toBe(302);
    expect(hits).toBe(1);
  });
});
