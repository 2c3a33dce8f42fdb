/*
 * packets.c — sizes and packet builders (PROTOCOL.md, "Sizes" and "Request packets"). Callers
 * read every size at run time and parse responses only at documented offsets, so this layout is
 * private to the emulator and the simulator's CHIF endpoint.
 */
#include "emulator.h"

#include <string.h>

enum {
  SERVICE_BLOBSTORE = 0x0002,
  CMD_CREATE = 0x0101,
  CMD_INFO = 0x0102,
  CMD_READ = 0x0103,
  CMD_WRITE = 0x0104,
  CMD_FINALIZE = 0x0105,
  CMD_DELETE = 0x0106,
  CMD_LIST = 0x0107,
  CMD_REST_IMMEDIATE = 0x0110,
  CMD_REST_BLOB = 0x0111,
  CMD_SECURITY_STATE = 0x0120,
  CMD_MEDIA = 0x0130, /* + n, n = the builder's place in the header's media list */
};

enum {
  NAME_LEN = 32, /* keys and namespaces: NUL-padded 32-byte fields */
  SZ_CREATE_RQ = 88,
  SZ_INFO_RQ = 84,
  SZ_DELETE_RQ = 80,
  SZ_FINALIZE_RQ = 76,
  SZ_READ_RQ = 96,
  SZ_READ_RSP = 3932,
  SZ_WRITE_RQ = 100,
  SZ_LIST_RQ = 44,
  SZ_LIST_RSP = 4096,
  SZ_RSP_HEADER_BLOB = 24,
  SZ_REST_IMMEDIATE_RQ = 80,
  SZ_REST_BLOB_RQ = 112,
  SZ_REST_RSP_FIXED = 32,
  SZ_SECURITY_STATE_RQ = 60,
  SZ_MEDIA_RQ = 16,
  SZ_SRBUF = 4096,
};

/* 2.4 Sizes */
uint32_t get_max_buffer_size(void) { return PACKET_MAX; }
uint32_t max_write_size(void) { return 3500; } /* 2·80 + 3500 − 1 ≤ 4096 (docs/reference/chif-abi.md §3.4) */
uint32_t max_read_size(void) { return 4000; }
uint32_t size_of_createRequest(void) { return SZ_CREATE_RQ; }
uint32_t size_of_infoRequest(void) { return SZ_INFO_RQ; }
uint32_t size_of_readRequest(void) { return SZ_READ_RQ; }
uint32_t size_of_readResponse(void) { return SZ_READ_RSP; }
uint32_t size_of_writeRequest(void) { return SZ_WRITE_RQ; }
uint32_t size_of_deleteRequest(void) { return SZ_DELETE_RQ; }
uint32_t size_of_finalizeRequest(void) { return SZ_FINALIZE_RQ; }
uint32_t size_of_listRequest(void) { return SZ_LIST_RQ; }
uint32_t size_of_listResponse(void) { return SZ_LIST_RSP; }
uint32_t size_of_responseHeaderBlob(void) { return SZ_RSP_HEADER_BLOB; }
uint32_t size_of_restImmediateRequest(void) { return SZ_REST_IMMEDIATE_RQ; }
uint32_t size_of_restBlobRequest(void) { return SZ_REST_BLOB_RQ; }
uint32_t size_of_restResponseFixed(void) { return SZ_REST_RSP_FIXED; }
uint32_t size_of_securityStateRequest(void) { return SZ_SECURITY_STATE_RQ; }
uint32_t size_of_embeddedMediaRequest(void) { return SZ_MEDIA_RQ; }
uint32_t size_of_createResponse(void) { return 12; }
uint32_t size_of_infoResponse(void) { return 28; }
uint32_t size_of_writeResponse(void) { return 12; }
uint32_t size_of_deleteResponse(void) { return 12; }
uint32_t size_of_finalizeResponse(void) { return 12; }
uint32_t size_of_restResponse(void) { return 4096; }
uint32_t size_of_listResponseFixed(void) { return 16; }
uint32_t size_of_securityStateResponse(void) { return 76; }
uint32_t size_of_embeddedMediaResponse(void) { return 16; }
uint32_t size_of_srbuf(void) { return SZ_SRBUF; }

/* The library-owned template: one per thread, so concurrent callers cannot overwrite each
 * other's, and valid until that thread's next builder call. Sized for the largest (srbuf). */
static _Thread_local uint8_t packet[SZ_SRBUF];

/* Zeroes `size` bytes and writes the header; `length` (u16@0) counts the payload the caller
 * appends. A length past 65535 is written as 65535, which ChifPacketExchange refuses. */
static uint8_t *begin(size_t size, uint64_t length, uint16_t command) {
  memset(packet, 0, size);
  put_u16(packet, length > 0xFFFF ? 0xFFFF : (uint16_t)length);
  put_u16(packet + 2, state_next_seq());
  put_u16(packet + 4, command);
  put_u16(packet + 6, SERVICE_BLOBSTORE);
  return packet;
}

