/*
 * channel.c — the wire to the simulator (PROTOCOL.md, "Emulator ↔ simulator"): one connection
 * per forwarded call, one frame each way, then close. A frame is u32 length (LE, of what
 * follows), u8 op, payload. The connection is a Unix socket ($ILO_CHIF_EMULATOR_SOCKET) or, on
 * Windows (which has no Unix socket to rely on) and wherever $ILO_CHIF_EMULATOR_TCP is set,
 * loopback TCP opened by a frame carrying $ILO_CHIF_EMULATOR_SECRET. Every failure becomes a
 * status code: nothing here may crash, hang past the deadline, or raise SIGPIPE in the host
 * process.
 */
#include "emulator.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#ifdef _WIN32
#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>
typedef SOCKET sock_t;
#define BAD_SOCKET INVALID_SOCKET
#define close_socket closesocket
#define SEND_FLAGS 0
#define LAST_ERROR() WSAGetLastError()
#define WOULD_BLOCK(e) ((e) == WSAEWOULDBLOCK)
#define INTERRUPTED(e) ((e) == WSAEINTR)
#else
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
typedef int sock_t;
#define BAD_SOCKET (-1)
#define close_socket close
#ifdef MSG_NOSIGNAL
#define SEND_FLAGS MSG_NOSIGNAL
#else
#define SEND_FLAGS 0 /* platforms without it use SO_NOSIGPIPE below */
#endif
#define LAST_ERROR() errno
#define WOULD_BLOCK(e) ((e) == EAGAIN || (e) == EWOULDBLOCK || (e) == EINPROGRESS)
#define INTERRUPTED(e) ((e) == EINTR)
#endif

#define NO_DEADLINE (-1)
#define SECRET_MAX 1024

static int64_t now_ms(void) {
#ifdef _WIN32
  return (int64_t)GetTickCount64();
#else
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
#endif
}

/* Milliseconds left: -1 waits forever, 0 means the deadline has passed. */
static int remaining(int64_t deadline) {
  if (deadline == NO_DEADLINE) return -1;
  int64_t left = deadline - now_ms();
  return left <= 0 ? 0 : left > INT_MAX ? INT_MAX : (int)left;
}

/* Waits until the socket can be read (or written) or the deadline passes: 1 ready (an error
 * counts: the next call reports it), 0 timed out, -1 failed. */
static int wait_ready(sock_t s, bool for_write, int64_t deadline) {
  for (;;) {
    int ms = remaining(deadline);
#ifdef _WIN32
    /* select, not WSAPoll: WSAPoll misses failed connects on older Windows. */
    fd_set set, failed;
    FD_ZERO(&set);
    FD_ZERO(&failed);
    FD_SET(s, &set);
    FD_SET(s, &failed);
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
    int r = select(0, for_write ? NULL : &set, for_write ? &set : NULL, &failed, ms < 0 ? NULL : &tv);
#else
    struct pollfd pfd = {.fd = s, .events = for_write ? POLLOUT : POLLIN};
    int r = poll(&pfd, 1, ms);
#endif
    if (r < 0 && INTERRUPTED(LAST_ERROR())) continue;
    return r < 0 ? -1 : r > 0 ? 1 : 0;
  }
}

/* Bounds a blocking send (a full peer buffer, or a Unix listener's full backlog) by the deadline. */
static void send_timeout(sock_t s, int64_t deadline) {
  int ms = remaining(deadline);
  if (ms < 0) return;
  if (ms == 0) ms = 1; /* zero would mean "forever" */
#ifdef _WIN32
  DWORD value = (DWORD)ms;
  setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, (const char *)&value, sizeof value);
#else
  struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
  setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
#endif
}

#ifdef _WIN32
static INIT_ONCE winsock_once = INIT_ONCE_STATIC_INIT;
static bool winsock_ready;
static BOOL CALLBACK start_winsock(PINIT_ONCE once, PVOID parameter, PVOID *context) {
  (void)once, (void)parameter, (void)context;
  WSADATA data;
  winsock_ready = WSAStartup(MAKEWORD(2, 2), &data) == 0; /* never cleaned up: the DLL is pinned */
  return TRUE;
}

static bool set_blocking(sock_t s, bool blocking) {
  u_long nonblocking = blocking ? 0 : 1;
  return ioctlsocket(s, FIONBIO, &nonblocking) == 0;
}
#else
static bool set_blocking(sock_t s, bool blocking) {
  int flags = fcntl(s, F_GETFL);
  return flags >= 0 && fcntl(s, F_SETFL, blocking ? flags & ~O_NONBLOCK : flags | O_NONBLOCK) == 0;
}
#endif

