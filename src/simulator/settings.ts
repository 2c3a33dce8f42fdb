// Settings objects (DMTF DSP0266 "Settings resource"; HPE: BIOS and the other resources with
// `@Redfish.Settings`): the resource shows what is in effect and is read-only; its settings object
// takes PATCH/PUT, and what it staged takes effect at the next boot of the system. After that the
// settings object mirrors the resource again, and `@Redfish.Settings` says when and how it went:
// `Time` (the mockups' form, `+00:00`), `Messages` (the mockups all show `Base.1.0.Success`),
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
      for (const [name, value] of Object.entries(changes)) {
        if (!IDENTITY.has(name) && name in current) current[name] = isObject(value) && isObject(current[name]) ? deepMerge(current[name] as JsonObject, value) : value;
      }
      const appliedTag = etagDigest(settings.json, this.etagStyle);
      // The settings object mirrors what is now in effect.
      const mirror = { ...settings.json };
      for (const name of Object.keys(mirror)) if (!IDENTITY.has(name) && name in current) mirror[name] = structuredClone(current[name]);
      this.store.replace(settings, mirror);
      this.store.replace(owner, this.#record(current, appliedTag, etagOf(mirror, this.etagStyle)));
      applied.push(owner.uri);
    }
    this.#staged.clear();
    return applied;
  }

  /** `@Redfish.Settings` after an apply (and the HPE extension's UnmodifiedETag where present). */
  #record(current: JsonObject, appliedTag: string, settingsTag: string): JsonObject {
    const before = current['@Redfish.Settings'] as JsonObject;
    const time = new Date(this.clock()).toISOString().replace(/\.\d{3}Z$/, '+00:00');
    const out: JsonObject = { ...current, '@Redfish.Settings': { ...before, ETag: appliedTag, Messages: [{ MessageId: 'Base.1.0.Success' }], Time: time } };
    const hpe = isObject(current.Oem) && isObject(current.Oem.Hpe) ? current.Oem.Hpe : undefined;
    if (hpe && isObject(hpe.SettingsObject) && 'UnmodifiedETag' in hpe.SettingsObject) {
      out.Oem = { ...(current.Oem as JsonObject), Hpe: { ...hpe, SettingsObject: { ...hpe.SettingsObject, UnmodifiedETag: settingsTag } } };
    }
    return out;
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
