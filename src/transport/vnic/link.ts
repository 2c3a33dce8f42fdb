// Link-bound TLS on the vNIC: the host's own address on the vNIC's point-to-point link. iLO's
// certificate does not name 16.1.15.1, and 16.0.0.0/8 is a public range: a host whose vNIC is
// down may route 16.1.15.1 to the internet. Bound to the host's address on that link, a
// connection can only leave through it (its connected route), so only the iLO (or root on this
// host) can answer.
import { isIPv4 } from 'node:net';

/** What os.networkInterfaces() gives per address (only what is read here). */
export interface InterfaceAddress {
  address: string;
  netmask: string;
  family: string | number;
}

export interface VnicLink {
  /** The host's address on the link (to bind as the socket's local address). */
  address: string;
  /** The interface that holds it. */
  name: string;
  /** Its prefix length. */
  prefix: number;
}

/** The vNIC link is a /30 (iLO 16.1.15.1, host 16.1.15.2); anything wider is a routed network. */
const MIN_PREFIX = 30;

function toNumber(ip: string): number {
  return ip.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

function prefixOf(netmask: string): number | undefined {
  if (!isIPv4(netmask)) return undefined;
  const mask = toNumber(netmask);
  const bits = mask.toString(2).padStart(32, '0');
  return /^1*0*$/.test(bits) ? bits.indexOf('0') === -1 ? 32 : bits.indexOf('0') : undefined;
}

/**
 * The host's IPv4 address whose subnet (per its interface's netmask, /30 or narrower) holds the
 * vNIC address, or null. The vNIC's own address on this host does not count.
 */
export function findVnicLink(vnicAddress: string, interfaces: NodeJS.Dict<InterfaceAddress[]>): VnicLink | null {
  if (!isIPv4(vnicAddress)) return null;
  const target = toNumber(vnicAddress);
  for (const [name, addresses] of Object.entries(interfaces)) {
    for (const entry of addresses ?? []) {
      if (!(entry.family === 'IPv4' || entry.family === 4) || !isIPv4(entry.address) || entry.address === vnicAddress) continue;
      const prefix = prefixOf(entry.netmask);
      if (prefix === undefined || prefix < MIN_PREFIX) continue;
      const shift = 32 - prefix;
      // Unsigned arithmetic on 32-bit numbers: compare the network parts.
      if (Math.floor(toNumber(entry.address) / 2 ** shift) === Math.floor(target / 2 ** shift)) return { address: entry.address, name, prefix };
    }
  }
  return null;
}
