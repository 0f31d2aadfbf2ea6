#include "util.h"

#include "errno_text.h"
#include "plan_records.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int g_report_fd = -1;

void buf_reset(Buf *b) {
  b->len = 0;
  b->data[0] = 0;
}

void buf_char(Buf *b, char c) {
  if (b->len + 1 < sizeof(b->data)) b->data[b->len++] = c;
  b->data[b->len] = 0;
}

void buf_str(Buf *b, const char *s) {
  while (s && *s) buf_char(b, *s++);
}

void buf_num(Buf *b, long long v) {
  char tmp[24];
  int n = 0;
  unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
  do {
    tmp[n++] = (char)('0' + u % 10);
    u /= 10;
  } while (u);
  if (v < 0) buf_char(b, '-');
  while (n) buf_char(b, tmp[--n]);
}

const char *buf_cstr(Buf *b) {
  b->data[b->len] = 0;
  return b->data;
}

static bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
static bool is_lower(char c) { return c >= 'a' && c <= 'z'; }

const char *errno_text(int err) {
  if (err > 0 && err <= kErrnoMax && kErrnoText[err]) return kErrnoText[err];
  // Not in the table (a newer kernel's errno): the first letter lower-cased, as Go does,
  // unless a capital follows it (an acronym).
  static char lower[128];
  const char *desc = strerrordesc_np(err);
  if (!desc) return "unknown error";
  size_t n = 0;
  for (; desc[n] && n + 1 < sizeof(lower); n++) lower[n] = desc[n];
  lower[n] = 0;
  if (is_upper(lower[0]) && is_lower(lower[1])) lower[0] = (char)(lower[0] - 'A' + 'a');
  return lower;
}

void buf_strerror(Buf *b, int err) {
  const char *text = errno_text(err);
  if (!*text) return;
  buf_char(b, is_lower(*text) ? (char)(*text - 'a' + 'A') : *text);
  buf_str(b, text + 1);
}

size_t cstrlen(const char *s) {
  size_t n = 0;
  while (s[n]) n++;
  return n;
}

bool streq(const char *a, const char *b) {
  while (*a && *a == *b) {
    a++;
    b++;
  }
  return *a == *b;
}

long long parse_ll(const char *s) {
  bool neg = false;
  if (*s == '-') {
    neg = true;
    s++;
  }
  long long v = (long long)parse_ull(s);
  return neg ? -v : v;
}

unsigned long long parse_ull(const char *s) {
  unsigned long long v = 0;
  for (; *s >= '0' && *s <= '9'; s++) {
    unsigned d = (unsigned)(*s - '0');
    if (v > (~0ULL - d) / 10) return ~0ULL;  // saturate: "unlimited" stays unlimited
    v = v * 10 + d;
  }
  return v;
}

bool write_all(int fd, const void *buf, size_t len) {
  const char *p = (const char *)buf;
  while (len) {
    ssize_t n = write(fd, p, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += n;
    len -= (size_t)n;
  }
  return true;
}

bool read_full(int fd, void *buf, size_t len) {
  char *p = (char *)buf;
  while (len) {
    ssize_t n = read(fd, p, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    if (n == 0) return false;
    p += n;
    len -= (size_t)n;
  }
  return true;
}

bool read_line(int fd, char *out, size_t cap) {
  size_t n = 0;
  for (;;) {
    char c;
    ssize_t r = read(fd, &c, 1);
    if (r < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    if (r == 0) return false;
    if (c == '\n') break;
    if (n + 1 < cap) out[n++] = c;
  }
  out[n] = 0;
  return true;
}

// A value from the config (a path, a hostname) as part of a message: long ones are cut,
// so the message always fits its line.
static void buf_arg(Buf *b, const char *arg) {
  const size_t kMax = 256;
  size_t n = 0;
  for (; arg[n] && n < kMax; n++) buf_char(b, arg[n]);
  if (arg[n]) buf_str(b, "...");
}

static void report(Buf *b) {
  if (g_report_fd >= 0) {
    Buf line;
    buf_reset(&line);
    buf_str(&line, kMsgError);
    buf_char(&line, ' ');
    buf_str(&line, buf_cstr(b));
    line.len = line.len < sizeof(line.data) - 2 ? line.len : sizeof(line.data) - 2;
    line.data[line.len++] = '\n';
    write_all(g_report_fd, line.data, line.len);
  } else {
    b->len = b->len < sizeof(b->data) - 2 ? b->len : sizeof(b->data) - 2;
    b->data[b->len++] = '\n';
    write_all(2, b->data, b->len);
  }
}

void die_errno(const char *what, const char *arg, int err) {
  Buf b;
  buf_reset(&b);
  buf_str(&b, what);
  if (arg) {
    buf_str(&b, " ");
    buf_arg(&b, arg);
  }
  buf_str(&b, ": ");
  buf_str(&b, errno_text(err));  // lower-case like Go's error strings, which callers of runc match on
  report(&b);
  _exit(1);
}

void die_msg(const char *what, const char *arg) {
  Buf b;
  buf_reset(&b);
  buf_str(&b, what);
  if (arg) {
    buf_str(&b, " ");
    buf_arg(&b, arg);
  }
  report(&b);
  _exit(1);
}

bool send_fd(int sock, int fd, const void *data, size_t len) {
  struct iovec iov = {(void *)data, len};
  char control[CMSG_SPACE(sizeof(int))] = {};
  struct msghdr m = {};
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  m.msg_control = control;
  m.msg_controllen = sizeof(control);
  struct cmsghdr *c = CMSG_FIRSTHDR(&m);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &fd, sizeof(int));
  const char *p = (const char *)data;
  size_t off = 0;
  bool first = true;
  while (first || off < len) {
    ssize_t r = first ? sendmsg(sock, &m, MSG_NOSIGNAL) : send(sock, p + off, len - off, MSG_NOSIGNAL);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return false;
    if (r == 0 && !first) {
      errno = EIO;
      return false;
    }
    off += (size_t)r;
    first = false;
  }
  return true;
}