static sock_t new_socket(int family) {
#ifdef _WIN32
  InitOnceExecuteOnce(&winsock_once, start_winsock, NULL, NULL);
  if (!winsock_ready) return BAD_SOCKET;
  sock_t s = socket(family, SOCK_STREAM, 0);
  /* Child processes (the agent's guardian) must not inherit it. */
  if (s != BAD_SOCKET) SetHandleInformation((HANDLE)s, HANDLE_FLAG_INHERIT, 0);
#else
  sock_t s = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
#ifdef SO_NOSIGPIPE
  int one = 1;
  if (s != BAD_SOCKET) setsockopt(s, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one);
#endif
#endif
  return s;
}

#ifndef _WIN32
/* $ILO_CHIF_EMULATOR_SOCKET. No socket, no listener: "no driver". */
static uint32_t open_unix(const char *path, int64_t deadline, sock_t *out) {
  struct sockaddr_un addr;
  if (strlen(path) >= sizeof addr.sun_path) return ST_NODEV;
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  memcpy(addr.sun_path, path, strlen(path));

  sock_t s = new_socket(AF_UNIX);
  if (s == BAD_SOCKET) return ST_IO;
  /* A Unix connect blocks while the listener's backlog is full: SO_SNDTIMEO bounds it. */
  send_timeout(s, deadline);
  while (connect(s, (struct sockaddr *)&addr, sizeof addr) < 0) {
    if (errno == EINTR) continue;
    if (errno == EISCONN) break; /* an interrupted connect that completed meanwhile */
    int e = errno;
    close(s);
    if (e == EACCES || e == EPERM) return ST_ACCES;
    if (e == EAGAIN || e == EINPROGRESS) return ST_TIMEDOUT;
    return ST_NODEV;
  }
  *out = s;
  return 0;
}
#endif

/* "127.x.y.z:port" into addr; anything else (another host included: the secret travels in
 * clear) is refused. */
static bool loopback_address(const char *text, struct sockaddr_in *addr) {
  const char *colon = strrchr(text, ':');
  char host[16];
  if (!colon || colon == text || (size_t)(colon - text) >= sizeof host) return false;
  memcpy(host, text, (size_t)(colon - text));
  host[colon - text] = '\0';
  char *end;
  long port = strtol(colon + 1, &end, 10);
  if (*end || end == colon + 1 || port < 1 || port > 65535) return false;
  memset(addr, 0, sizeof *addr);
  addr->sin_family = AF_INET;
  addr->sin_port = htons((uint16_t)port);
  if (inet_pton(AF_INET, host, &addr->sin_addr) != 1) return false;
  return (ntohl(addr->sin_addr.s_addr) >> 24) == 127;
}

static uint32_t send_all(sock_t s, const uint8_t *p, size_t n);

/* $ILO_CHIF_EMULATOR_TCP, then the secret frame. Nobody listening: "no driver". */
static uint32_t open_tcp(const char *address, int64_t deadline, sock_t *out) {
  struct sockaddr_in addr;
  if (!loopback_address(address, &addr)) return ST_NODEV;
  sock_t s = new_socket(AF_INET);
  if (s == BAD_SOCKET) return ST_IO;
  int one = 1; /* small frames, sent in pieces: no Nagle delay */
  setsockopt(s, IPPROTO_TCP, TCP_NODELAY, (const char *)&one, sizeof one);
  /* Non-blocking connect, so that the deadline bounds it too. */
  uint32_t rc = 0;
  if (!set_blocking(s, false)) rc = ST_IO;
  if (!rc && connect(s, (struct sockaddr *)&addr, sizeof addr) != 0) {
    int e = LAST_ERROR();
    if (!WOULD_BLOCK(e)) {
      rc = ST_NODEV;
    } else {
      int ready = wait_ready(s, true, deadline);
      int error = 0;
      socklen_t len = sizeof error;
      if (ready == 0)
        rc = ST_TIMEDOUT;
      else if (ready < 0 || getsockopt(s, SOL_SOCKET, SO_ERROR, (char *)&error, &len) != 0)
        rc = ST_IO;
      else if (error != 0)
        rc = ST_NODEV;
    }
  }
  if (!rc && !set_blocking(s, true)) rc = ST_IO;
  if (!rc) {
    send_timeout(s, deadline);
    const char *secret = getenv(ENV_SECRET);
    size_t n = secret ? strnlen(secret, SECRET_MAX) : 0;
    uint8_t head[5];
    put_u32(head, (uint32_t)(1 + n));
    head[4] = OP_SECRET;
    rc = send_all(s, head, sizeof head);
    if (!rc && n) rc = send_all(s, (const uint8_t *)secret, n);
  }
  if (rc) {
    close_socket(s);
    return rc;
  }
  *out = s;
  return 0;
}

