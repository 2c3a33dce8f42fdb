// What to say when the TLS handshake with the vNIC fails. HPE's iLOrest 7 names such failures
// apart (VnicTlsHandshakeError) and offers post-quantum hybrid groups (X25519MLKEM768,
// SecP256r1MLKEM768) besides classical ones; a strict CNSA 2.0 state needs ML-KEM-1024
// (python-ilorest-library src/redfish/rest/pqc.py). OpenSSL has ML-KEM from 3.5 on: Node 24's.
import { createSecureContext } from 'node:tls';

/** Whether this process's OpenSSL knows the ML-KEM hybrid groups. */
export function hasMlKem(): boolean {
  try {
    createSecureContext({ ecdhCurve: 'X25519MLKEM768' });
    return true;
  } catch {
    return false;
  }
}

export function vnicHandshakeHint(mlKem: () => boolean = hasMlKem): string {
  const state =
    "an iLO 7 in a higher security state (CNSA) may accept only stronger ciphers and key-exchange groups, post-quantum ML-KEM ones included (see the iLO's SecurityService.SecurityState, out-of-band)";
  if (mlKem()) return `${state}; this client offers ML-KEM already`;
  return (
    `${state}, which OpenSSL ${process.versions.openssl} lacks (ML-KEM needs OpenSSL 3.5 or later): ` +
    "run ilo-agent's single executable (built on Node 24, with OpenSSL 3.5) or ilo-agent on a Node 22/24 whose OpenSSL is 3.5 or later (node -p process.versions.openssl)"
  );
}
