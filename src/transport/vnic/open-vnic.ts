// The vNIC transport: the ordinary HTTPS transport pointed at the iLO's vNIC address, with the
// TLS trust the vNIC allows (see link.ts and README "TLS on the vNIC").
import { networkInterfaces } from 'node:os';
import { UsageError, VnicError } from '../../errors.js';
import { openHttpsTransport, parseIloUrl, parsePin, type HttpsTransportOptions } from '../https/https-transport.js';
import type { Transport } from '../transport.js';
import { findVnicLink, type InterfaceAddress } from './link.js';
import { vnicHandshakeHint } from './tls-hint.js';

/** iLO's address on the vNIC (HPE: "iLO 16.1.15.1/30, OS 16.1.15.2/30"). */
export const DEFAULT_VNIC_URL = 'https://16.1.15.1';

export interface VnicTrust {
  /** `sha256:<hex>`: the leaf certificate to accept. */
  pin?: string;
  /** PEM of the CA that signed iLO's certificate. */
  ca?: string;
  /** The name iLO's certificate carries (its own name, not 16.1.15.1). */
  servername?: string;
  insecure?: boolean;
}

export type TlsMode = 'link-bound' | 'pin' | 'ca' | 'insecure';

export interface VnicPlan {
  /** What the HTTPS transport gets. */
  https: HttpsTransportOptions;
  tlsMode: TlsMode;
  /** For `info` and the debug log: the mode in words. */
  tls: string;
}

/**
 * How to reach the vNIC. Stricter opt-ins first: --insecure, --pin, --ca-cert (with
 * --tls-servername); else link-bound: the host's own address on the vNIC's /30 is bound as the
 * local address and iLO's certificate is accepted on that link; none → nothing is sent.
 */
export function planVnic(
  url: string,
  trust: VnicTrust,
  base: Omit<HttpsTransportOptions, 'url'> = {},
  interfaces: () => NodeJS.Dict<InterfaceAddress[]> = networkInterfaces,
): VnicPlan {
  const parsed = parseIloUrl(url);
  const https: HttpsTransportOptions = { ...base, url: parsed.origin, handshakeHint: vnicHandshakeHint };
  if (trust.servername && !trust.ca) throw new UsageError('--tls-servername goes with --ca-cert (the name is checked against a chain that CA verifies)');
  if (trust.pin !== undefined && (trust.ca || trust.insecure)) throw new UsageError('--pin replaces --ca-cert and --insecure: give one of them');
  if (trust.insecure) return { https: { ...https, insecure: true }, tlsMode: 'insecure', tls: 'insecure: any certificate is accepted (--insecure)' };
  if (trust.pin !== undefined) {
    const pin = parsePin(trust.pin);
    if (!pin) throw new UsageError(`--pin takes sha256:<64 hex digits> (the SHA-256 fingerprint of iLO's certificate), got ${JSON.stringify(trust.pin.slice(0, 80))}`);
    return { https: { ...https, pin }, tlsMode: 'pin', tls: `pinned: the leaf certificate sha256:${pin}` };
  }
  if (trust.ca) {
    return {
      https: { ...https, ca: trust.ca, servername: trust.servername },
      tlsMode: 'ca',
      tls: `verified with --ca-cert against the name ${trust.servername ?? parsed.hostname}`,
    };
  }
  const host = parsed.hostname;
  const link = findVnicLink(host, interfaces());
  if (!link) {
    throw new VnicError(
      `the host side of the vNIC is not configured: no address of this host shares a /30 with ${host} (the iLO 7 vNIC is a USB NIC that gets 16.1.15.2/30 from the iLO by DHCP: configure it as a DHCP client); nothing was sent. ` +
        'Or trust the iLO another way: --pin sha256:<hex>, --ca-cert FILE with --tls-servername NAME, or --insecure',
    );
  }
  return {
    https: { ...https, insecure: true, localAddress: link.address },
    tlsMode: 'link-bound',
    tls: `link-bound: connections leave from ${link.address} on ${link.name} (/${link.prefix}) and iLO's certificate is accepted on that link`,
  };
}

export function openVnicTransport(plan: VnicPlan): Transport {
  return openHttpsTransport(plan.https);
}
