// Whether an agent serves the iLO (and the user) a command names. ILO_AGENT_SOCKET is exported
// for whole shells and services: without this check, `--url https://other-ilo … Reset` would go
// to the agent's iLO instead, silently. Checked on the agent's hello, before any request.
import { UsageError } from '../errors.js';
import { parseIloUrl } from '../transport/index.js';
import type { AgentHello } from './protocol.js';

/** What the command names besides the agent, and where each came from (for the message). */
export interface AgentExpectation {
  /** The iLO the command names (`--url` or ILO_URL), with the name of its source. */
  url?: { value: string; from: string };
  /** The user the command names (`-u`), with the name of its source. */
  username?: { value: string; from: string };
}

/** The iLO an agent's hello names: its `url` field, or (agents older than it) its `https https://…` transport. */
export function agentUrl(hello: AgentHello | undefined): string | null | undefined {
  if (!hello) return undefined;
  if (hello.url !== undefined) return hello.url;
  return /^https (https:\/\/\S+)$/.exec(hello.transport ?? '')?.[1] ?? null;
}

/** Throws a usage error (exit 2) when the agent serves another iLO or user than the command names. */
export function checkAgentTarget(hello: AgentHello | undefined, expected: AgentExpectation, agentFrom: string): void {
  const drop = agentFrom === '--agent' ? 'drop --agent to log in yourself' : `unset ${agentFrom} (or run with ${agentFrom}=) to log in yourself`;
  if (expected.url) {
    // Compared as the transport normalizes an address (scheme, case, default port): a host name and
    // its IP address count as different iLOs (refused: a false "no" is exit 2, a false "yes" a wrong server).
    const want = parseIloUrl(expected.url.value).origin;
    const served = agentUrl(hello);
    if (served !== want) {
      const where = served ? `the iLO at ${served}` : 'the local iLO in-band';
      throw new UsageError(`${agentFrom} names an agent that serves ${where}, but ${expected.url.from} is ${want}: refused, nothing was sent; ${drop}, or use the agent without ${expected.url.from}`);
    }
  }
  if (expected.username) {
    const served = hello?.username;
    if (served === undefined) {
      throw new UsageError(`the agent ${agentFrom} names does not say which user it logged in as (an older ilo-agent serve), so ${expected.username.from} ${expected.username.value} cannot be honoured: refused, nothing was sent; ${drop}`);
    }
    if (served !== expected.username.value) {
      const who = served === null ? 'without a user name (in-band or an app token)' : `as ${served}`;
      throw new UsageError(`${agentFrom} names an agent logged in ${who}, but ${expected.username.from} is ${expected.username.value}: refused, nothing was sent; ${drop}, or use the agent without ${expected.username.from}`);
    }
  }
}
