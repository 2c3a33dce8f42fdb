// raw and batch print responses through viewResponse: no token or cookie may reach stdout,
// whatever case a transport (or a proxy in front of the iLO) gives the header names.
import { describe, expect, it } from 'vitest';
import { viewResponse } from '../../src/cli/commands/response-view.js';

const bytes = (text: string) => new TextEncoder().encode(text);

describe('viewResponse', () => {
  it('leaves out X-Auth-Token and Set-Cookie in any case, and lower-cases the rest', () => {
    const view = viewResponse({
      status: 201,
      headers: { 'X-Auth-Token': 'secret-token', 'SET-COOKIE': 'sessionKey=secret', 'x-auth-token': 'secret-2', ETag: 'W/"1"', location: '/redfish/v1/x' },
      body: bytes('{"a":1}'),
    });
    expect(view).toEqual({ status: 201, headers: { etag: 'W/"1"', location: '/redfish/v1/x' }, body: { a: 1 } });
    expect(JSON.stringify(view)).not.toContain('secret');
  });

  it('shows a body that is not JSON as text, and an empty one as null', () => {
    expect(viewResponse({ status: 200, headers: {}, body: bytes('plain') }).body).toBe('plain');
    expect(viewResponse({ status: 204, headers: {}, body: new Uint8Array() }).body).toBeNull();
  });
});
