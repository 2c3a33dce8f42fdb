/*
 * appaccount.c — the iLO 7 application-account functions of ilorest_chif.h (docs/reference/ilo7-inband.md §2.2), with the
 * prototypes and return codes of HPE's library as its own Python and C callers use them
 * (python-ilorest-library vnichpilo.py, python-redfish-utility genapptoken.c). Each forwards one
 * frame to the simulator (PROTOCOL.md, "App-account ops"), which keeps the TPM store and the
 * sessions; nothing here keeps state.
 *
 * Returned strings and arrays are allocated per call and never freed by the library: HPE's
 * callers never free what it returns (there is no free function), so neither may ours.
 */
#include "emulator.h"

#include <stdlib.h>
#include <string.h>

#define APP_STR_MAX 4096      /* longer inputs are cut (no HPE input comes near it) */
#define NULL_STR 0xffff       /* the wire's NULL string */
#define ANSWER_SMALL 8192     /* token + location, one id, one address */
#define ANSWER_LIST (1 << 20) /* CompareAppIds */

/* The library's own codes (vnichpilo.py). */
#define RC_FAILED (-1)
#define RC_INVALID_PARAMETERS (-2)
#define ILO_TYPE_NO_DRIVER 100

static size_t put_str(uint8_t *p, const char *s) {
  if (!s) {
    put_u16(p, NULL_STR);
    return 2;
  }
  size_t n = strnlen(s, APP_STR_MAX);
  put_u16(p, (uint16_t)n);
  memcpy(p + 2, s, n);
  return 2 + n;
}

/* Sends op with up to 5 strings; *rc is the function's answer. Non-zero: the simulator could
 * not be reached or answered garbage (the caller answers its own failure code). */
static uint32_t app_call(uint8_t op, const char *const *args, int nargs, int32_t *rc,
                         uint8_t *data, size_t cap, size_t *got) {
  uint8_t payload[5 * (2 + APP_STR_MAX)];
  size_t n = 0;
  for (int i = 0; i < nargs && i < 5; i++) n += put_str(payload + n, args[i]);
  uint32_t value = 0;
  size_t ignored;
  uint32_t e = channel_call_n(op, payload, n, NULL, 0, state_default_timeout(), &value, data, cap,
                              got ? got : &ignored);
  secure_wipe(payload, n); /* passwords travel here */
  *rc = (int32_t)value;
  return e;
}

static int32_t get_i32(const uint8_t *data, size_t got, size_t *at) {
  if (*at + 4 > got) {
    *at = got;
    return 0;
  }
  int32_t v = (int32_t)get_u32(data + *at);
  *at += 4;
  return v;
}

static uint8_t get_u8(const uint8_t *data, size_t got, size_t *at) {
  return *at < got ? data[(*at)++] : 0;
}

/* A malloc'd copy of the string at *at, or NULL for the NULL marker or a short answer. */
static char *get_str(const uint8_t *data, size_t got, size_t *at) {
  if (*at + 2 > got) return NULL;
  uint16_t n = get_u16(data + *at);
  *at += 2;
  if (n == NULL_STR) return NULL;
  if (*at + n > got) {
    *at = got;
    return NULL;
  }
  char *s = malloc((size_t)n + 1);
  if (s) {
    memcpy(s, data + *at, n);
    s[n] = '\0';
  }
  *at += n;
  return s;
}

/* 0 → type 5/6/7 and the security state; -1 with type 100: no iLO driver (here: no simulator);
 * -50 with type 101: iLO 7 with the vNIC disabled; -2: invalid parameters or unknown appid. */
int DetectILO(const char *appid, int *iloType, int *securityState) {
  if (!iloType || !securityState) return RC_INVALID_PARAMETERS;
  uint8_t data[8];
  size_t got = 0, at = 0;
  int32_t rc;
  if (app_call(OP_APP_DETECT, &appid, 1, &rc, data, sizeof data, &got)) {
    *iloType = ILO_TYPE_NO_DRIVER;
    *securityState = 0;
    return RC_FAILED;
  }
  *iloType = get_i32(data, got, &at);
  *securityState = get_i32(data, got, &at);
  return rc;
}

/* 0: the vNIC is up. */
int ReadyToUse(void) {
  int32_t rc;
  return app_call(OP_APP_READY, NULL, 0, &rc, NULL, 0, NULL) ? RC_FAILED : rc;
}

int AppIdExistsinTPM(const char *appid, bool *exists) {
  if (!exists) return RC_INVALID_PARAMETERS;
  *exists = false;
  uint8_t data[1];
  size_t got = 0, at = 0;
  int32_t rc;
  if (app_call(OP_APP_EXISTS, &appid, 1, &rc, data, sizeof data, &got)) return RC_FAILED;
  *exists = get_u8(data, got, &at) != 0;
  return rc;
}

/* Declared with ownerAuth (ilorest 7.x passes 6 arguments) but never reads it: a 6.3 caller
 * passes 5, and the sixth argument register then holds whatever it held. */
int GenerateAppToken(const char *appid, const char *appname, const char *salt, const char *user,
                     const char *password, const char *ownerAuth) {
  (void)ownerAuth;
  const char *args[] = {appid, appname, salt, user, password};
  int32_t rc;
  return app_call(OP_APP_GENERATE, args, 5, &rc, NULL, 0, NULL) ? RC_FAILED : rc;
}

