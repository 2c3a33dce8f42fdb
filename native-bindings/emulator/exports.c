/*
 * exports.c — the channel and security functions of ilorest_chif.h (app accounts: appaccount.c).
 * Each is a thin layer over state.c (global flags and credentials) and channel.c (one frame to
 * the simulator).
 * Status codes are Linux errno values, as HPE's library returns (docs/reference/chif-abi.md §4.2);
 * on Windows chif_status() turns "no driver" and "access denied" into the Win32 codes HPE's DLL uses.
 */
#include "emulator.h"

#include <limits.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* A channel handle holds only its receive timeout: each call opens its own connection. The
 * magic catches NULL, foreign and (often) already-closed handles with ST_INVAL. */
#define HANDLE_MAGIC 0x43484946u /* "CHIF" */
struct chif_handle {
  uint32_t magic;
  atomic_int timeout_ms; /* ChifSetRecvTimeout may race an exchange on another thread */
};

static struct chif_handle *handle_of(CHIF_HANDLE handle) {
  struct chif_handle *h = handle;
  return h && h->magic == HANDLE_MAGIC ? h : NULL;
}

/* PING/CREATE/CLOSE/VERIFY/SECURITY: the answer is one 4-byte value. */
static uint32_t call_value(uint8_t op, const uint8_t *payload, size_t len, int timeout_ms,
                           uint32_t *value) {
  return channel_call(op, payload, len, NULL, 0, timeout_ms, value, NULL, 0);
}

/* 2.1 Channel API */

/* Never touches the security-disabled flag (docs/reference/chif-abi.md §5.2: production in-band would fail with 8). */
void ChifInitialize(void *reserved) {
  (void)reserved;
  const char *clears = getenv(ENV_INIT_CLEARS_CREDENTIALS);
  if (clears && strcmp(clears, "1") == 0) state_clear_credentials();
}

uint32_t ChifCreate(CHIF_HANDLE *out) {
  if (!out) return ST_INVAL;
  *out = NULL;
  uint32_t value;
  uint32_t rc = call_value(OP_CREATE, NULL, 0, state_default_timeout(), &value);
  if (rc || value) return chif_status(rc ? rc : value);
  struct chif_handle *h = malloc(sizeof *h);
  if (!h) return ST_NOMEM;
  h->magic = HANDLE_MAGIC;
  atomic_init(&h->timeout_ms, DEFAULT_TIMEOUT_MS);
  *out = h;
  return 0;
}

uint32_t ChifPing(CHIF_HANDLE handle) {
  struct chif_handle *h = handle_of(handle);
  if (!h) return ST_INVAL;
  uint32_t value;
  uint32_t rc = call_value(OP_PING, NULL, 0, atomic_load(&h->timeout_ms), &value);
  return chif_status(rc ? rc : value);
}

/* ms <= 0 waits without limit. A NULL handle sets the timeout of the calls that take no handle
 * (ChifCreate, ChifIsSecurityRequired, ChifVerifyCredentials, and the app-account functions of
 * appaccount.c). */
void ChifSetRecvTimeout(CHIF_HANDLE handle, int ms) {
  struct chif_handle *h = handle_of(handle);
  if (h)
    atomic_store(&h->timeout_ms, ms);
  else if (!handle)
    state_set_default_timeout(ms);
}

/* The request length is u16@0 of send: the caller's buffer may be exactly that long (plus a
 * NUL), so nothing past it is read (docs/reference/chif-abi.md §3.2). */
static uint32_t exchange(CHIF_HANDLE handle, const uint8_t *send, uint8_t *recv,
                         uint32_t recv_size, int timeout_ms) {
  if (!handle_of(handle) || !send || (!recv && recv_size)) return ST_INVAL;
  uint16_t len = get_u16(send);
  if (len < PACKET_MIN || len > PACKET_MAX) return ST_INVAL;

  char user[CRED_MAX + 1];
  uint8_t auth = (uint8_t)state_auth(user);
  size_t user_len = auth == AUTH_VERIFIED ? strlen(user) : 0;
  uint8_t head[1 + 2 + CRED_MAX + 4]; /* auth, u16 n, user, u32 recvSize */
  size_t n = 0;
  head[n++] = auth;
  put_u16(head + n, (uint16_t)user_len);
  n += 2;
  memcpy(head + n, user, user_len);
  n += user_len;
  put_u32(head + n, recv_size);
  n += 4;

  uint32_t value;
  uint32_t rc = channel_call(OP_EXCHANGE, head, n, send, len, timeout_ms, &value, recv, recv_size);
  return chif_status(rc ? rc : value);
}

