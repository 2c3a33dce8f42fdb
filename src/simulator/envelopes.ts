// iLO's response envelope (docs/reference/ilo-sessions.md §4): success and failure alike are wrapped in "error",
// carrying only MessageId (+ MessageArgs), never Message/Severity/Resolution.
import type { Profile } from './profiles.js';

export type Registry = 'Base' | 'iLO';

export interface Envelope {
  error: {
    code: 'iLO.0.10.ExtendedInfo';
    message: 'See @Message.ExtendedInfo for more information.';
    '@Message.ExtendedInfo': Array<{ MessageId: string; MessageArgs?: string[] }>;
  };
}

function messageId(profile: Profile, registry: Registry, key: string): string {
  return `${registry === 'Base' ? profile.baseRegistry : profile.iloRegistry}.${key}`;
}

export function envelope(profile: Profile, registry: Registry, key: string, args?: readonly string[]): Envelope {
  const info: { MessageId: string; MessageArgs?: string[] } = { MessageId: messageId(profile, registry, key) };
  if (args && args.length > 0) info.MessageArgs = [...args];
  return {
    error: {
      code: 'iLO.0.10.ExtendedInfo',
      message: 'See @Message.ExtendedInfo for more information.',
      '@Message.ExtendedInfo': [info],
    },
  };
}
