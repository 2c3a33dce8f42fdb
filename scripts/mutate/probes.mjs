// The bugs the test audit planted, one at a time (issue 19; the audit's table "Mutation probes" and its
// "Ranked problems"), each with the tests that must fail under it. Run by audit-probes.mjs
// (`npm run mutate:probes`). Each edit's `find` must occur exactly once in its file: when the source
// moves or changes, the runner stops and names the probe, and only this table needs updating.
//
// Fields: id; audit (the audit's row or problem); bug (what the edit does); edits [{ file, find, replace }];
// tests (test files); filter (optional vitest -t pattern, a RegExp source matched against the full test name).

/** Every test of a file except the guardian stress run (45 s, and not about these bugs). */
const NOT_STRESS = '^(?!.*random moments)';

export const PROBES = [
  {
    id: '1',
    audit: 'row 1',
    bug: 'withSession rethrows a stop (E_ABORTED) before client.close(): a signal skips the logout',
    edits: [
      {
        file: 'src/client/open-session.ts',
        find: "  } catch (error) {\n    // The first failure is the one to report; a failed logout after it is logged, not lost.\n",
        replace:
          "  } catch (error) {\n    if ((error as { code?: string }).code === 'E_ABORTED') throw error;\n    // The first failure is the one to report; a failed logout after it is logged, not lost.\n",
      },
    ],
    tests: ['test/cli/cleanup.test.ts'],
  },
  {
    id: '1-chif',
    audit: 'row 1 (CHIF half; ranked problem 2: a fallback hides the broken main path)',
    bug: 'as 1, judged by the in-band tests alone (the blocking DELETE on the way out used to rescue them)',
    edits: 'same as 1',
    tests: ['test/cli/cleanup.test.ts'],
    filter: 'over chif',
  },
  {
    id: '1b',
    audit: 'row 1b (ranked problem 2)',
    bug: 'a CHIF channel given up on is not abandoned: the DELETE queues behind the hung exchange',
    edits: [
      {
        file: 'src/transport/chif/chif-transport.ts',
        find: '  #abandonChannel(): void {\n',
        replace: '  #abandonChannel(): void {\n    if (this.#timeoutMs >= 0) return;\n',
      },
    ],
    tests: ['test/cli/cleanup.test.ts'],
    filter: 'over chif',
  },
  {
    id: '2',
    audit: 'row 2',
    bug: 'the guardian never hears of the session (path and token not sent)',
    edits: [
      {
        file: 'src/guardian/spawn.ts',
        find: "    sessionCreated: ({ path, token }) => send({ type: 'session', path, token }),\n",
        replace: '    sessionCreated: () => undefined,\n',
      },
    ],
    tests: ['test/cli/guardian.test.ts'],
    filter: NOT_STRESS,
  },
  {
    id: '2b',
    audit: 'row 2 (ranked problem 2: the login-gap scan rescued "SIGKILL during the logout")',
    bug: 'as 2, judged by the "SIGKILL during the logout" tests alone',
    edits: 'same as 2',
    tests: ['test/cli/guardian.test.ts'],
    filter: 'SIGKILL during the logout',
  },
  {
    id: '3',
    audit: 'row 3',
    bug: 'TLS verified only when insecure is explicitly false (undefined turns it off)',
    edits: [
      {
        file: 'src/transport/https/https-transport.ts',
        find: 'rejectUnauthorized: !options.insecure && !options.pin };',
        replace: 'rejectUnauthorized: options.insecure === false && !options.pin };',
      },
    ],
    tests: ['test/transport/https-transport.test.ts'],
    filter: 'TLS',
  },
  {
    id: '3b',
    audit: 'row 3b (ranked problem 5)',
    bug: 'host-name verification off (checkServerIdentity accepts any name)',
    edits: [
      {
        file: 'src/transport/https/https-transport.ts',
        find: 'rejectUnauthorized: !options.insecure && !options.pin };',
        replace: 'rejectUnauthorized: !options.insecure && !options.pin, checkServerIdentity: () => undefined };',
      },
    ],
    tests: ['test/transport/https-transport.test.ts'],
    filter: 'TLS',
  },
  {
    id: '3-guardian-ca',
    audit: 'ranked problem 5 (the guardian\'s TLS)',
    bug: 'the guardian drops the agent\'s --ca-cert',
    edits: [{ file: 'src/guardian/guardian.ts', find: '      ca: spec.ca ?? undefined,\n', replace: '      ca: undefined,\n' }],
    tests: ['test/guardian/guardian-core.test.ts'],
    filter: 'own HTTPS',
  },
  {
    id: '3-guardian-insecure',
    audit: 'ranked problem 5 (the guardian\'s TLS)',
    bug: 'the guardian ignores the agent\'s --insecure',
    edits: [{ file: 'src/guardian/guardian.ts', find: '      insecure: spec.insecure,\n', replace: '      insecure: false,\n' }],
    tests: ['test/guardian/guardian-core.test.ts'],
    filter: 'own HTTPS',
  },
  {
    id: '3-guardian-trust-all',
    audit: 'ranked problem 5 (the guardian\'s TLS)',
    bug: 'the guardian trusts any certificate',
    edits: [{ file: 'src/guardian/guardian.ts', find: '      insecure: spec.insecure,\n', replace: '      insecure: true,\n' }],
    tests: ['test/guardian/guardian-core.test.ts'],
    filter: 'own HTTPS',
  },
  {
    id: '4',
    audit: 'row 4',
    bug: 'the password (and user) on the guardian\'s command line',
    edits: [
      {
        file: 'src/guardian/spawn.ts',
        find: '    child = spawn(launch.command, launch.args, {\n',
        replace:
          "    child = spawn(launch.command, [...launch.args, '--user', spec.credentials?.username ?? '', '--password', spec.credentials?.password ?? ''], {\n",
      },
    ],
    tests: ['test/cli/guardian.test.ts'],
    filter: 'neither the guardian',
  },
  {
    id: '4-env',
    audit: 'row 4 (the environment half)',
    bug: 'ILO_PASSWORD left in the guardian\'s environment',
    edits: [{ file: 'src/guardian/spawn.ts', find: '  delete env.ILO_PASSWORD;\n', replace: '' }],
    // Through the CLI this bug hides (connection.ts removes ILO_PASSWORD from the agent's own
    // environment first): the library case, spawn-env.test.ts, is the one that sees it.
    tests: ['test/cli/guardian.test.ts', 'test/guardian/spawn-env.test.ts'],
    filter: "neither the guardian|the guardian's environment",
  },
  {
    id: '5',
    audit: 'row 5',
    bug: 'set --check exits 0 when a change is due',
    edits: [
      {
        file: 'src/cli/commands/set.ts',
        find: '      if (flags.check && result.changed) throw',
        replace: '      if (flags.check && result.changed && false) throw',
      },
    ],
    tests: ['test/cli/batch-set.test.ts'],
    filter: '--check',
  },
  {
    id: '6',
    audit: 'row 6',
    bug: 'inline/blob threshold by maxBuffer instead of maxWrite',
    edits: [
      {
        file: 'src/transport/chif/blobstore.ts',
        find: '  return length < sizes.restImmediateRequest + sizes.maxWrite;\n',
        replace: '  return length < sizes.restImmediateRequest + sizes.maxBuffer;\n',
      },
    ],
    tests: ['test/inband/inband.test.ts'],
  },
  {
    id: '7',
    audit: 'row 7',
    bug: 'the echoed-sequence check disabled',
    edits: [
      {
        file: 'src/transport/chif/chif-transport.ts',
        find: '      if (sequenceOf(result.response) !== sequence) {\n',
        replace: '      if (false && sequenceOf(result.response) !== sequence) {\n',
      },
    ],
    tests: ['test/inband/inband.test.ts'],
  },
  {
    id: '7b',
    audit: 'row 7 (a mismatched POST retried)',
    bug: 'a sequence mismatch on a POST is resent',
    edits: [
      {
        file: 'src/transport/chif/chif-transport.ts',
        find: "        if (attempt >= 3 || !resendable) throw new ChifError('the iLO answered with another packet\\'s sequence number');\n",
        replace: "        if (attempt >= 3) throw new ChifError('the iLO answered with another packet\\'s sequence number');\n",
      },
    ],
    tests: ['test/inband/inband.test.ts'],
  },
  {
    id: '8a',
    audit: 'row 8 (a)',
    bug: 'the strict umask around listen() removed (the chmod after it kept)',
    edits: [{ file: 'src/agent/server.ts', find: '  const previous = process.umask(0o177);\n', replace: '  const previous = process.umask(process.umask());\n' }],
    tests: ['test/agent/server.test.ts', 'test/cli/serve.test.ts'],
    filter: 'owner-only',
  },
  {
    id: '8b',
    audit: 'row 8 (b)',
    bug: 'the umask and the chmod both removed',
    edits: [
      { file: 'src/agent/server.ts', find: '  const previous = process.umask(0o177);\n', replace: '  const previous = process.umask(process.umask());\n' },
      { file: 'src/agent/server.ts', find: "  if (process.platform !== 'win32') chmodSync(socketPath, 0o600);\n", replace: '' },
    ],
    tests: ['test/agent/server.test.ts', 'test/cli/serve.test.ts'],
    filter: 'owner-only',
  },
  {
    id: 'fresh-channel',
    audit: 'ranked problem 1 (retry on a fresh channel)',
    bug: 'a failed exchange retried on the same channel',
    edits: [{ file: 'src/transport/chif/chif-transport.ts', find: '        await this.#replaceChannel(channel);\n', replace: '' }],
    tests: ['test/inband/inband.test.ts'],
  },
  {
    id: 'etimedout',
    audit: 'ranked problem 1 (the in-band timeout mapping)',
    bug: 'the library\'s ETIMEDOUT no longer recognised',
    edits: [{ file: 'src/transport/chif/chif-transport.ts', find: 'const ETIMEDOUT = 110;\n', replace: 'const ETIMEDOUT = 99999;\n' }],
    tests: ['test/inband/inband.test.ts'],
  },
  {
    id: 'busy-deadline',
    audit: 'ranked problem 1 (blob store busy past the deadline)',
    bug: 'blob status 2 waited out with no regard to the deadline',
    edits: [
      {
        file: 'src/transport/chif/blobstore.ts',
        find: '    if (Date.now() + pause > link.deadline) throw',
        replace: '    if (false) throw',
      },
    ],
    tests: ['test/inband/inband.test.ts'],
  },
  {
    id: 'empty-fragments',
    audit: 'ranked problem 1 (repeated empty reads)',
    bug: 'an answer read again for ever while its fragments come back empty',
    edits: [
      {
        file: 'src/transport/chif/blobstore.ts',
        find: '  for (let pass = 0; pass < READ_PASSES; pass++) {\n',
        replace: '    for (let pass = 0; ; pass++) {\n',
      },
    ],
    tests: ['test/inband/inband.test.ts'],
  },
  {
    id: 'post-retry',
    audit: 'ranked problem 1 (no retry for POST)',
    bug: 'a failed exchange of a POST is sent again',
    edits: [
      {
        file: 'src/transport/chif/chif-transport.ts',
        find: '        if (attempt >= 3 || !resendable) throw new ChifError(`the CHIF exchange failed',
        replace: '        if (attempt >= 3) throw new ChifError(`the CHIF exchange failed',
      },
    ],
    tests: ['test/inband/inband.test.ts'],
  },
  {
    id: 'recv-mode',
    audit: 'ranked problem 1 (an unknown receive mode)',
    bug: 'any receive mode but 0 taken for a response blob',
    edits: [{ file: 'src/transport/chif/blobstore.ts', find: '  if (recvMode === RECV_MODE.BLOB) return undefined;\n', replace: '  if (recvMode !== RECV_MODE.INLINE) return undefined;\n' }],
    tests: ['test/inband/inband.test.ts'],
    filter: 'no simulator knob',
  },
  {
    id: 'inline-length',
    audit: 'ranked problem 1 (an inline length past the packet)',
    bug: 'an inline answer\'s length not checked against the packet',
    edits: [
      {
        file: 'src/transport/chif/blobstore.ts',
        find: '  if (start + length > answer.length) throw',
        replace: '  if (false) throw',
      },
    ],
    tests: ['test/inband/inband.test.ts'],
    filter: 'no simulator knob',
  },
  {
    id: 'bounded-backstop',
    audit: 'ranked problem 1 (the #bounded backstop timer)',
    bug: 'the backstop that ends an exchange the library never returns from waits 1000 s',
    edits: [{ file: 'src/transport/chif/chif-transport.ts', find: 'this.#timeoutMs + 1000);', replace: 'this.#timeoutMs + 1_000_000);' }],
    tests: ['test/inband/inband.test.ts'],
    filter: 'no simulator knob',
  },
  {
    id: 'serve-filter-in',
    audit: 'ranked problem 4 (client to iLO)',
    bug: 'the agent passes a client\'s X-Auth-Token/Authorization/Cookie on to the iLO',
    edits: [
      {
        file: 'src/agent/server.ts',
        find: "      if (!PRIVATE_HEADERS.has(name.toLowerCase()) && typeof value === 'string') headers[name] = value;\n",
        replace: "      if (typeof value === 'string') headers[name] = value;\n",
      },
    ],
    tests: ['test/agent/server.test.ts'],
  },
  {
    id: 'serve-filter-out',
    audit: 'ranked problem 4 (iLO to client)',
    bug: 'the agent passes the iLO\'s X-Auth-Token/Set-Cookie on to its clients',
    edits: [
      {
        file: 'src/agent/server.ts',
        find: '      for (const [name, value] of Object.entries(response.headers)) if (!PRIVATE_HEADERS.has(name)) shown[name] = value;\n',
        replace: '      for (const [name, value] of Object.entries(response.headers)) shown[name] = value;\n',
      },
    ],
    tests: ['test/agent/server.test.ts'],
  },
  {
    id: 'delete-401-404',
    audit: 'ranked problem 6 (a 401/404 to a DELETE taken as gone)',
    bug: 'a token DELETE answered 401 or 404 counts as proof the session is gone',
    edits: [
      {
        file: 'src/session/logout.ts',
        find: '  return response.status >= 200 && response.status < 300;\n',
        replace: '  return (response.status >= 200 && response.status < 300) || response.status === 401 || response.status === 404;\n',
      },
    ],
    tests: ['test/guardian/guardian-core.test.ts', 'test/session/session.test.ts', 'test/client/client.test.ts'],
  },
  {
    id: 'relogin-keep-old',
    audit: 'ranked problem 6 (a failed re-login after a 401 loses the old session)',
    bug: 'an old session whose DELETE failed before a re-login is forgotten, not deleted at close',
    edits: [
      {
        file: 'src/session/session.ts',
        find: '        this.#leftovers.push({ path: old.path as string, token: old.token });\n',
        replace: '',
      },
    ],
    tests: ['test/client/client.test.ts', 'test/session/session.test.ts'],
  },
];

// "same as <id>": one bug judged by a narrower set of tests, written once.
for (const probe of PROBES) {
  if (typeof probe.edits === 'string') {
    const of = PROBES.find((p) => p.id === probe.edits.replace(/^same as /, ''));
    if (!of || typeof of.edits === 'string') throw new Error(`probe ${probe.id}: "${probe.edits}" names no probe with edits`);
    probe.edits = of.edits;
  }
}