uint32_t ChifPacketExchange(CHIF_HANDLE handle, const uint8_t *send, uint8_t *recv, int recvSize) {
  struct chif_handle *h = handle_of(handle);
  if (!h || recvSize < 0) return ST_INVAL;
  return exchange(h, send, recv, (uint32_t)recvSize, atomic_load(&h->timeout_ms));
}

uint32_t ChifPacketExchangeSpecifyTimeout(CHIF_HANDLE handle, const uint8_t *send, uint8_t *recv,
                                          uint32_t recvSize, uint32_t timeoutMs) {
  return exchange(handle, send, recv, recvSize, timeoutMs > INT_MAX ? INT_MAX : (int)timeoutMs);
}

/* The handle is freed whatever the simulator answers: the caller is done with it. */
uint32_t ChifClose(CHIF_HANDLE handle) {
  struct chif_handle *h = handle_of(handle);
  if (!h) return ST_INVAL;
  uint32_t value;
  uint32_t rc = call_value(OP_CLOSE, NULL, 0, atomic_load(&h->timeout_ms), &value);
  h->magic = 0;
  free(h);
  return chif_status(rc ? rc : value);
}

void ChifTerminate(void) {}

/* 2.2 Security and credentials */

/* >0 credentials required, 0 not, <0 the query failed (no simulator included). */
int ChifIsSecurityRequired(void) {
  uint32_t value;
  uint32_t rc = call_value(OP_SECURITY, NULL, 0, state_default_timeout(), &value);
  return rc ? -1 : (int)(int32_t)value;
}

void ChifDisableSecurity(void) { state_set_security_disabled(true); }
void ChifEnableSecurity(void) { state_set_security_disabled(false); }

/* 2: supports security (the CLI enables it and verifies by hand only for <= 1). */
int ChifGetSecuritySupport(void) { return 2; }

uint8_t *initiate_credentials(const char *user, const char *password) {
  static uint8_t token; /* callers ignore the result, but some read it: never NULL */
  state_set_credentials(user ? user : "", password ? password : "");
  return &token;
}

/* Sends the stored credentials (empty if none) to the simulator; 0 marks that pair verified. */
int ChifVerifyCredentials(void) {
  struct chif_creds creds;
  state_get_credentials(&creds);
  uint8_t payload[2 + CRED_MAX + 2 + CRED_MAX];
  size_t n = 0, user_len = strlen(creds.user), pass_len = strlen(creds.password);
  put_u16(payload + n, (uint16_t)user_len);
  n += 2;
  memcpy(payload + n, creds.user, user_len);
  n += user_len;
  put_u16(payload + n, (uint16_t)pass_len);
  n += 2;
  memcpy(payload + n, creds.password, pass_len);
  n += pass_len;

  uint32_t value;
  uint32_t rc = call_value(OP_VERIFY, payload, n, state_default_timeout(), &value);
  uint32_t result = rc ? rc : value;
  state_set_verified(&creds, result == 0);
  secure_wipe(payload, sizeof payload);
  secure_wipe(&creds, sizeof creds);
  return (int)chif_status(result);
}

/* No certificate login in-band (HPE's own client cannot reach it either, docs/reference/chif-abi.md §2.2). */
char *login_cert(CHIF_HANDLE handle, const char *certFile, const char *privateKey,
                 const char *keyPassword) {
  (void)handle, (void)certFile, (void)privateKey, (void)keyPassword;
  return NULL;
}

/* 2.3 Housekeeping (encode/decode_credentials are in base64.c) */

void updaterandval(uint16_t value) { state_seed(value); }

/* An emulator never writes files. */
bool enabledebugoutput(const char *directory) {
  (void)directory;
  return false;
}

/* 2.6 App accounts: appaccount.c */
