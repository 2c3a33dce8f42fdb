/*
 * state.c — the library's global state. HPE's clients keep none of it per handle: they disable
 * security or store credentials through one dlopen and exchange packets through another
 * (docs/reference/chif-abi.md §1.3, §3.8, §5.2), so it lives here, behind one mutex, for the life of the
 * process (the library is linked -z nodelete, so dlclose never resets it).
 */
#include "emulator.h"

#include <pthread.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
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
  pthread_mutex_lock(&lock);
  if (!seeded) {
    next_seq = (uint16_t)((unsigned)getpid() ^ (unsigned)time(NULL));
    seeded = true;
  }
  if (next_seq == 0) next_seq = 1;
  uint16_t seq = next_seq++;
  pthread_mutex_unlock(&lock);
  return seq;
}

void state_seed(uint16_t value) {
  pthread_mutex_lock(&lock);
  next_seq = value;
  seeded = true;
  pthread_mutex_unlock(&lock);
}

void state_set_security_disabled(bool disabled) {
  pthread_mutex_lock(&lock);
  security_disabled = disabled;
  pthread_mutex_unlock(&lock);
}

void state_set_credentials(const char *user, const char *password) {
  pthread_mutex_lock(&lock);
  set_creds(&current, user, password);
  pthread_mutex_unlock(&lock);
}

void state_clear_credentials(void) {
  pthread_mutex_lock(&lock);
  secure_wipe(&current, sizeof current);
  pthread_mutex_unlock(&lock);
}

void state_get_credentials(struct chif_creds *out) {
  pthread_mutex_lock(&lock);
  *out = current;
  pthread_mutex_unlock(&lock);
}

/* Remembers the pair that was actually verified (not whatever is current by the time the
 * answer arrives). Re-storing the same pair later — as LIB-NEW does after every ChifInitialize —
 * counts as verified again; any failed verification forgets the earlier success. */
void state_set_verified(const struct chif_creds *creds, bool ok) {
  pthread_mutex_lock(&lock);
  if (ok)
    verified = *creds;
  else
    secure_wipe(&verified, sizeof verified);
  pthread_mutex_unlock(&lock);
}

/* The auth byte of the next EXCHANGE: verified credentials win over the disabled flag, since
 * they are also accepted in high-security states. */
int state_auth(char user_out[CRED_MAX + 1]) {
  int auth = AUTH_NONE;
  user_out[0] = '\0';
  pthread_mutex_lock(&lock);
  if (same_creds(&current, &verified)) {
    auth = AUTH_VERIFIED;
    memcpy(user_out, current.user, sizeof current.user);
  } else if (security_disabled) {
    auth = AUTH_SECURITY_DISABLED;
  }
  pthread_mutex_unlock(&lock);
  return auth;
}

int state_default_timeout(void) {
  pthread_mutex_lock(&lock);
  int ms = default_timeout_ms;
  pthread_mutex_unlock(&lock);
  return ms;
}

void state_set_default_timeout(int ms) {
  pthread_mutex_lock(&lock);
  default_timeout_ms = ms;
  pthread_mutex_unlock(&lock);
}