/* Read per call: tests and tools change the variables at run time. */
static uint32_t open_channel(int64_t deadline, sock_t *out) {
  const char *address = getenv(ENV_TCP);
  if (address && *address) return open_tcp(address, deadline, out);
#ifdef _WIN32
  return ST_NODEV;
#else
  const char *path = getenv(ENV_SOCKET);
  if (!path || !*path) return ST_NODEV;
  return open_unix(path, deadline, out);
#endif
}

static uint32_t send_all(sock_t s, const uint8_t *p, size_t n) {
  while (n > 0) {
    int chunk = n > INT_MAX ? INT_MAX : (int)n;
    int k = (int)send(s, (const char *)p, chunk, SEND_FLAGS);
    if (k < 0) {
      int e = LAST_ERROR();
      if (INTERRUPTED(e)) continue;
#ifdef _WIN32
      return e == WSAETIMEDOUT ? ST_TIMEDOUT : ST_IO;
#else
      return e == EAGAIN || e == EWOULDBLOCK ? ST_TIMEDOUT : ST_IO;
#endif
    }
    p += k;
    n -= (size_t)k;
  }
  return 0;
}

/* Reads exactly n bytes before the deadline; a peer that closes early is a garbled answer. */
static uint32_t recv_all(sock_t s, uint8_t *p, size_t n, int64_t deadline) {
  while (n > 0) {
    int r = wait_ready(s, false, deadline);
    if (r < 0) return ST_IO;
    if (r == 0) return ST_TIMEDOUT;
    int chunk = n > INT_MAX ? INT_MAX : (int)n;
    int k = (int)recv(s, (char *)p, chunk, 0);
    if (k < 0) {
      int e = LAST_ERROR();
      if (INTERRUPTED(e) || WOULD_BLOCK(e)) continue;
      return ST_IO;
    }
    if (k == 0) return ST_IO;
    p += k;
    n -= (size_t)k;
  }
  return 0;
}

/* The answer frame: u32 length, u8 op (the request's echoed, or OP_SECRET when the simulator
 * refused the secret), a 4-byte value (rc, or "required" for SECURITY), then for EXCHANGE the
 * response packet. Only the first data_cap bytes of the packet are read; the rest is dropped
 * with the connection. */
static uint32_t read_answer(sock_t s, int64_t deadline, uint32_t *value, uint8_t *data,
                            size_t data_cap, size_t *data_len) {
  uint8_t head[5];
  uint32_t rc = recv_all(s, head, sizeof head, deadline);
  if (rc) return rc;
  uint32_t length = get_u32(head);
  if (head[4] == OP_SECRET) return ST_ACCES;
  if (length < 1 + 4) return ST_IO; /* no room for the value */
  uint8_t v[4];
  if ((rc = recv_all(s, v, sizeof v, deadline))) return rc;
  size_t rest = length - 5;
  size_t take = rest < data_cap ? rest : data_cap;
  if ((rc = recv_all(s, data, take, deadline))) return rc;
  *value = get_u32(v);
  if (data_len) *data_len = take;
  return 0;
}

uint32_t channel_call(uint8_t op, const uint8_t *head, size_t head_len, const uint8_t *body,
                      size_t body_len, int timeout_ms, uint32_t *value, uint8_t *data,
                      size_t data_cap) {
  return channel_call_n(op, head, head_len, body, body_len, timeout_ms, value, data, data_cap,
                        NULL);
}

uint32_t channel_call_n(uint8_t op, const uint8_t *head, size_t head_len, const uint8_t *body,
                        size_t body_len, int timeout_ms, uint32_t *value, uint8_t *data,
                        size_t data_cap, size_t *data_len) {
  if (data_len) *data_len = 0;
  int64_t deadline = timeout_ms > 0 ? now_ms() + timeout_ms : NO_DEADLINE;
  uint8_t frame[5];
  put_u32(frame, (uint32_t)(1 + head_len + body_len));
  frame[4] = op;

  sock_t s;
  uint32_t rc = open_channel(deadline, &s);
  if (rc) return rc;
  rc = send_all(s, frame, sizeof frame);
  if (!rc && head_len) rc = send_all(s, head, head_len);
  if (!rc && body_len) rc = send_all(s, body, body_len);
  if (!rc) rc = read_answer(s, deadline, value, data, data_cap, data_len);
  close_socket(s);
  return rc;
}
