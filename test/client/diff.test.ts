// The pure desired-state module behind `ilo-agent set`: parsing key=value, building the desired
// object, comparing it with a resource, and what a PATCH would leave.
import { describe, expect, it } from 'vitest';
import { applyPatch, buildDesired, deepEqual, diffResource, isWriteOnly, masked, missingProperties, parseAssignment, project, writeOnlyPaths, type JsonObject } from '../../src/client/index.js';
import { inexactNumber } from '../../src/client/exact-numbers.js';
import { InvalidInputError } from '../../src/errors.js';
import { seededRandom } from '../helpers/random.js';

const SYSTEM: JsonObject = {
  '@odata.id': '/redfish/v1/Systems/1',
  Id: '1',
  AssetTag: '',
  IndicatorLED: 'Off',
  Boot: { BootSourceOverrideEnabled: 'Disabled', BootSourceOverrideTarget: 'None', 'BootSourceOverrideTarget@Redfish.AllowableValues': ['None', 'Pxe'] },
  MemorySummary: { TotalSystemMemoryGiB: 256, Status: { HealthRollup: 'OK' } },
  TrustedModules: [{ Status: { State: 'Enabled' }, InterfaceType: 'TPM2_0' }],
  Nothing: null,
};

describe('deepEqual', () => {
  it.each([
    [1, 1.0],
    [0, -0],
    ['a', 'a'],
    [null, null],
    [true, true],
    [[1, [2, { a: 3 }]], [1, [2, { a: 3 }]]],
    [{ a: 1, b: { c: [1] } }, { b: { c: [1] }, a: 1 }],
    [[], []],
    [{}, {}],
  ])('%j equals %j', (a, b) => expect(deepEqual(a, b)).toBe(true));

  it.each([
    [1, '1'],
    [0, false],
    [null, 0],
    [null, {}],
    [[], {}],
    [[1, 2], [2, 1]],
    [[1], [1, 1]],
    [{ a: 1 }, { a: 1, b: 2 }],
    [{ a: 1, b: undefined }, { a: 1, c: undefined }],
    [{ a: { b: 1 } }, { a: { b: 2 } }],
  ])('%j differs from %j', (a, b) => expect(deepEqual(a, b)).toBe(false));
});

describe('diffResource', () => {
  it('a match: nothing to patch, before holds only what was asked', () => {
    const d = diffResource(SYSTEM, { AssetTag: '', Boot: { BootSourceOverrideTarget: 'None' } });
    expect(d).toEqual({ matches: true, patch: {}, before: { AssetTag: '', Boot: { BootSourceOverrideTarget: 'None' } }, differing: [] });
  });

  it('patches only the properties that differ, nested ones as nested objects', () => {
    const d = diffResource(SYSTEM, { AssetTag: 'rack-42', IndicatorLED: 'Off', Boot: { BootSourceOverrideEnabled: 'Disabled', BootSourceOverrideTarget: 'Pxe' } });
    expect(d.matches).toBe(false);
    expect(d.patch).toEqual({ AssetTag: 'rack-42', Boot: { BootSourceOverrideTarget: 'Pxe' } });
    expect(d.differing).toEqual(['AssetTag', 'Boot.BootSourceOverrideTarget']);
    expect(d.before).toEqual({ AssetTag: '', IndicatorLED: 'Off', Boot: { BootSourceOverrideEnabled: 'Disabled', BootSourceOverrideTarget: 'None' } });
  });

  it('ignores properties of the resource that were not asked for, at every depth', () => {
    expect(diffResource(SYSTEM, { MemorySummary: { Status: { HealthRollup: 'OK' } } }).matches).toBe(true);
    expect(diffResource(SYSTEM, { MemorySummary: {} }).matches).toBe(true);
  });

  it('compares numbers by value', () => {
    expect(diffResource(SYSTEM, { MemorySummary: { TotalSystemMemoryGiB: 256.0 } }).matches).toBe(true);
    expect(diffResource(SYSTEM, { MemorySummary: { TotalSystemMemoryGiB: '256' } }).matches).toBe(false);
  });

  it('compares arrays whole, objects inside them included', () => {
    expect(diffResource(SYSTEM, { TrustedModules: [{ InterfaceType: 'TPM2_0', Status: { State: 'Enabled' } }] }).matches).toBe(true);
    const partial = diffResource(SYSTEM, { TrustedModules: [{ InterfaceType: 'TPM2_0' }] });
    expect(partial.matches).toBe(false); // an element with fewer keys is another array
    expect(partial.patch).toEqual({ TrustedModules: [{ InterfaceType: 'TPM2_0' }] });
    expect(diffResource({ L: [1, 2] }, { L: [2, 1] }).matches).toBe(false);
  });

  it('null is a value: it matches null only, and differs from a missing property', () => {
    expect(diffResource(SYSTEM, { Nothing: null }).matches).toBe(true);
    const missing = diffResource(SYSTEM, { Absent: null });
    expect(missing.matches).toBe(false);
    expect(missing.patch).toEqual({ Absent: null });
    expect(missing.before).toEqual({}); // absent stays absent: not shown as null
  });

  it('a property the resource lacks differs, and is left out of before', () => {
    const d = diffResource(SYSTEM, { Boot: { NewThing: 1 }, Frob: 'x' });
    expect(d.patch).toEqual({ Boot: { NewThing: 1 }, Frob: 'x' });
    expect(d.before).toEqual({ Boot: {} });
    expect(d.differing).toEqual(['Boot.NewThing', 'Frob']);
  });

  it('an object asked for where the resource holds something else: the whole object is patched, before shows what is there', () => {
    const d = diffResource({ A: 'text', B: null, C: [1] }, { A: { x: 1 }, B: { y: 2 }, C: {} });
    expect(d.patch).toEqual({ A: { x: 1 }, B: { y: 2 }, C: {} });
    expect(d.before).toEqual({ A: 'text', B: null, C: [1] });
  });

  it('before is a copy: changing it does not change the resource', () => {
    const resource = { L: [1, 2], O: { a: 1 } };
    const d = diffResource(resource, { L: [1], O: { a: 2 } });
    (d.before.L as number[]).push(3);
    expect(resource.L).toEqual([1, 2]);
  });
});

