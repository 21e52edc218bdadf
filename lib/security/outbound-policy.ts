/**
 * Where Switchyard may send HTTP requests (SSRF protection). Subscriber URLs and generic-provider
 * base URLs are user-controlled, so a request to them must not reach the host's own services, the
 * private network or the cloud metadata endpoint. Two checks, both here:
 * - `checkUrl`, when a URL is stored (subscriber create/patch, worker start): scheme (https unless
 *   OUTBOUND_ALLOW_HTTP) and, for a literal IP, its range;
 * - `lookup` and `connect`, when a connection is opened: the addresses a name resolves to are
 *   checked right before connecting to them, so a name that later resolves elsewhere (DNS
 *   rebinding) is refused too.
 * Refused: loopback, link-local (with 169.254.169.254), private, shared (CGNAT), unique-local,
 * multicast, reserved and unspecified addresses, and the metadata addresses; IPv4-mapped and NAT64
 * IPv6 addresses are judged as their IPv4. OUTBOUND_ALLOW (CIDRs, addresses or host names, each
 * optionally with a port: `127.0.0.1:4010`, `[::1]:4010`, `fakes.internal:8443`) lets some through.
 * An entry with a port allows that port only: `npm start` allows the fakes' own port, so a
 * subscriber URL on another loopback port (Temporal's 7233, PostgreSQL's 5432) is still refused.
 */
import dns, { type LookupAddress, type LookupOptions } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import { buildConnector } from 'undici';

/** The error code of a refused connection (on the error and in its message). */
export const OUTBOUND_REFUSED = 'EOUTBOUNDREFUSED';

export class OutboundRefusedError extends Error {
  readonly code = OUTBOUND_REFUSED;
  constructor(message: string) {
    super(message);
    this.name = 'OutboundRefusedError';
  }
}

/** The first refused error in an error's `cause` chain (undici and fetch wrap connect errors). */
export function outboundRefusal(error: unknown): OutboundRefusedError | null {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; current = current.cause, depth++) {
    if (current instanceof OutboundRefusedError) return current;
  }
  return null;
}

type Family = 'ipv4' | 'ipv6';

const refusedRanges: readonly { cidr: string; why: string }[] = [
  { cidr: '0.0.0.0/8', why: 'an unspecified ("this network") address' },
  { cidr: '10.0.0.0/8', why: 'a private address' },
  { cidr: '100.64.0.0/10', why: 'a shared (carrier-grade NAT) address' },
  { cidr: '127.0.0.0/8', why: 'a loopback address' },
  { cidr: '169.254.0.0/16', why: 'a link-local address (cloud metadata lives here)' },
  { cidr: '172.16.0.0/12', why: 'a private address' },
  { cidr: '192.0.0.0/24', why: 'an IETF protocol address' },
  { cidr: '192.168.0.0/16', why: 'a private address' },
  { cidr: '198.18.0.0/15', why: 'a benchmarking address' },
  { cidr: '224.0.0.0/4', why: 'a multicast address' },
  { cidr: '240.0.0.0/4', why: 'a reserved or broadcast address' },
  { cidr: 'fd00:ec2::254/128', why: 'the cloud metadata address' },
  { cidr: '::/128', why: 'the unspecified address' },
  { cidr: '::1/128', why: 'a loopback address' },
  { cidr: 'fc00::/7', why: 'a unique-local address' },
  { cidr: 'fe80::/10', why: 'a link-local address' },
  { cidr: 'ff00::/8', why: 'a multicast address' },
];

function toBlockList(cidr: string): BlockList {
  const list = new BlockList();
  const [address, bits] = cidr.split('/') as [string, string];
  list.addSubnet(address, Number(bits), isIP(address) === 6 ? 'ipv6' : 'ipv4');
  return list;
}

const refused = refusedRanges.map((r) => ({ ...r, list: toBlockList(r.cidr) }));

