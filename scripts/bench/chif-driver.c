/*
 * chif-driver.c: the C baseline of the in-band benchmark (scripts/bench/run.mjs, item 4).
 * Drives the CHIF library (the emulator, dist/native/libilorestchif.so) directly, as a minimal
 * C client would: ChifInitialize, ChifDisableSecurity, ChifCreate, ChifPing, then N times the
 * same REST request ilo-agent's transport sends (rest_immediate template copied, the HTTP/1.1
 * bytes appended, ChifPacketExchange, status u32@8, recvmode u32@12, inline length u32@16).
 *
 * Usage: chif-driver N WARMUP PATH [TOKEN]
 * Prints one JSON line: {"n":N,"ns":<elapsed of the N timed exchanges>,"cpuNs":<process CPU in them>,"requestBytes":..,"answerBytes":..}
 * Exit 1 with a message on stderr when any exchange fails or is not answered 200 inline.
 * Built by run.mjs: cc -O2 -I native-bindings chif-driver.c -L dist/native -lilorestchif -Wl,-rpath,...
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ilorest_chif.h"

static uint32_t u32le(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

static int64_t clock_ns(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
static int64_t now_ns(void) { return clock_ns(CLOCK_MONOTONIC); }
/* CPU time of the whole process (all threads), as process.cpuUsage() counts it on the Node side. */
static int64_t cpu_ns(void) { return clock_ns(CLOCK_PROCESS_CPUTIME_ID); }

/* HPE's keys: ten characters of [A-Za-z0-9], fresh for every request (as the transport does). */
static void fresh_key(char out[11]) {
  static const char chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  for (int i = 0; i < 10; i++) out[i] = chars[rand() % 62];
  out[10] = '\0';
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: chif-driver N WARMUP PATH [TOKEN]\n");
    return 2;
  }
  long n = strtol(argv[1], NULL, 10);
  long warmup = strtol(argv[2], NULL, 10);
  const char *path = argv[3];
  const char *token = argc > 4 ? argv[4] : NULL;

  /* The same bytes as src/transport/chif/http1.ts serializeRequest() for a GET. */
  char http[2048];
  int len = token && *token
                ? snprintf(http, sizeof http,
                           "GET %s HTTP/1.1\r\nHost: \r\nAccept-Encoding: gzip\r\nX-Auth-Token: %s\r\nOData-Version: 4.0\r\nAccept: */*\r\nConnection: Keep-Alive\r\n\r\n",
                           path, token)
                : snprintf(http, sizeof http,
                           "GET %s HTTP/1.1\r\nHost: \r\nAccept-Encoding: gzip\r\nOData-Version: 4.0\r\nAccept: */*\r\nConnection: Keep-Alive\r\n\r\n",
                           path);
  if (len <= 0 || (size_t)len >= sizeof http) return 2;

  srand((unsigned)now_ns());
  ChifInitialize(NULL);
  ChifDisableSecurity();
  CHIF_HANDLE handle = NULL;
  uint32_t rc = ChifCreate(&handle);
  if (rc != 0) {
    fprintf(stderr, "chif-driver: ChifCreate failed: %u\n", rc);
    return 1;
  }
  rc = ChifPing(handle);
  if (rc != 0) {
    fprintf(stderr, "chif-driver: ChifPing failed: %u\n", rc);
    return 1;
  }
  ChifSetRecvTimeout(handle, 60000);

  const uint32_t fixed = size_of_restImmediateRequest();
  const uint32_t answer_at = size_of_restResponseFixed();
  const uint32_t max_buffer = get_max_buffer_size();
  if (fixed + (uint32_t)len >= fixed + max_write_size()) {
    fprintf(stderr, "chif-driver: request does not fit one packet\n");
    return 1;
  }
  uint8_t *send = malloc(fixed + (size_t)len);
  uint8_t *recv = malloc(max_buffer);
  if (!send || !recv) return 1;

  uint32_t last_length = 0;
  int64_t started = 0;
  int64_t cpu_started = 0;
  for (long i = 0; i < warmup + n; i++) {
    if (i == warmup) {
      started = now_ns();
      cpu_started = cpu_ns();
    }
    char key[11];
    fresh_key(key);
    const uint8_t *template = rest_immediate((uint32_t)len, key, "volatile");
    if (!template) {
      fprintf(stderr, "chif-driver: rest_immediate returned NULL\n");
      return 1;
    }
    memcpy(send, template, fixed);
    memcpy(send + fixed, http, (size_t)len);
    rc = ChifPacketExchange(handle, send, recv, (int)max_buffer);
    if (rc != 0) {
      fprintf(stderr, "chif-driver: ChifPacketExchange failed: %u\n", rc);
      return 1;
    }
    uint32_t status = u32le(recv + 8);
    uint32_t mode = u32le(recv + 12);
    last_length = u32le(recv + 16);
    if (status != 0 || mode != 0 || answer_at + last_length > max_buffer || last_length < 12 ||
        memcmp(recv + answer_at, "HTTP/1.1 200", 12) != 0) {
      fprintf(stderr, "chif-driver: unexpected answer (status %u, recvmode %u, length %u)\n", status, mode, last_length);
      return 1;
    }
  }
  int64_t elapsed = now_ns() - started;
  int64_t cpu = cpu_ns() - cpu_started;
  ChifClose(handle);
  printf("{\"n\":%ld,\"ns\":%lld,\"cpuNs\":%lld,\"requestBytes\":%d,\"answerBytes\":%u}\n", n, (long long)elapsed, (long long)cpu, len, last_length);
  free(send);
  free(recv);
  return 0;
}
