// Small async-signal-safe helpers shared by the helper's parent and child code:
// fixed-buffer string building, raw writes, and error reporting over the sync socket.
#pragma once
#include <stddef.h>
#include <stdint.h>

// A fixed-size text buffer; appending never allocates and silently truncates.
struct Buf {
  char data[4096];
  size_t len;
};
void buf_reset(Buf *b);
void buf_str(Buf *b, const char *s);
void buf_num(Buf *b, long long v);
void buf_char(Buf *b, char c);
const char *buf_cstr(Buf *b);

size_t cstrlen(const char *s);
bool streq(const char *a, const char *b);
long long parse_ll(const char *s);
unsigned long long parse_ull(const char *s);

// Writes all of buf to fd, retrying on EINTR and short writes. Returns false on error.
bool write_all(int fd, const void *buf, size_t len);
// Reads exactly len bytes; returns false on EOF or error.
bool read_full(int fd, void *buf, size_t len);
// Reads one '\n'-terminated line (without the newline) into out; false on EOF/error.
bool read_line(int fd, char *out, size_t cap);

// Sends fd over a unix socket (SCM_RIGHTS) with data, then the rest of data if the
// first sendmsg took only part. No SIGPIPE. Returns false with errno on failure.
bool send_fd(int sock, int fd, const void *data, size_t len);

// corral's words for errno err, lower-case as Go (and so runc) words them: from the table
// generated out of src/base/errno.ts, else glibc's description lower-cased the same way.
const char *errno_text(int err);
// Appends errno_text(err) with its first letter upper-case, as strerror words it.
void buf_strerror(Buf *b, int err);

// The fd of the sync socket errors are reported on (set by whoever owns it).
extern int g_report_fd;
// Reports "error <what>: <errno_text(err)>\n" on g_report_fd (or stderr) and exits 1.
[[noreturn]] void die_errno(const char *what, const char *arg, int err);
[[noreturn]] void die_msg(const char *what, const char *arg);