/** The 8 groups of an IPv6 address (no zone), or null. */
function ipv6Groups(address: string): number[] | null {
  let text = address;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const octets = dotted[1]!.split('.').map(Number);
    text = `${text.slice(0, dotted.index)}${((octets[0]! << 8) | octets[1]!).toString(16)}:${((octets[2]! << 8) | octets[3]!).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const left = parse(head);
  const right = tail === undefined ? [] : parse(tail);
  if (tail !== undefined && left.length + right.length > 7) return null;
  const groups = tail === undefined ? left : [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : null;
}

/** The IPv4 address an IPv4-mapped (::ffff:0:0/96) or NAT64 (64:ff9b::/96) IPv6 address stands for. */
function embeddedIpv4(address: string): string | null {
  const groups = ipv6Groups(address);
  if (!groups) return null;
  const mapped = groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff;
  const nat64 = groups[0] === 0x64 && groups[1] === 0xff9b && groups.slice(2, 6).every((g) => g === 0);
  if (!mapped && !nat64) return null;
  return [groups[6]! >> 8, groups[6]! & 0xff, groups[7]! >> 8, groups[7]! & 0xff].join('.');
}

/** Strips URL brackets and an IPv6 zone (`fe80::1%eth0`). */
function bareAddress(host: string): string {
  return host.replace(/^\[(.*)\]$/, '$1').replace(/%.*$/, '');
}

export interface OutboundPolicyOptions {
  /** CIDRs, single addresses or host names, each optionally with a port, that may be reached even though they are refused ranges. */
  allow?: readonly string[];
  /** Plain http:// URLs are accepted (default: https only). */
  allowHttp?: boolean;
  /**
   * PEM certificates trusted *instead of* the system roots for TLS connections under this policy
   * (a private CA; tests with a self-signed server). Absent: the system roots.
   */
  ca?: string | readonly string[];
}

/** One OUTBOUND_ALLOW entry: an address range or a host name, for every port or for one. */
export type AllowEntry =
  | { kind: 'range'; family: Family; address: string; bits: number; port?: number }
  | { kind: 'name'; name: string; port?: number };

const hostNamePattern = /^(?=.{1,253}$)[a-z0-9_]([a-z0-9_-]{0,62})(\.[a-z0-9_]([a-z0-9_-]{0,62}))*\.?$/i;

/** A CIDR, an address or a host name (no port), or null. */
function parseAllowHost(text: string): AllowEntry | null {
  const [address, bits, extra] = text.split('/');
  if (extra !== undefined || address === undefined) return null;
  const version = isIP(address);
  if (version !== 0) {
    const max = version === 6 ? 128 : 32;
    if (bits !== undefined && !(/^\d{1,3}$/.test(bits) && Number(bits) <= max)) return null;
    return { kind: 'range', family: version === 6 ? 'ipv6' : 'ipv4', address, bits: bits === undefined ? max : Number(bits) };
  }
  if (bits === undefined && hostNamePattern.test(text)) return { kind: 'name', name: normalName(text) };
  return null;
}

function normalName(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

/**
 * An OUTBOUND_ALLOW entry: `host` or `host:port`, where host is a CIDR, an address or a name; an
 * IPv6 address or CIDR takes brackets when it has a port (`[::1]:4010`, `[fd00::/8]:443`).
 */
export function parseAllowEntry(entry: string): AllowEntry | { problem: string } {
  const invalid = { problem: `"${entry}" is not a CIDR, an address or a host name, with an optional :port` };
  let host = entry;
  let portText: string | undefined;
  const bracketed = /^\[([^\]]*)\](?::(.*))?$/.exec(entry);
  if (bracketed) {
    host = bracketed[1]!;
    portText = bracketed[2];
    if (isIP(host.split('/')[0]!) !== 6) return invalid;
  } else if (entry.split(':').length === 2) {
    [host, portText] = entry.split(':') as [string, string];
    if (isIP(host.split('/')[0]!) === 6) return invalid;
  }
  const parsed = parseAllowHost(host);
  if (!parsed) {
    const [address, bits] = host.split('/');
    return isIP(address ?? '') !== 0 && bits !== undefined ? { problem: `"${entry}": prefix length out of range` } : invalid;
  }
  if (portText === undefined) return parsed;
  const port = /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
  if (!(port >= 1 && port <= 65535)) return { problem: `"${entry}": the port must be a number from 1 to 65535` };
  return { ...parsed, port };
}

/** One parsed allowlist entry problem, or null when the entry is valid (see parseAllowEntry). */
export function allowEntryProblem(entry: string): string | null {
  const parsed = parseAllowEntry(entry);
  return 'problem' in parsed ? parsed.problem : null;
}

/** The OUTBOUND_ALLOW entry that lets through exactly this URL's host and port (`127.0.0.1:4010`, `[::1]:4010`). */
export function allowEntryFor(url: string): string {
  const parsed = new URL(url);
  return `${parsed.hostname}:${effectivePort(parsed.protocol, parsed.port)}`;
}

/** The port a connection to `protocol`/`port` (a URL's, '' for the default) goes to. */
function effectivePort(protocol: string, port: string): number {
  if (port !== '') return Number(port);
  return protocol === 'http:' ? 80 : 443;
}

/** Addresses and names allowed on every port, and those allowed on one port only. */
class Allowlist {
  private readonly anyPort = new BlockList();
  private readonly byPort = new Map<number, BlockList>();
  private readonly names = new Set<string>();

  constructor(entries: readonly AllowEntry[]) {
    for (const entry of entries) {
      if (entry.kind === 'name') {
        this.names.add(entry.port === undefined ? entry.name : `${entry.name}:${entry.port}`);
        continue;
      }
      let list = this.anyPort;
      if (entry.port !== undefined) {
        list = this.byPort.get(entry.port) ?? new BlockList();
        this.byPort.set(entry.port, list);
      }
      list.addSubnet(entry.address, entry.bits, entry.family);
    }
  }

  /** `port` undefined: the port is not known yet, so only entries for every port count. */
  hasAddress(address: string, family: Family, port: number | undefined): boolean {
    if (this.anyPort.check(address, family)) return true;
    return port !== undefined && (this.byPort.get(port)?.check(address, family) ?? false);
  }

  hasName(hostname: string, port: number | undefined): boolean {
    const name = normalName(hostname);
    return this.names.has(name) || (port !== undefined && this.names.has(`${name}:${port}`));
  }
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;
type LookupFunction = (hostname: string, options: LookupOptions, callback: LookupCallback) => void;

export class OutboundPolicy {
  readonly allowHttp: boolean;
  private readonly ca: string | readonly string[] | undefined;
  private readonly allowed: Allowlist;

  constructor(options: OutboundPolicyOptions = {}) {
    this.allowHttp = options.allowHttp ?? false;
    this.ca = options.ca;
    const entries = (options.allow ?? []).map((e) => e.trim()).filter(Boolean);
    this.allowed = new Allowlist(
      entries.map((entry) => {
        const parsed = parseAllowEntry(entry);
        if ('problem' in parsed) throw new Error(`outbound allowlist: ${parsed.problem}`);
        return parsed;
      }),
    );
  }

  /**
   * Why connecting to this IP address (on this port) is refused, or null when it may be reached.
   * Without a port only the allowlist entries for every port count.
   */
  addressRefusal(host: string, port?: number): string | null {
    const address = bareAddress(host);
    const version = isIP(address);
    if (version === 0) return `"${host}" is not an IP address`;
    const family: Family = version === 6 ? 'ipv6' : 'ipv4';
    if (this.allowed.hasAddress(address, family, port)) return null;
    const v4 = family === 'ipv6' ? embeddedIpv4(address) : null;
    if (v4 !== null) {
      const inner = this.addressRefusal(v4, port);
      return inner === null ? null : `${address} maps to ${v4}: ${inner}`;
    }
    const range = refused.find((r) => r.list.check(address, family));
    if (!range) return null;
    const where = port === undefined ? address : `${address} port ${port}`;
    return `${where} is ${range.why} (${range.cidr}); add it to OUTBOUND_ALLOW (as address:port for one port) to permit it`;
  }

  /**
   * Why a URL may not be stored or called, or null. Checked when it is stored; host names are
   * checked again on every connection, against what they resolve to then.
   */
  checkUrl(url: string): string | null {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return 'not a URL';
    }
    if (parsed.protocol !== 'https:' && !(parsed.protocol === 'http:' && this.allowHttp)) {
      return parsed.protocol === 'http:' ? 'https required (plain http is off: OUTBOUND_ALLOW_HTTP)' : `scheme ${parsed.protocol} not allowed: https only`;
    }
    if (parsed.username || parsed.password) return 'credentials in the URL are not allowed';
    const host = bareAddress(parsed.hostname);
    const port = effectivePort(parsed.protocol, parsed.port);
    if (this.allowed.hasName(host, port) || isIP(host) === 0) return null;
    return this.addressRefusal(host, port);
  }

  /**
   * A `dns.lookup`-compatible function for `net.connect`/`tls.connect` to `port` (undefined: not
   * known, so only allowlist entries for every port count): resolves as usual, then fails with
   * EOUTBOUNDREFUSED when any address the name resolves to is refused (the caller would otherwise
   * pick one of them). Allowed names are not checked.
   */
  lookupFor(port: number | undefined): LookupFunction {
    return (hostname, options, callback) => {
      dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
        if (err) return callback(err, []);
        if (!this.allowed.hasName(hostname, port)) {
          for (const { address } of addresses) {
            const refusal = this.addressRefusal(address, port);
            if (refusal) return callback(new OutboundRefusedError(`refused to connect to ${hostname} (resolves to ${address}): ${refusal}`), []);
          }
        }
        if (options.all) return callback(null, addresses);
        const first = addresses[0];
        if (!first) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), []);
        callback(null, first.address, first.family);
      });
    };
  }

  /** lookupFor with the port unknown: only allowlist entries for every port count. */
  readonly lookup: LookupFunction = this.lookupFor(undefined);

  /**
   * An undici connector that refuses a literal IP host (node skips `lookup` for those) and
   * resolves names through the port's `lookupFor`. Use as `new Agent({ connect: policy.connector() })`.
   */
  connector(options: buildConnector.BuildOptions = {}): buildConnector.connector {
    // One inner connector per destination port: its lookup judges the addresses for that port.
    const byPort = new Map<number, buildConnector.connector>();
    const connectorFor = (port: number): buildConnector.connector => {
      let connect = byPort.get(port);
      if (!connect) {
        connect = buildConnector({ ...options, ...(this.ca === undefined ? {} : { ca: [this.ca].flat() }), lookup: this.lookupFor(port) });
        byPort.set(port, connect);
      }
      return connect;
    };
    return (opts, callback) => {
      const host = bareAddress(opts.hostname);
      const port = effectivePort(opts.protocol, opts.port);
      const refusal = isIP(host) !== 0 && !this.allowed.hasName(host, port) ? this.addressRefusal(host, port) : null;
      if (refusal) {
        callback(new OutboundRefusedError(`refused to connect to ${opts.hostname}: ${refusal}`), null);
        return;
      }
      connectorFor(port)(opts, callback);
    };
  }
}

/** The policy of a configuration (`OUTBOUND_ALLOW`, `OUTBOUND_ALLOW_HTTP`). */
export function outboundPolicyOf(config: { OUTBOUND_ALLOW: readonly string[]; OUTBOUND_ALLOW_HTTP: boolean }): OutboundPolicy {
  return new OutboundPolicy({ allow: config.OUTBOUND_ALLOW, allowHttp: config.OUTBOUND_ALLOW_HTTP });
}

/** Nothing private allowed, https only: what code gets when it was given no policy. */
export const strictOutboundPolicy = new OutboundPolicy();
