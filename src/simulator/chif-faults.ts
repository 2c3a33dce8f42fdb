// The CHIF-level fault knobs of the simulator: each one makes the CHIF endpoint answer as a
// failing driver or iLO would, so that a documented client branch can be tested.
import { InvalidInputError } from '../errors.js';

/**
 * CHIF-level faults, each reproducing a documented client branch (docs/reference/chif-abi.md §9.3).
 * Set through `startSimulator({ chifFaults })`, `sim.chif.setFaults()` or `PUT /__sim/chif-faults`.
 * Setting merges: a knob left out stays as it is, a knob set to null is cleared.
 */
export interface ChifFaults {
  /** ChifPing's rc for every PING until cleared: 19 no driver, 13 not root, 8 secure mode, 32 (python-ilorest-library#67). */
  ping?: number | null;
  /** ChifCreate's rc for every CREATE until cleared (any non-zero: "Error N … create a channel"). */
  create?: number | null;
  /** ChifIsSecurityRequired's answer until cleared, instead of the state's (e.g. -1: the query failed; 1: required). */
  securityRequired?: number | null;
  /** ChifVerifyCredentials' rc until cleared, whatever the credentials (e.g. 95: in-band verification unsupported; 13). */
  verify?: number | null;
  /** ChifPacketExchange's rc (e.g. 8 or 5) for the next `times` exchanges (default 1; 0 = every one). A number is `{ rc }`. */
  exchange?: { rc: number; times?: number } | number | null;
  /** Blob status (2 "another user", 12 not found, or any) answered by the next `times` get_info/delete (default 1; 0 = all). A number is `{ status }`. */
  blobStatus?: { status: number; times?: number } | number | null;
  /**
   * One-shot: the next exchange is done but answered with the previous exchange's answer (another
   * packet's sequence number and data; a persistent one loops HPE's client forever, docs/reference/chif-abi.md §3.7).
   */
  sequenceMismatch?: boolean | null;
  /** The next N read_fragment answers report 0 bytes read (the client restarts the read, then gives up). */
  zeroRead?: number | null;
  /** CLOSE answers after this delay (HPE's ChifClose costs about 1 s). */
  closeDelayMs?: number | null;
  /** The get_security_state byte @72 instead of the state's (1 Factory crashes HPE's 6.3 client, docs/reference/chif-abi.md §5.3; 6 SuiteB). */
  securityStateByte?: number | null;
  /** Every get_info announces this blob size until cleared (e.g. 4294967280), and reads past a blob's end get filler: a hostile iLO's endless answer. */
  announceBlobSize?: number | null;
}

/** The knobs in force, as the state view shows them (`times: 0` = every one). */
export interface ChifFaultsView {
  ping?: number;
  create?: number;
  securityRequired?: number;
  verify?: number;
  exchange?: { rc: number; times: number };
  blobStatus?: { status: number; times: number };
  sequenceMismatch?: true;
  zeroRead?: number;
  closeDelayMs?: number;
  securityStateByte?: number;
  announceBlobSize?: number;
}

const U32_MAX = 0xffffffff;
const KNOBS = ['ping', 'create', 'securityRequired', 'verify', 'exchange', 'blobStatus', 'sequenceMismatch', 'zeroRead', 'closeDelayMs', 'securityStateByte', 'announceBlobSize'];

function whole(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidInputError(`CHIF fault ${name} must be a whole number from ${min} to ${max}; got ${JSON.stringify(value)}`);
  }
  return value;
}

function counted(name: string, value: unknown, field: 'rc' | 'status'): { value: number; times: number } {
  if (typeof value === 'number') return { value: whole(name, value, 0, U32_MAX), times: 1 };
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new InvalidInputError(`CHIF fault ${name} must be a number or { ${field}, times }`);
  const unknown = Object.keys(value).filter((k) => k !== field && k !== 'times');
  if (unknown.length > 0) throw new InvalidInputError(`unknown field(s) in CHIF fault ${name}: ${unknown.join(', ')}`);
  const record = value as Record<string, unknown>;
  return { value: whole(`${name}.${field}`, record[field], 0, U32_MAX), times: whole(`${name}.times`, record.times ?? 1, 0, U32_MAX) };
}

export class ChifFaultKnobs {
  #v: ChifFaultsView = {};
  #exchangeLeft = 0; // Infinity for times 0
  #blobLeft = 0;

