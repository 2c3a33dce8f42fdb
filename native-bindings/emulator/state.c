/*
 * state.c — the library's global state. HPE's clients keep none of it per handle: they disable
 * security or store credentials through one dlopen and exchange packets through another
 * (docs/reference/chif-abi.md §1.3, §3.8, §5.2), so it lives here, behind one mutex, for the life of the
 * process (the library is linked -z nodelete, so dlclose never resets it).
 */
#include "emulator.h"

#include <string.h>
#include <time.h>

#ifdef _WIN32
#include <windows.h>
static SRWLOCK lock = SRWLOCK_INIT;
#define LOCK() AcquireSRWLockExclusive(&lock)
#define UNLOCK() ReleaseSRWLockExclusive(&lock)
#define PROCESS_ID() ((unsigned)GetCurrentProcessId())

/* Windows' -z nodelete: the DLL pins itself when loaded, so FreeLibrary never unmaps it and its
 * state outlives the callers that unload it (docs/reference/chif-abi.md §1.3). */
BOOL WINAPI DllMain(HINSTANCE instance, DWORD reason, LPVOID reserved) {
  (void)instance, (void)reserved;
  HMODULE self;
  if (reason == DLL_PROCESS_ATTACH)
    GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS | GET_MODULE_HANDLE_EX_FLAG_PIN,
                       (LPCWSTR)(void *)&lock, &self);
  return TRUE;
}
#else
#include <pthread.h>
#include <unistd.h>
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
#define LOCK() pthread_mutex_lock(&lock)
#define UNLOCK() pthread_mutex_unlock(&lock)
#define PROCESS_ID() ((unsigned)getpid())
#endif

static bool seeded;              /* updaterandval called, or first builder seeded it */
static uint16_t next_seq;
static bool security_disabled;   /* ChifDisableSecurity; ChifInitialize leaves it alone */
static struct chif_creds current;  /* from initiate_credentials */
static struct chif_creds verified; /* the pair ChifVerifyCredentials last accepted */
static int default_timeout_ms = DEFAULT_TIMEOUT_MS; /* handle-less calls (create, verify, …) */

void secure_wipe(void *p, size_t n) {
  volatile unsigned char *v = p; /* volatile: the compiler may not drop the stores */
  while (n--) *v++ = 0;
}

static void set_creds(struct chif_creds *c, const char *user, const char *password) {
  secure_wipe(c, sizeof *c);
  c->set = true;
  memcpy(c->user, user, strnlen(user, CRED_MAX));
  memcpy(c->password, password, strnlen(password, CRED_MAX));
}

static bool same_creds(const struct chif_creds *a, const struct chif_creds *b) {
  return a->set && b->set && strcmp(a->user, b->user) == 0 && strcmp(a->password, b->password) == 0;
}

/* Sequence numbers: the value updaterandval gave, then +1 per builder call, skipping 0.
 * Unseeded, start from the pid so that two processes are unlikely to collide (the purpose
 * HPE's clients seed it for, docs/reference/chif-abi.md §1.3). */
uint16_t state_next_seq(void) {
  LOCK();
  if (!seeded) {
    next_seq = (uint16_t)(PROCESS_ID() ^ (unsigned)time(NULL));
    seeded = true;
  }
  if (next_seq == 0) next_seq = 1;
  uint16_t seq = next_seq++;
  UNLOCK();
  return seq;
}

void state_seed(uint16_t value) {
  LOCK();
  next_seq = value;
  seeded = true;
  UNLOCK();
}

void state_set_security_disabled(bool disabled) {
  LOCK();
  security_disabled = disabled;
  UNLOCK();
}

void state_set_credentials(const char *user, const char *password) {
  LOCK();
  set_creds(&current, user, password);
  UNLOCK();
}

void state_clear_credentials(void) {
  LOCK();
  secure_wipe(&current, sizeof current);
  UNLOCK();
}

void state_get_credentials(struct chif_creds *out) {
  LOCK();
  *out = current;
  UNLOCK();
}

/* Remembers the pair that was actually verified (not whatever is current by the time the
 * answer arrives). Re-storing the same pair later — as LIB-NEW does after every ChifInitialize —
 * counts as verified again; any failed verification forgets the earlier success. */
void state_set_verified(const struct chif_creds *creds, bool ok) {
  LOCK();
  if (ok)
    verified = *creds;
  else
    secure_wipe(&verified, sizeof verified);
  UNLOCK();
}

/* The auth byte of the next EXCHANGE: verified credentials win over the disabled flag, since
 * they are also accepted in high-security states. */
int state_auth(char user_out[CRED_MAX + 1]) {
  int auth = AUTH_NONE;
  user_out[0] = '\0';
  LOCK();
  if (same_creds(&current, &verified)) {
    auth = AUTH_VERIFIED;
    memcpy(user_out, current.user, sizeof current.user);
  } else if (security_disabled) {
    auth = AUTH_SECURITY_DISABLED;
  }
  UNLOCK();
  return auth;
}

int state_default_timeout(void) {
  LOCK();
  int ms = default_timeout_ms;
  UNLOCK();
  return ms;
}

void state_set_default_timeout(int ms) {
  LOCK();
  default_timeout_ms = ms;
  UNLOCK();
}
