// Settings objects (DMTF DSP0266 "Settings resource"; HPE: BIOS and the other resources with
// `@Redfish.Settings`): the resource shows what is in effect and is read-only; its settings object
// takes PATCH/PUT, and what it staged takes effect at the next boot of the system. After that the
// settings object mirrors the resource again, and `@Redfish.Settings` says when and how it went:
// `Time` (the mockups' form, `+00:00`), `Messages` (the mockups all show `Base.1.0.Success`; BIOS
// attributes the registry refuses are named there instead, and not applied),
// `ETag` (8 hex digits in the iLO 5/6 mockups, what of is not public: here the settings object's
// tag as it was applied), `Oem.Hpe.SettingsObject.UnmodifiedETag` (the mockups: the settings
// object's own ETag while it mirrors the resource). All of this after-apply detail is unverified.
import { etagDigest, etagOf, type EtagStyle } from './etag.js';
import { isObject } from './patch.js';
import { keyOf } from './paths.js';
import type { JsonObject, ResourceStore, StoredResource } from './resource-store.js';

/** Properties that name a resource rather than configure it: never copied between the two. */
const IDENTITY = new Set(['@odata.context', '@odata.etag', '@odata.id', '@odata.type', 'Id', 'Name', 'Description', 'Actions', 'Links', '@Redfish.Settings']);

export class SettingsObjects {
  /** Settings object key → the changes staged there since the last apply (merged in order). */
  readonly #staged = new Map<string, JsonObject>();

  constructor(
    readonly store: ResourceStore,
    readonly etagStyle: EtagStyle,
    readonly clock: () => number,
  ) {}

  /**
   * The resource whose `@Redfish.Settings.SettingsObject` is `key`, if any. iLO puts a settings
   * object right under the resource it configures (`…/bios/settings`, `…/Ports/1/Settings`).
   */
  owner(key: string): StoredResource | undefined {
    const cut = key.lastIndexOf('/');
    if (cut <= 0) return undefined;
    const owner = this.store.get(key.slice(0, cut));
    const settings = owner?.json['@Redfish.Settings'];
    const link = isObject(settings) && isObject(settings.SettingsObject) ? settings.SettingsObject['@odata.id'] : undefined;
    return typeof link === 'string' && keyOf(link) === key ? owner : undefined;
  }

  /** A PATCH/PUT the settings object `key` took: kept until the next boot applies it. */
  stage(key: string, changes: JsonObject): void {
    this.#staged.set(key, deepMerge(this.#staged.get(key) ?? {}, changes));
  }

