// systemd's readiness protocol for `serve` under Type=notify (sd_notify(3)): "READY=1" once the
// session exists and the socket listens, so units ordered After= it find it working; "STOPPING=1"
// when it begins to stop. NOTIFY_SOCKET is a path or, with "@", an abstract socket name.
import { sendUnixDatagram } from '../binding/index.js';

export interface Notifier {
  /** Sends one state message; false when there is no NOTIFY_SOCKET (not run by systemd). */
  notify(state: string): Promise<boolean>;
}

/** Reads NOTIFY_SOCKET once and removes it from `env`, as sd_notify's unset_environment does: children do not inherit it. */
export function systemdNotifier(env: NodeJS.ProcessEnv): Notifier {
  const socket = env.NOTIFY_SOCKET;
  delete env.NOTIFY_SOCKET;
  return {
    async notify(state) {
      if (!socket) return false;
      // systemd 253+ may also hand out "vsock:CID:PORT" (for VMs): not a Unix socket.
      if (!socket.startsWith('/') && !socket.startsWith('@')) throw new Error(`NOTIFY_SOCKET ${socket} is not a Unix socket path`);
      await sendUnixDatagram(socket, state);
      return true;
    },
  };
}
