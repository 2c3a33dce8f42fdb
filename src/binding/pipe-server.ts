// Who serves a Windows named pipe: the process that created the pipe instance we reach
// (GetNamedPipeServerProcessId) and the user its token names (TokenUser), next to our own.
// Node gives no HANDLE for a connected net.Socket on Windows, so the pipe is opened once more,
// here, only to ask; that second connection is closed at once (the agent sees an empty one).
import { loadKoffi, type Koffi } from './chif-library.js';

export interface PipeServer {
  /** The server's process id. */
  pid: number;
  /** The server process's user, as a string SID (S-1-5-21-…). */
  sid: string;
  /** This process's user. */
  ownSid: string;
}

// <winnt.h>, <winbase.h>, <winerror.h>
const GENERIC_READ = 0x80000000;
const GENERIC_WRITE = 0x40000000;
const OPEN_EXISTING = 3;
// The server may identify us, never act as us (impersonation): SECURITY_SQOS_PRESENT | SECURITY_IDENTIFICATION.
const IDENTIFY_ONLY = 0x00100000 | 0x00010000;
const INVALID_HANDLE = -1;
const ERROR_PIPE_BUSY = 231;
const PROCESS_QUERY_LIMITED_INFORMATION = 0x1000;
const TOKEN_QUERY = 0x0008;
const TOKEN_USER = 1;
/** How long every instance may be busy (other clients connecting) before we give up. */
const BUSY_WAIT_MS = 5_000;

type Api = ReturnType<typeof bind>;
let api: Promise<Api> | undefined;

/** Throws an Error saying which step failed (with Windows' error code) when it cannot tell. */
export async function pipeServer(pipe: string): Promise<PipeServer> {
  api ??= loadKoffi().then(bind);
  const w = await api;
  const handle = await openPipe(w, pipe);
  let pid: number;
  try {
    const out = [0];
    if (!w.GetNamedPipeServerProcessId(handle, out)) throw new Error(`Windows did not say which process serves it (error ${w.GetLastError()})`);
    pid = out[0] as number;
  } finally {
    w.CloseHandle(handle);
  }
  const server = w.OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, 0, pid) as number;
  if (!server) throw new Error(`its server, process ${pid}, cannot be opened to read its user (error ${w.GetLastError()})`);
  try {
    return { pid, sid: tokenUser(w, server, `process ${pid}`), ownSid: tokenUser(w, w.GetCurrentProcess() as number, 'this process') };
  } finally {
    w.CloseHandle(server);
  }
}

function bind(koffi: Koffi) {
  const kernel32 = koffi.load('kernel32.dll');
  const advapi32 = koffi.load('advapi32.dll');
  // koffi keeps each call's last error for the GetLastError call that follows.
  return {
    koffi,
    CreateFileW: kernel32.func('intptr_t CreateFileW(const char16_t *name, uint32_t access, uint32_t share, void *security, uint32_t disposition, uint32_t flags, intptr_t template)'),
    GetLastError: kernel32.func('uint32_t GetLastError(void)'),
    CloseHandle: kernel32.func('int CloseHandle(intptr_t handle)'),
    GetNamedPipeServerProcessId: kernel32.func('int GetNamedPipeServerProcessId(intptr_t pipe, _Out_ uint32_t *pid)'),
    OpenProcess: kernel32.func('intptr_t OpenProcess(uint32_t access, int inherit, uint32_t pid)'),
    GetCurrentProcess: kernel32.func('intptr_t GetCurrentProcess(void)'),
    OpenProcessToken: advapi32.func('int OpenProcessToken(intptr_t process, uint32_t access, _Out_ intptr_t *token)'),
    GetTokenInformation: advapi32.func('int GetTokenInformation(intptr_t token, int kind, void *info, uint32_t length, _Out_ uint32_t *returned)'),
    GetLengthSid: advapi32.func('uint32_t GetLengthSid(void *sid)'),
  };
}

/** A client handle on the pipe; every instance may be taken for a moment by other clients. */
async function openPipe(w: Api, pipe: string): Promise<number> {
  const deadline = Date.now() + BUSY_WAIT_MS;
  for (;;) {
    const handle = w.CreateFileW(pipe, GENERIC_READ | GENERIC_WRITE, 0, null, OPEN_EXISTING, IDENTIFY_ONLY, 0) as number;
    if (handle !== INVALID_HANDLE) return handle;
    const error = w.GetLastError() as number;
    if (error !== ERROR_PIPE_BUSY || Date.now() > deadline) throw new Error(`it could not be opened again to ask who serves it (error ${error})`);
    await new Promise((next) => setTimeout(next, 20));
  }
}

function tokenUser(w: Api, processHandle: number, who: string): string {
  const out = [0];
  if (!w.OpenProcessToken(processHandle, TOKEN_QUERY, out)) throw new Error(`the user of ${who} cannot be read (OpenProcessToken: error ${w.GetLastError()})`);
  const token = out[0] as number;
  try {
    // TOKEN_USER { SID_AND_ATTRIBUTES { PSID Sid; DWORD Attributes } }, the SID itself after it.
    const info = Buffer.alloc(256);
    if (!w.GetTokenInformation(token, TOKEN_USER, info, info.length, [0])) throw new Error(`the user of ${who} cannot be read (GetTokenInformation: error ${w.GetLastError()})`);
    const sid = w.koffi.decode(info, 'void *') as unknown;
    const length = w.GetLengthSid(sid) as number;
    return formatSid(Buffer.from(w.koffi.decode(sid, 'uint8_t', length) as number[]));
  } finally {
    w.CloseHandle(token);
  }
}

/** A binary SID as Windows writes it (ConvertSidToStringSid): S-revision-authority-sub-sub-… */
export function formatSid(sid: Uint8Array): string {
  const bytes = Buffer.from(sid.buffer, sid.byteOffset, sid.byteLength);
  const count = bytes[1] ?? 0;
  if (bytes.length !== 8 + 4 * count) throw new Error(`a SID of ${bytes.length} bytes for ${count} sub-authorities`);
  const authority = bytes.readUIntBE(2, 6);
  const subs = Array.from({ length: count }, (_, i) => bytes.readUInt32LE(8 + 4 * i));
  return ['S', bytes[0], authority, ...subs].join('-');
}