  /** Settings objects with changes waiting for a boot. */
  get pending(): string[] {
    return [...this.#staged.keys()];
  }

  /** A boot: every staged change takes effect; answers the resources that changed. */
  applyAll(): string[] {
    const applied: string[] = [];
    for (const [key, changes] of this.#staged) {
      const settings = this.store.get(key);
      const owner = this.owner(key);
      if (!settings || !owner) continue;
      const current = { ...owner.json };
      const messages = this.#judgeAttributes(owner.json, changes);
      for (const [name, value] of Object.entries(changes)) {
        if (!IDENTITY.has(name) && name in current) current[name] = isObject(value) && isObject(current[name]) ? deepMerge(current[name] as JsonObject, value) : value;
      }
      const appliedTag = etagDigest(settings.json, this.etagStyle);
      // The settings object mirrors what is now in effect.
      const mirror = { ...settings.json };
      for (const name of Object.keys(mirror)) if (!IDENTITY.has(name) && name in current) mirror[name] = structuredClone(current[name]);
      this.store.replace(settings, mirror);
      this.store.replace(owner, this.#record(current, appliedTag, etagOf(mirror, this.etagStyle), messages));
      applied.push(owner.uri);
    }
    this.#staged.clear();
    return applied;
  }

  /** `@Redfish.Settings` after an apply (and the HPE extension's UnmodifiedETag where present). */
  #record(current: JsonObject, appliedTag: string, settingsTag: string, messages: JsonObject[]): JsonObject {
    const before = current['@Redfish.Settings'] as JsonObject;
    const time = new Date(this.clock()).toISOString().replace(/\.\d{3}Z$/, '+00:00');
    const out: JsonObject = {
      ...current,
      '@Redfish.Settings': { ...before, ETag: appliedTag, Messages: messages.length > 0 ? messages : [{ MessageId: 'Base.1.0.Success' }], Time: time },
    };
    const hpe = isObject(current.Oem) && isObject(current.Oem.Hpe) ? current.Oem.Hpe : undefined;
    if (hpe && isObject(hpe.SettingsObject) && 'UnmodifiedETag' in hpe.SettingsObject) {
      out.Oem = { ...(current.Oem as JsonObject), Hpe: { ...hpe, SettingsObject: { ...hpe.SettingsObject, UnmodifiedETag: settingsTag } } };
    }
    return out;
  }

  /**
   * BIOS attributes as the firmware judges them at POST, against the attribute registry the
   * resource names (`AttributeRegistry`, when the tree has it): an unknown or read-only
   * attribute, or a value its entry does not allow, is dropped from `changes` (not applied) and
   * answered by a message. iLO takes such a PATCH; HPE's BIOS message registry speaks of the
   * messages "the last configuration change resulted in". Message ids and arguments: unverified.
   */
  #judgeAttributes(owner: JsonObject, changes: JsonObject): JsonObject[] {
    const attributes = changes.Attributes;
    const entries = typeof owner.AttributeRegistry === 'string' && isObject(attributes) ? this.#registryEntries(owner.AttributeRegistry) : undefined;
    if (!entries || !isObject(attributes)) return [];
    const messages: JsonObject[] = [];
    const refuse = (name: string, key: string, args: string[]) => {
      delete attributes[name];
      messages.push({ MessageId: `Base.1.0.${key}`, MessageArgs: args, RelatedProperties: [`#/Attributes/${name}`] });
    };
    for (const [name, value] of Object.entries(attributes)) {
      const entry = entries.get(name);
      const allowed = Array.isArray(entry?.Value) ? entry.Value.map((v) => (isObject(v) ? v.ValueName : undefined)) : undefined;
      if (!entry) refuse(name, 'PropertyUnknown', [name]);
      else if (entry.ReadOnly === true) refuse(name, 'PropertyNotWritable', [name]);
      else if (entry.Type === 'Enumeration' && allowed && !allowed.includes(value)) refuse(name, 'PropertyValueNotInList', [String(value), name]);
      else if (entry.Type === 'Integer' && typeof value !== 'number') refuse(name, 'PropertyValueTypeError', [JSON.stringify(value), name]);
      else if (entry.Type === 'String' && typeof value !== 'string') refuse(name, 'PropertyValueTypeError', [JSON.stringify(value), name]);
    }
    return messages;
  }

  /** The entries of an attribute registry, by name, from the tree's Registries (English copy). */
  #registryEntries(id: string): Map<string, JsonObject> | undefined {
    const file = this.store.get(keyOf(`/redfish/v1/Registries/${id}`))?.json;
    const locations = Array.isArray(file?.Location) ? file.Location.filter(isObject) : [];
    const location = locations.find((l) => l.Language === 'en') ?? locations[0];
    const registry = typeof location?.Uri === 'string' ? this.store.get(keyOf(location.Uri))?.json : undefined;
    const list = isObject(registry?.RegistryEntries) ? registry.RegistryEntries.Attributes : undefined;
    if (!Array.isArray(list)) return undefined;
    const entries = new Map<string, JsonObject>();
    for (const entry of list) if (isObject(entry) && typeof entry.AttributeName === 'string') entries.set(entry.AttributeName, entry);
    return entries;
  }
}

/** Objects merge, anything else is replaced (a JSON merge patch without deletions). */
function deepMerge(base: JsonObject, changes: JsonObject): JsonObject {
  const out: JsonObject = { ...base };
  for (const [name, value] of Object.entries(changes)) {
    const existing = out[name];
    out[name] = isObject(existing) && isObject(value) ? deepMerge(existing, value) : structuredClone(value);
  }
  return out;
}