describe('project and applyPatch', () => {
  it('project keeps the requested shape', () => {
    expect(project(SYSTEM, { Boot: { BootSourceOverrideTarget: 'x' }, Id: 'x', Missing: 1 })).toEqual({ Boot: { BootSourceOverrideTarget: 'None' }, Id: '1' });
    expect(project('not an object', { A: 1 })).toEqual({});
  });

  it('applyPatch merges objects and replaces everything else, without touching its input', () => {
    const before = structuredClone(SYSTEM);
    const after = applyPatch(SYSTEM, { Boot: { BootSourceOverrideTarget: 'Pxe' }, TrustedModules: [], AssetTag: 'x' });
    expect(after.Boot).toEqual({ ...(SYSTEM.Boot as JsonObject), BootSourceOverrideTarget: 'Pxe' });
    expect(after.TrustedModules).toEqual([]);
    expect(after.AssetTag).toBe('x');
    expect(after.IndicatorLED).toBe('Off');
    expect(SYSTEM).toEqual(before);
  });

  it('the would-be state after the patch matches what was asked', () => {
    const desired = { AssetTag: 'rack-42', Boot: { BootSourceOverrideTarget: 'Pxe' }, NewList: [1] };
    const d = diffResource(SYSTEM, desired);
    expect(diffResource(applyPatch(SYSTEM, d.patch), desired).matches).toBe(true);
    expect(project(applyPatch(SYSTEM, d.patch), desired)).toEqual(desired);
  });
});

describe('parseAssignment', () => {
  it.each([
    ['AssetTag=rack-42', ['AssetTag'], 'rack-42'],
    ['Boot.BootSourceOverrideTarget=Pxe', ['Boot', 'BootSourceOverrideTarget'], 'Pxe'],
    ['A=1', ['A'], 1],
    ['A=-2.5e1', ['A'], -25],
    ['A=true', ['A'], true],
    ['A=false', ['A'], false],
    ['A=null', ['A'], null],
    ['A="1"', ['A'], '1'],
    ['A="null"', ['A'], 'null'],
    ['A=01', ['A'], '01'], // not JSON: a string, as written
    ['A=', ['A'], ''],
    ['A=a=b', ['A'], 'a=b'], // split at the first "="
    ['A={"x":[1,2]}', ['A'], { x: [1, 2] }],
    ['A=[1,"b"]', ['A'], [1, 'b']],
    ['A={not json', ['A'], '{not json'],
    ['A= spaced ', ['A'], ' spaced '],
  ])('%s', (text, path, value) => expect(parseAssignment(text)).toEqual({ path, value }));

  it.each([
    ['no =', 'AssetTag', /expected key=value/],
    ['an empty key', '=x', /property name is missing/],
    ['an empty part', 'Boot..Target=x', /not a property path/],
    ['a leading dot', '.A=x', /not a property path/],
    ['a trailing dot', 'A.=x', /not a property path/],
  ])('refuses %s', (_name, text, message) => {
    expect(() => parseAssignment(text)).toThrow(InvalidInputError);
    expect(() => parseAssignment(text)).toThrow(message);
  });
});

