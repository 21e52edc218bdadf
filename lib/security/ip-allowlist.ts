/**
 * Inbound address allowlists (a webhook source's `allowIps`): CIDRs or single addresses, IPv4 and
 * IPv6, matched with node's own `net.BlockList`, which also matches an IPv4-mapped IPv6 address
 * (`::ffff:203.0.113.5`, what a dual-stack socket reports) against IPv4 ranges.
 */
import { BlockList, isIP } from 'node:net';

/** Why `entry` is no CIDR or address, or null when it is one. */
export function cidrProblem(entry: string): string | null {
  const [address, bits, extra] = entry.split('/');
  const version = isIP(address ?? '');
  if (extra !== undefined || version === 0) return `"${entry}" is not an IPv4 or IPv6 address or CIDR (e.g. 203.0.113.0/24, 2001:db8::/32)`;
  const max = version === 6 ? 128 : 32;
  if (bits !== undefined && !(/^\d{1,3}$/.test(bits) && Number(bits) <= max)) return `"${entry}": the prefix length must be 0 to ${max}`;
  return null;
}

export interface IpAllowlist {
  /** The entries as configured (for messages). */
  readonly entries: readonly string[];
  /** True when `address` (as Express's req.ip gives it) is in one of the ranges. */
  allows(address: string | undefined): boolean;
}

/** An allowlist of already validated entries (cidrProblem). */
export function ipAllowlist(entries: readonly string[]): IpAllowlist {
  const list = new BlockList();
  for (const entry of entries) {
    const [address, bits] = entry.split('/') as [string, string | undefined];
    const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    list.addSubnet(address, bits === undefined ? (family === 'ipv6' ? 128 : 32) : Number(bits), family);
  }
  return {
    entries,
    allows(address) {
      if (address === undefined) return false;
      const bare = address.replace(/%.*$/, '');
      const version = isIP(bare);
      if (version === 0) return false;
      return list.check(bare, version === 6 ? 'ipv6' : 'ipv4');
    },
  };
}
