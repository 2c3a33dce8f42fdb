// Event subscriptions (`EventService/Subscriptions`, DMTF EventDestination), as HPE's "iLO Event
// services" page shows iLO taking them: POST to the collection answers 201 with iLO's
// `Base.x.Created` envelope and the member in `Location`; the member reads back with
// `Description` "iLO Event Subscription", `Name` "Event Subscription", `HttpHeaders` always
// empty (DMTF: write-only) and `MetricReportDefinitions` empty; DELETE ends it. Nothing is ever
// sent to a destination. The collection is live; its other properties come from the tree.
import { isObject } from './patch.js';
import type { JsonObject } from './resource-store.js';

export const SUBSCRIPTIONS = '/redfish/v1/EventService/Subscriptions';

/** What a POST may carry (DMTF EventDestination's writable-on-create properties iLO documents). */
const ACCEPTED = new Set([
  'Context',
  'DeliveryRetryPolicy',
  'Destination',
  'EventFormatType',
  'EventTypes',
  'HttpHeaders',
  'MessageIds',
  'Oem',
  'OriginResources',
  'Protocol',
  'RegistryPrefixes',
  'ResourceTypes',
  'SubscriptionType',
]);

export type Refusal = { registry: 'Base' | 'iLO'; key: string; args: string[] };

export class EventSubscriptions {
  readonly #members = new Map<string, JsonObject>();
  #next = 1;

  constructor(
    /** `uri` as the profile writes it (iLO 5 before 1.40: with a trailing slash). */
    readonly slash: (uri: string) => string,
  ) {}

  /** The live Members of the collection. */
  members(): JsonObject[] {
    return [...this.#members.values()].map((m) => ({ '@odata.id': m['@odata.id'] }));
  }

  get(id: string): JsonObject | undefined {
    return this.#members.get(id);
  }

  delete(id: string): boolean {
    return this.#members.delete(id);
  }

  clear(): void {
    this.#members.clear();
  }

  /** A POST body: the new member, or what is wrong with it (nothing is created then). */
  create(body: JsonObject): JsonObject | Refusal[] {
    const refusals: Refusal[] = [];
    for (const name of Object.keys(body)) if (!ACCEPTED.has(name)) refusals.push({ registry: 'iLO', key: 'PropertyNotWritableOrUnknown', args: [name] });
    const destination = body.Destination;
    if (destination === undefined) refusals.push({ registry: 'Base', key: 'PropertyMissing', args: ['Destination'] });
    else if (typeof destination !== 'string' || !/^https?:\/\/[^/\s]+/i.test(destination)) {
      refusals.push({ registry: 'Base', key: 'PropertyValueFormatError', args: [JSON.stringify(destination), 'Destination'] });
    }
    for (const name of ['Context', 'Protocol', 'SubscriptionType', 'EventFormatType', 'DeliveryRetryPolicy']) {
      if (name in body && typeof body[name] !== 'string') refusals.push({ registry: 'Base', key: 'PropertyValueTypeError', args: [JSON.stringify(body[name]), name] });
    }
    for (const name of ['EventTypes', 'MessageIds', 'OriginResources', 'RegistryPrefixes', 'ResourceTypes', 'HttpHeaders']) {
      if (name in body && !Array.isArray(body[name])) refusals.push({ registry: 'Base', key: 'PropertyValueTypeError', args: [JSON.stringify(body[name]), name] });
    }
    if ('Oem' in body && !isObject(body.Oem)) refusals.push({ registry: 'Base', key: 'PropertyValueTypeError', args: [JSON.stringify(body.Oem), 'Oem'] });
    if (refusals.length > 0) return refusals;

    const id = String(this.#next++);
    const member: JsonObject = {
      '@odata.context': '/redfish/v1/$metadata#EventDestination.EventDestination',
      '@odata.id': this.slash(`${SUBSCRIPTIONS}/${id}`),
      '@odata.type': '#EventDestination.v1_13_0.EventDestination',
      Id: id,
      Context: body.Context ?? '',
      Description: 'iLO Event Subscription',
      Destination: destination,
      ...(body.EventTypes ? { EventTypes: body.EventTypes } : {}),
      HttpHeaders: [],
      ...pick(body, ['MessageIds', 'OriginResources', 'RegistryPrefixes', 'ResourceTypes', 'SubscriptionType', 'EventFormatType', 'DeliveryRetryPolicy']),
      MetricReportDefinitions: [],
      Name: 'Event Subscription',
      Protocol: body.Protocol ?? 'Redfish',
    };
    this.#members.set(id, member);
    return member;
  }
}

function pick(body: JsonObject, names: string[]): JsonObject {
  const out: JsonObject = {};
  for (const name of names) if (name in body) out[name] = structuredClone(body[name]);
  return out;
}