describe('buildDesired', () => {
  const a = (text: string) => parseAssignment(text);

  it('nests dotted keys and merges siblings', () => {
    expect(buildDesired(undefined, [a('Boot.A=1'), a('Boot.B=x'), a('C=true')])).toEqual({ Boot: { A: 1, B: 'x' }, C: true });
  });

  it('applies key=value on top of --data, merging into its objects and overriding its values', () => {
    const data = { Boot: { A: 1, B: 2 }, C: 'data', D: 'scalar' };
    expect(buildDesired(data, [a('Boot.B=3'), a('C=cli'), a('D.E=1')])).toEqual({ Boot: { A: 1, B: 3 }, C: 'cli', D: { E: 1 } });
    expect(data).toEqual({ Boot: { A: 1, B: 2 }, C: 'data', D: 'scalar' }); // not modified
  });

  it('the same key twice with the same value is fine; with different values it is refused', () => {
    expect(buildDesired(undefined, [a('A=1'), a('A=1.0')])).toEqual({ A: 1 });
    expect(buildDesired(undefined, [a('A={"x":1}'), a('A={"x":1}')])).toEqual({ A: { x: 1 } });
    expect(() => buildDesired(undefined, [a('A=1'), a('A=2')])).toThrow(/A is given twice with different values \(1 and 2\)/);
    expect(() => buildDesired(undefined, [a('A=1'), a('A="1"')])).toThrow(InvalidInputError);
  });

  it('a property given both whole and in part is refused, in either order', () => {
    expect(() => buildDesired(undefined, [a('Boot={"A":1}'), a('Boot.A=2')])).toThrow(/Boot\.A is given both on its own and inside Boot/);
    expect(() => buildDesired(undefined, [a('Boot.A=2'), a('Boot="x"')])).toThrow(/Boot\.A is given both on its own and inside Boot/);
    // a shared prefix of the name is not a parent
    expect(buildDesired(undefined, [a('Bo=1'), a('Boot.A=2')])).toEqual({ Bo: 1, Boot: { A: 2 } });
  });

  it('keys such as __proto__ and constructor are plain data, never the prototype', () => {
    const desired = buildDesired(undefined, [a('__proto__.polluted=1'), a('constructor=x')]);
    expect(Object.getPrototypeOf(desired)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(JSON.stringify(desired)).toBe('{"__proto__":{"polluted":1},"constructor":"x"}');
    const d = diffResource({}, desired);
    expect(d.differing).toEqual(['__proto__', 'constructor']);
    expect(JSON.stringify(d.patch)).toBe('{"__proto__":{"polluted":1},"constructor":"x"}');
  });
});

describe('numbers JSON cannot carry as written', () => {
  it.each([
    ['1e400', 'null'],
    ['-1e400', 'null'],
    ['12345678901234567890', '12345678901234567000'],
    ['9007199254740993', '9007199254740992'],
    ['0.10000000000000000001', '0.1'],
    ['1e-400', '0'],
    ['1234567.1234567890123', '1234567.123456789'],
  ])('refuses %s: it would be sent as %s, and says to quote it', (literal, sent) => {
    expect(inexactNumber(`{"a":[${literal}]}`)).toEqual({ literal, sent });
    const error = thrown(() => parseAssignment(`AssetTag=${literal}`));
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error.message).toContain(`would be sent as ${sent}`);
    expect(error.message).toContain(`AssetTag='"${literal}"'`);
  });

  it.each(['0', '-0', '1', '1.0', '1.50e2', '100e-2', '9007199254740991', '0.1', '1e308', '-2.5E-300', '123456789012345e99', '5e-324', '0.000001'])(
    'takes %s as written',
    (literal) => {
      expect(inexactNumber(`[${literal}]`)).toBeUndefined();
      expect(parseAssignment(`A=${literal}`).value).toBe(Number(literal));
    },
  );

  it('digits inside strings are text, never numbers', () => {
    expect(inexactNumber('{"a":"1e400","b":"12345678901234567890","c\\"1e999":1}')).toBeUndefined();
  });

  it('any literal of up to 15 significant digits and a two-digit exponent is exact (the quick check is sound)', () => {
    const random = seededRandom(15);
    for (let i = 0; i < 20_000; i++) {
      const digits = String(Math.floor(random() * 1e15)).replace(/^0+/, '') || '0';
      const point = Math.floor(random() * (digits.length + 1));
      const mantissa = `${digits.slice(0, point) || '0'}${point < digits.length ? `.${digits.slice(point)}` : ''}`;
      const literal = `${random() < 0.5 ? '-' : ''}${mantissa}e${Math.floor(random() * 199) - 99}`;
      expect(inexactNumber(literal), literal).toBeUndefined();
    }
  });
});