  /** Validates everything first, then applies: a bad knob changes nothing. */
  set(input: ChifFaults): ChifFaultsView {
    if (!input || typeof input !== 'object' || Array.isArray(input)) throw new InvalidInputError('CHIF faults must be an object');
    const unknown = Object.keys(input).filter((k) => !KNOBS.includes(k));
    if (unknown.length > 0) throw new InvalidInputError(`unknown CHIF fault(s): ${unknown.join(', ')}; known: ${KNOBS.join(', ')}`);
    const next: ChifFaultsView = { ...this.#v };
    let exchangeLeft = this.#exchangeLeft;
    let blobLeft = this.#blobLeft;
    const simple = ['ping', 'create', 'verify'] as const;
    for (const key of simple) {
      const value = input[key];
      if (value === null) delete next[key];
      else if (value !== undefined) next[key] = whole(key, value, 0, U32_MAX);
    }
    if (input.securityRequired === null) delete next.securityRequired;
    else if (input.securityRequired !== undefined) next.securityRequired = whole('securityRequired', input.securityRequired, -0x80000000, 0x7fffffff);
    if (input.securityStateByte === null) delete next.securityStateByte;
    else if (input.securityStateByte !== undefined) next.securityStateByte = whole('securityStateByte', input.securityStateByte, 0, 255);
    if (input.announceBlobSize === null) delete next.announceBlobSize;
    else if (input.announceBlobSize !== undefined) next.announceBlobSize = whole('announceBlobSize', input.announceBlobSize, 0, U32_MAX);
    if (input.closeDelayMs === null) delete next.closeDelayMs;
    else if (input.closeDelayMs !== undefined) next.closeDelayMs = whole('closeDelayMs', input.closeDelayMs, 0, 600_000);
    if (input.zeroRead === null || input.zeroRead === 0) delete next.zeroRead;
    else if (input.zeroRead !== undefined) next.zeroRead = whole('zeroRead', input.zeroRead, 0, U32_MAX);
    if (input.sequenceMismatch === null || input.sequenceMismatch === false) delete next.sequenceMismatch;
    else if (input.sequenceMismatch === true) next.sequenceMismatch = true;
    else if (input.sequenceMismatch !== undefined) throw new InvalidInputError('CHIF fault sequenceMismatch must be true, false or null');
    if (input.exchange === null) {
      delete next.exchange;
    } else if (input.exchange !== undefined) {
      const { value, times } = counted('exchange', input.exchange, 'rc');
      next.exchange = { rc: value, times };
      exchangeLeft = times === 0 ? Infinity : times;
    }
    if (input.blobStatus === null) {
      delete next.blobStatus;
    } else if (input.blobStatus !== undefined) {
      const { value, times } = counted('blobStatus', input.blobStatus, 'status');
      next.blobStatus = { status: value, times };
      blobLeft = times === 0 ? Infinity : times;
    }
    this.#v = next;
    this.#exchangeLeft = exchangeLeft;
    this.#blobLeft = blobLeft;
    return this.view();
  }

  clear(): void {
    this.#v = {};
    this.#exchangeLeft = 0;
    this.#blobLeft = 0;
  }

  view(): ChifFaultsView {
    const view: ChifFaultsView = { ...this.#v };
    if (view.exchange) view.exchange = { rc: view.exchange.rc, times: this.#exchangeLeft === Infinity ? 0 : this.#exchangeLeft };
    if (view.blobStatus) view.blobStatus = { status: view.blobStatus.status, times: this.#blobLeft === Infinity ? 0 : this.#blobLeft };
    return view;
  }

  get ping(): number | undefined {
    return this.#v.ping;
  }
  get create(): number | undefined {
    return this.#v.create;
  }
  get securityRequired(): number | undefined {
    return this.#v.securityRequired;
  }
  get verify(): number | undefined {
    return this.#v.verify;
  }
  get closeDelayMs(): number {
    return this.#v.closeDelayMs ?? 0;
  }
  get securityStateByte(): number | undefined {
    return this.#v.securityStateByte;
  }
  get announceBlobSize(): number | undefined {
    return this.#v.announceBlobSize;
  }

  takeExchange(): number | undefined {
    const armed = this.#v.exchange;
    if (!armed) return undefined;
    if (--this.#exchangeLeft <= 0) delete this.#v.exchange;
    return armed.rc;
  }

  takeBlobStatus(): number | undefined {
    const armed = this.#v.blobStatus;
    if (!armed) return undefined;
    if (--this.#blobLeft <= 0) delete this.#v.blobStatus;
    return armed.status;
  }

  takeZeroRead(): boolean {
    if (!this.#v.zeroRead) return false;
    if (--this.#v.zeroRead <= 0) delete this.#v.zeroRead;
    return true;
  }

  takeSequenceMismatch(): boolean {
    if (!this.#v.sequenceMismatch) return false;
    delete this.#v.sequenceMismatch;
    return true;
  }
}
