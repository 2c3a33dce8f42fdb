/*
 * emulator.h — what the emulator's files share. The ABI itself is ../ilorest_chif.h; everything
 * declared here is internal (the build uses -fvisibility=hidden, so only CHIF_API symbols leave
 * the library). Wire layouts are those of ../PROTOCOL.md.
 */
#ifndef CHIF_EMULATOR_H
#define CHIF_EMULATOR_H

/* -std=c11 hides POSIX; every .c file includes this header first. */
#define _DEFAULT_SOURCE
#ifdef _WIN32
#define WIN32_LEAN_AND_MEAN
#define _WIN32_WINNT 0x0600 /* Vista: SRWLOCK, InitOnce */
#endif

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ilorest_chif.h"

/* Environment: where the simulator listens (a Unix socket, or loopback TCP with a per-run
 * secret: the only way on Windows), and whether ChifInitialize forgets credentials
 * (library builds differ, docs/reference/chif-abi.md §5.2; the default keeps them). */
#define ENV_SOCKET "ILO_CHIF_EMULATOR_SOCKET"
#define ENV_TCP "ILO_CHIF_EMULATOR_TCP"       /* 127.x.y.z:port; wins over ENV_SOCKET */
#define ENV_SECRET "ILO_CHIF_EMULATOR_SECRET" /* sent as the first frame of a TCP connection */
#define ENV_INIT_CLEARS_CREDENTIALS "ILO_CHIF_EMULATOR_INIT_CLEARS_CREDENTIALS"

#define PACKET_MIN 8            /* the 8-byte header */
#define PACKET_MAX 4096         /* one hpilo packet slot = get_max_buffer_size() */
#define CRED_MAX 255            /* longer user names / passwords are truncated */
#define DEFAULT_TIMEOUT_MS 60000

/* Frame ops (PROTOCOL.md, "Emulator ↔ simulator"). OP_SECRET opens every TCP connection. */
enum { OP_PING = 1, OP_CREATE = 2, OP_SECURITY = 3, OP_VERIFY = 4, OP_EXCHANGE = 5, OP_CLOSE = 6, OP_SECRET = 7 };
/* App-account ops (PROTOCOL.md, "App-account ops"): strings are u16 n + bytes, 0xFFFF = NULL. */
enum {
  OP_APP_DETECT = 16,
  OP_APP_READY = 17,
  OP_APP_EXISTS = 18,
  OP_APP_GENERATE = 19,
  OP_APP_REACTIVATE = 20,
  OP_APP_DELETE = 21,
  OP_APP_DELETE_CREDS = 22,
  OP_APP_SESSION = 23,
  OP_APP_EXPAND = 24,
  OP_APP_ADDRESS = 25,
  OP_APP_COMPARE = 26,
};

/* Auth byte of an EXCHANGE frame. */
enum { AUTH_NONE = 0, AUTH_SECURITY_DISABLED = 1, AUTH_VERIFIED = 2 };

/* The emulator's statuses are Linux errno values, whatever the platform, so that the wire and
 * the simulator speak one set; chif_status() gives a Chif* function's answer in the platform's
 * terms (Windows: 2 and 5 for "no driver" and "access denied", docs/reference/chif-abi.md §4.2). */
enum { ST_IO = 5, ST_NOMEM = 12, ST_ACCES = 13, ST_NODEV = 19, ST_INVAL = 22, ST_TIMEDOUT = 110 };
static inline uint32_t chif_status(uint32_t status) {
#ifdef _WIN32
  if (status == ST_NODEV) return 2;  /* ERROR_FILE_NOT_FOUND */
  if (status == ST_ACCES) return 5;  /* ERROR_ACCESS_DENIED */
#endif
  return status;
}

static inline void put_u16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void put_u32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static inline uint16_t get_u16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline uint32_t get_u32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* state.c — library-global state (one mutex). */
struct chif_creds {
  bool set;
  char user[CRED_MAX + 1];
  char password[CRED_MAX + 1];
};
void secure_wipe(void *p, size_t n);
uint16_t state_next_seq(void);
void state_seed(uint16_t value);
void state_set_security_disabled(bool disabled);
void state_set_credentials(const char *user, const char *password);
void state_clear_credentials(void);
void state_get_credentials(struct chif_creds *out);
void state_set_verified(const struct chif_creds *creds, bool ok);
int state_auth(char user_out[CRED_MAX + 1]);
int state_default_timeout(void);
void state_set_default_timeout(int ms);

/* channel.c — one frame to the simulator and one back. Sends op + head + body; reads the
 * answer's leading 4-byte value into *value and up to data_cap following bytes into data.
 * Returns 0 or a status: ST_NODEV no listener, ST_ACCES (also a refused secret), ST_TIMEDOUT,
 * ST_IO garbled. */
uint32_t channel_call(uint8_t op, const uint8_t *head, size_t head_len, const uint8_t *body,
                      size_t body_len, int timeout_ms, uint32_t *value, uint8_t *data,
                      size_t data_cap);
/* The same, telling in *data_len how many answer bytes (after the value) landed in data. */
uint32_t channel_call_n(uint8_t op, const uint8_t *head, size_t head_len, const uint8_t *body,
                        size_t body_len, int timeout_ms, uint32_t *value, uint8_t *data,
                        size_t data_cap, size_t *data_len);

#endif /* CHIF_EMULATOR_H */
