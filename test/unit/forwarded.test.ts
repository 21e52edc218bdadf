/**
 * The webhook intake runs ahead of Express, so it reads the client's address and protocol itself
 * (api/forwarded.ts). Here both are compared with Express's own `req.ip` and `req.protocol` on the
 * same requests, under every kind of `trust proxy` setting, with forwarded headers honest,
 * spoofed, chained, doubled and absent.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { clientAddress, clientProtocol, type TrustProxy } from '../../api/forwarded';

let server: http.Server;
let app: express.Express;

beforeAll(async () => {
  app = express();
  app.get('/', (req, res) => {
    const trust = app.get('trust proxy fn') as TrustProxy;
    res.json({ express: [req.ip, req.protocol], ours: [clientAddress(req, trust), clientProtocol(req, trust)] });
  });
  server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

function ask(headers: http.OutgoingHttpHeaders): Promise<{ express: unknown; ours: unknown }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, path: '/', headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk)).on('end', () => resolve(JSON.parse(text) as { express: unknown; ours: unknown }));
    });
    req.on('error', reject);
    req.end();
  });
}

const settings: unknown[] = [false, true, 'loopback', '127.0.0.1', '10.0.0.0/8', 'loopback, 10.0.0.0/8', 1, 2, 'uniquelocal', (address: string) => address === '127.0.0.1'];

const headerSets: http.OutgoingHttpHeaders[] = [
  {},
  { 'x-forwarded-for': '203.0.113.7' },
  { 'x-forwarded-for': '203.0.113.7, 10.1.2.3' },
  { 'x-forwarded-for': '198.51.100.1, 203.0.113.7, 10.1.2.3', 'x-forwarded-proto': 'https' },
  { 'x-forwarded-for': '2001:db8::42', 'x-forwarded-proto': ' HTTPS , http' },
  { 'x-forwarded-for': 'not an address', 'x-forwarded-proto': '' },
  { 'x-forwarded-for': ['203.0.113.7', '10.1.2.3'], 'x-forwarded-proto': ['https', 'http'] },
  { 'x-forwarded-proto': 'wss' },
];

test.each(settings.map((setting) => [String(setting), setting]))('trust proxy %s: the same address and protocol as Express', async (_name, setting) => {
  app.set('trust proxy', setting);
  for (const headers of headerSets) {
    const seen = await ask(headers);
    expect({ headers, seen: seen.ours }).toEqual({ headers, seen: seen.express });
  }
});
