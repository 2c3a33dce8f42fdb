/*
 * channel.c — the wire to the simulator (PROTOCOL.md, "Emulator ↔ simulator"): one Unix-socket
 * connection per forwarded call, one frame each way, then close. A frame is u32 length (LE, of
 * what follows), u8 op, payload. Every failure becomes a status code: nothing here may crash,
 * hang past the deadline, or raise SIGPIPE in the host process.
 */
#include "emulator.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0 /* platforms without it use SO_NOSIGPIPE below */
#endif

#define NO_DEADLINE (-1)

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Milliseconds left for poll(): -1 waits forever, 0 means the deadline has passed. */
static int remaining(int64_t deadline) {
  if (deadline == NO_DEADLINE) return -1;
  int64_t left = deadline - now_ms();
  return left <= 0 ? 0 : left > INT_MAX ? INT_MAX : (int)left;
}

/* Connects to $ILO_CHIF_EMULATOR_SOCKET. No variable, no socket, no listener: "no driver". */
static uint32_t open_channel(int64_t deadline, int *fd_out) {
  const char *path = getenv(ENV_SOCKET); /* read per call: tests and tools change it at run time */
  struct sockaddr_un addr;
  if (!path || !*path || strlen(path) >= sizeof addr.sun_path) return ENODEV;
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  memcpy(addr.sun_path, path, strlen(path));

  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return EIO;
#ifdef SO_NOSIGPIPE
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one);
#endif
  /* A Unix connect blocks while the listener's backlog is full, and a send while its buffer is;
   * SO_SNDTIMEO bounds both by the deadline. */
  int ms = remaining(deadline);
  if (ms >= 0) {
    if (ms == 0) ms = 1; /* a zero timeval would mean "forever" */
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  }
  while (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
    if (errno == EINTR) continue;
    if (errno == EISCONN) break; /* an interrupted connect that completed meanwhile */
    int e = errno;
    close(fd);
    if (e == EACCES || e == EPERM) return EACCES;
    if (e == EAGAIN || e == EINPROGRESS) return ETIMEDOUT;
    return ENODEV;
  }
  *fd_out = fd;
  return 0;
}

static uint32_t send_all(int fd, const uint8_t *p, size_t n) {
  while (n > 0) {
    ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
    if (k < 0) {
      if (errno == EINTR) continue;
      return errno == EAGAIN || errno == EWOULDBLOCK ? ETIMEDOUT : EIO;
    }
    p += k;
    n -= (size_t)k;
  }
  return 0;
}

/* Reads exactly n bytes before the deadline; a peer that closes early is a garbled answer. */
static uint32_t recv_all(int fd, uint8_t *p, size_t n, int64_t deadline) {
  while (n > 0) {
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    int r = poll(&pfd, 1, remaining(deadline));
    if (r < 0) {
      if (errno == EINTR) continue;
      return EIO;
    }
    if (r == 0) return ETIMEDOUT;
    ssize_t k = recv(fd, p, n, 0);
    if (k < 0) {
      if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
      return EIO;
    }
    if (k == 0) return EIO;
    p += k;
    n -= (size_t)k;
  }
  return 0;
}

/* The answer frame: u32 length, u8 op (echoed by the simulator; not checked), a 4-byte value
 * (rc, or "required" for SECURITY), then for EXCHANGE the response packet. Only the first
 * data_cap bytes of the packet are read; the rest is dropped with the connection. */
static uint32_t read_answer(int fd, int64_t deadline, uint32_t *value, uint8_t *data,
                            size_t data_cap, size_t *data_len) {
  uint8_t head[5];
  uint32_t rc = recv_all(fd, head, sizeof head, deadline);
  if (rc) return rc;
  uint32_t length = get_u32(head);
  if (length < 1 + 4) return EIO; /* no room for the value */
  uint8_t v[4];
  if ((rc = recv_all(fd, v, sizeof v, deadline))) return rc;
  size_t rest = length - 5;
  size_t take = rest < data_cap ? rest : data_cap;
  if ((rc = recv_all(fd, data, take, deadline))) return rc;
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

  int fd;
  uint32_t rc = open_channel(deadline, &fd);
  if (rc) return rc;
  rc = send_all(fd, frame, sizeof frame);
  if (!rc && head_len) rc = send_all(fd, head, head_len);
  if (!rc && body_len) rc = send_all(fd, body, body_len);
  if (!rc) rc = read_answer(fd, deadline, value, data, data_cap, data_len);
  close(fd);
  return rc;
}