/* A name of up to 32 bytes fills the field (NUL-padded). A longer one, like NULL, leaves it
 * empty: the simulator answers an empty key or namespace with 2 (BADPARAMETER), where a
 * truncated name could silently hit another blob. */
static void put_name(uint8_t *field, const char *name) {
  if (!name) return;
  size_t n = strnlen(name, NAME_LEN + 1);
  if (n <= NAME_LEN) memcpy(field, name, n);
}

static uint8_t *key_ns(size_t size, uint16_t command, const char *key, const char *ns) {
  uint8_t *p = begin(size, size, command);
  put_name(p + 8, key);
  put_name(p + 40, ns);
  return p;
}

static uint8_t *fragment(size_t size, uint64_t length, uint16_t command, uint32_t offset,
                         uint32_t count, const char *key, const char *ns) {
  uint8_t *p = begin(size, length, command);
  put_name(p + 8, key);
  put_name(p + 40, ns);
  put_u32(p + 72, offset);
  put_u32(p + 76, count);
  return p;
}

/* 2.5 Builders */
uint8_t *create_not_blobentry(const char *key, const char *ns) {
  return key_ns(SZ_CREATE_RQ, CMD_CREATE, key, ns);
}

/* Historic (2.0–2.1): callers copy size_of_srbuf() bytes, but the packet is a create request. */
uint8_t *create_not_blobentrybc(const char *key, const char *ns) {
  uint8_t *p = begin(SZ_SRBUF, SZ_CREATE_RQ, CMD_CREATE);
  put_name(p + 8, key);
  put_name(p + 40, ns);
  return p;
}

uint8_t *get_info(const char *key, const char *ns) { return key_ns(SZ_INFO_RQ, CMD_INFO, key, ns); }

uint8_t *read_fragment(uint32_t offset, uint32_t count, const char *key, const char *ns) {
  return fragment(SZ_READ_RQ, SZ_READ_RQ, CMD_READ, offset, count, key, ns);
}

/* The caller appends `count` data bytes at 100, in its own copy. */
uint8_t *write_fragment(uint32_t offset, uint32_t count, const char *key, const char *ns) {
  return fragment(SZ_WRITE_RQ, (uint64_t)SZ_WRITE_RQ + count, CMD_WRITE, offset, count, key, ns);
}

uint8_t *finalize_blob(const char *key, const char *ns) {
  return key_ns(SZ_FINALIZE_RQ, CMD_FINALIZE, key, ns);
}

uint8_t *delete_blob(const char *key, const char *ns) {
  return key_ns(SZ_DELETE_RQ, CMD_DELETE, key, ns);
}

uint8_t *list_blob(const char *ns) {
  uint8_t *p = begin(SZ_LIST_RQ, SZ_LIST_RQ, CMD_LIST);
  put_name(p + 8, ns);
  return p;
}

/* The caller appends `len` HTTP request bytes at 80, in its own copy. */
uint8_t *rest_immediate(uint32_t len, const char *rspKey, const char *ns) {
  uint8_t *p = begin(SZ_REST_IMMEDIATE_RQ, (uint64_t)SZ_REST_IMMEDIATE_RQ + len,
                     CMD_REST_IMMEDIATE);
  put_name(p + 8, rspKey);
  put_name(p + 40, ns);
  put_u32(p + 72, len);
  return p;
}

uint8_t *rest_immediate_blobdesc(const char *rqtKey, const char *rspKey, const char *ns) {
  uint8_t *p = begin(SZ_REST_BLOB_RQ, SZ_REST_BLOB_RQ, CMD_REST_BLOB);
  put_name(p + 8, rqtKey);
  put_name(p + 40, rspKey);
  put_name(p + 72, ns);
  return p;
}

uint8_t *get_security_state(void) {
  return begin(SZ_SECURITY_STATE_RQ, SZ_SECURITY_STATE_RQ, CMD_SECURITY_STATE);
}

static uint8_t *media(uint16_t n) { return begin(SZ_MEDIA_RQ, SZ_MEDIA_RQ, CMD_MEDIA + n); }
uint8_t *blackbox_media_mount(void) { return media(0); }
uint8_t *absaroka_media_mount(void) { return media(1); }
uint8_t *gaius_media_mount(void) { return media(2); }
uint8_t *vid_media_mount(void) { return media(3); }
uint8_t *flat_media_mount(void) { return media(4); }
uint8_t *media_unmount(void) { return media(5); }
uint8_t *bb_media_unmount(void) { return media(6); }
uint8_t *vid_media_unmount(void) { return media(7); }
uint8_t *gaius_media_unmount(void) { return media(8); }
uint8_t *absaroka_media_unmount(void) { return media(9); }
