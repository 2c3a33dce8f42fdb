/*
 * base64.c — encode_credentials / decode_credentials. HPE's CLI uses the encoded form as an
 * HTTP Basic credential, so it is plain base64 (docs/reference/chif-abi.md §2.3). The caller's buffer is at
 * least 128 bytes and no size is passed: output is cut to fit and always NUL-terminated.
 */
#include "emulator.h"

#include <string.h>

#define OUT_MAX 127 /* characters, plus the NUL */

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Encodes whole 3-byte groups while they fit, so a cut output is still valid base64. */
void encode_credentials(const char *in, char *out) {
  if (!out) return;
  size_t o = 0;
  const unsigned char *s = (const unsigned char *)(in ? in : "");
  size_t n = strlen((const char *)s);
  for (size_t i = 0; i < n && o + 4 <= OUT_MAX; i += 3) {
    size_t left = n - i;
    uint32_t group = (uint32_t)s[i] << 16 | (left > 1 ? (uint32_t)s[i + 1] << 8 : 0) |
                     (left > 2 ? s[i + 2] : 0);
    out[o++] = alphabet[group >> 18 & 63];
    out[o++] = alphabet[group >> 12 & 63];
    out[o++] = left > 1 ? alphabet[group >> 6 & 63] : '=';
    out[o++] = left > 2 ? alphabet[group & 63] : '=';
  }
  out[o] = '\0';
}

static int sextet(unsigned char c) {
  const char *p = c ? strchr(alphabet, c) : NULL;
  return p ? (int)(p - alphabet) : -1;
}

/* Skips whitespace; stops at '=', at the first other non-base64 character, or when full. */
void decode_credentials(const char *in, char *out) {
  if (!out) return;
  size_t o = 0;
  uint32_t bits = 0, nbits = 0;
  for (const unsigned char *p = (const unsigned char *)(in ? in : ""); *p && *p != '='; p++) {
    int v = sextet(*p);
    if (v < 0) {
      if (strchr(" \t\r\n", *p)) continue;
      break;
    }
    bits = (bits << 6 | (uint32_t)v) & 0xFFFF; /* never more than 14 bits are pending */
    nbits += 6;
    if (nbits >= 8) {
      if (o == OUT_MAX) break;
      nbits -= 8;
      out[o++] = (char)(bits >> nbits & 0xFF);
    }
  }
  out[o] = '\0';
}