int ReactivateAppToken(const char *appid, const char *appname, const char *salt, const char *user,
                       const char *password, const char *ownerAuth) {
  (void)ownerAuth;
  const char *args[] = {appid, appname, salt, user, password};
  int32_t rc;
  return app_call(OP_APP_REACTIVATE, args, 5, &rc, NULL, 0, NULL) ? RC_FAILED : rc;
}

int DeleteAppToken(const char *appid, const char *appname, const char *salt) {
  const char *args[] = {appid, appname, salt};
  int32_t rc;
  return app_call(OP_APP_DELETE, args, 3, &rc, NULL, 0, NULL) ? RC_FAILED : rc;
}

int DeleteAppTokenUsingCreds(const char *appid, const char *user, const char *password) {
  const char *args[] = {appid, user, password};
  int32_t rc;
  return app_call(OP_APP_DELETE_CREDS, args, 3, &rc, NULL, 0, NULL) ? RC_FAILED : rc;
}

/* 0 → a session token and the session's absolute URL (as ilorest slices it); 2: inactive token.
 * 0 with NULL outputs happens (TPM contention): callers check. */
int GetSessionID(const char *appid, const char *appname, const char *salt, char **sessionId,
                 char **sessionLocation) {
  if (!sessionId || !sessionLocation) return RC_INVALID_PARAMETERS;
  *sessionId = NULL;
  *sessionLocation = NULL;
  const char *args[] = {appid, appname, salt};
  uint8_t data[ANSWER_SMALL];
  size_t got = 0, at = 0;
  int32_t rc;
  if (app_call(OP_APP_SESSION, args, 3, &rc, data, sizeof data, &got)) return RC_FAILED;
  *sessionId = get_str(data, got, &at);
  *sessionLocation = get_str(data, got, &at);
  secure_wipe(data, sizeof data); /* the token */
  return rc;
}

/* A 4-digit id → the full id of the one TPM entry ending with it. */
int ExpandAppid(const char *appid4, char **expanded) {
  if (!expanded) return RC_INVALID_PARAMETERS;
  *expanded = NULL;
  uint8_t data[ANSWER_SMALL];
  size_t got = 0, at = 0;
  int32_t rc;
  if (app_call(OP_APP_EXPAND, &appid4, 1, &rc, data, sizeof data, &got)) return RC_FAILED;
  *expanded = get_str(data, got, &at);
  return rc;
}

/* The vNIC address as a wide string, in a per-thread buffer; the documented default when no
 * simulator answers. */
wchar_t *GetIPAddress(void) {
  static _Thread_local wchar_t address[64];
  const char *text = "16.1.15.1";
  uint8_t data[ANSWER_SMALL];
  size_t got = 0, at = 0;
  int32_t rc;
  char *answered = NULL;
  if (!app_call(OP_APP_ADDRESS, NULL, 0, &rc, data, sizeof data, &got) && rc == 0) {
    answered = get_str(data, got, &at);
    if (answered) text = answered;
  }
  size_t i = 0;
  for (; text[i] && i < sizeof address / sizeof *address - 1; i++) address[i] = (wchar_t)(unsigned char)text[i];
  address[i] = L'\0';
  free(answered);
  return address;
}

/* count entries: id, name, in TPM, in iLO. -8: no app accounts (count 0, NULL arrays). */
int CompareAppIds(const char *appid, const char *appname, const char *salt, char ***ids,
                  char ***names, int *count, uint8_t **inTpm, uint8_t **inIlo) {
  if (!ids || !names || !count || !inTpm || !inIlo) return RC_INVALID_PARAMETERS;
  *ids = NULL;
  *names = NULL;
  *count = 0;
  *inTpm = NULL;
  *inIlo = NULL;
  const char *args[] = {appid, appname, salt};
  uint8_t *data = malloc(ANSWER_LIST);
  if (!data) return RC_FAILED;
  size_t got = 0, at = 0;
  int32_t rc;
  if (app_call(OP_APP_COMPARE, args, 3, &rc, data, ANSWER_LIST, &got)) {
    free(data);
    return RC_FAILED;
  }
  int32_t n = get_i32(data, got, &at);
  if (rc == 0 && n > 0 && n < 100000) {
    char **id_list = calloc((size_t)n, sizeof *id_list);
    char **name_list = calloc((size_t)n, sizeof *name_list);
    uint8_t *tpm = calloc((size_t)n, 1);
    uint8_t *ilo = calloc((size_t)n, 1);
    if (!id_list || !name_list || !tpm || !ilo) {
      free(id_list), free(name_list), free(tpm), free(ilo), free(data);
      return RC_FAILED;
    }
    for (int32_t i = 0; i < n; i++) {
      id_list[i] = get_str(data, got, &at);
      name_list[i] = get_str(data, got, &at);
      tpm[i] = get_u8(data, got, &at);
      ilo[i] = get_u8(data, got, &at);
    }
    *ids = id_list;
    *names = name_list;
    *inTpm = tpm;
    *inIlo = ilo;
    *count = n;
  }
  free(data);
  return rc;
}