describe('write-only properties', () => {
  it.each(['Password', 'password', 'BindPassword', 'AuthPassphrase', 'ClientSecret', 'AuthenticationKey', 'EncryptionKey', 'KerberosKeytab'])('%s is write-only', (name) => {
    expect(isWriteOnly(name)).toBe(true);
  });

  it.each(['PasswordChangeRequired', 'MinPasswordLength', 'PasswordExpiration', 'UserName', 'PublicKey', 'AssetTag'])('%s is not', (name) => {
    expect(isWriteOnly(name)).toBe(false);
  });

  it('a write-only value is always text: Password=123456 is "123456", a quoted one is its string', () => {
    expect(parseAssignment('Password=123456').value).toBe('123456');
    expect(parseAssignment('Password=1e400').value).toBe('1e400');
    expect(parseAssignment('Password=null').value).toBe('null');
    expect(parseAssignment('Password="a b"').value).toBe('a b');
  });

  it('writeOnlyPaths finds them nested; masked shows them null wherever they are', () => {
    const desired: JsonObject = { Password: 'x', LDAP: { Authentication: { Password: 'y', Username: 'u' } }, AssetTag: 't' };
    expect(writeOnlyPaths(desired)).toEqual(['Password', 'LDAP.Authentication.Password']);
    expect(masked({ ...desired, Users: [{ AuthPassphrase: 'z', Name: 'n' }] })).toEqual({
      Password: null,
      LDAP: { Authentication: { Password: null, Username: 'u' } },
      AssetTag: 't',
      Users: [{ AuthPassphrase: null, Name: 'n' }],
    });
  });

  it('the same write-only property given twice with different values: refused without showing either', () => {
    const error = thrown(() => buildDesired(undefined, [parseAssignment('Password=first-S3cret'), parseAssignment('Password=second-S3cret')]));
    expect(error.message).toBe('Password is given twice with different values');
  });
});

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a throw');
}

describe('missingProperties', () => {
  const resource = { AssetTag: '', Boot: { BootSourceOverrideTarget: 'None', BootSourceOverrideEnabled: 'Disabled' }, Oem: null, Attributes: { WorkloadProfile: 'GeneralPowerEfficientCompute' } };

  it('names what the resource lacks, nested, with the key a typo most likely meant', () => {
    expect(missingProperties(resource, { AssetTag: 'x', Boot: { BootSourceOverideTarget: 'Pxe' } })).toEqual([{ path: 'Boot.BootSourceOverideTarget', near: 'Boot.BootSourceOverrideTarget' }]);
    expect(missingProperties(resource, { assettag: 'x', Attributes: { WorkloadProfle: 'Virtualization' }, Frobnicate: 1 })).toEqual([
      { path: 'assettag', near: 'AssetTag' },
      { path: 'Attributes.WorkloadProfle', near: 'Attributes.WorkloadProfile' },
      { path: 'Frobnicate' },
    ]);
  });

  it('a present property is never missing, whatever its value (null, a non-object where an object is asked)', () => {
    expect(missingProperties(resource, { Oem: { Hpe: { X: 1 } }, AssetTag: { a: 1 }, Boot: { BootSourceOverrideTarget: 'Pxe' } })).toEqual([]);
  });

  it('inherited names are not properties', () => {
    expect(missingProperties({}, JSON.parse('{"constructor":1,"__proto__":{"a":1}}') as JsonObject).map((m) => m.path).sort()).toEqual(['__proto__', 'constructor']);
  });
});
