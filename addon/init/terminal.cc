#include "terminal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "util.h"

void console_connect(Plan *p) {
  if (p->console_fd >= 0 || !p->console_path) return;
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) die_errno("console socket", nullptr, errno);
  struct sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  size_t len = cstrlen(p->console_path);
  if (len >= sizeof(addr.sun_path)) die_msg("console socket path too long:", p->console_path);
  memcpy(addr.sun_path, p->console_path, len + 1);
  if (connect(s, (struct sockaddr *)&addr, sizeof(addr)) < 0) die_errno("connect console socket", p->console_path, errno);
  p->console_fd = s;
}

void setup_terminal(const Plan *p, bool bind_console) {
  int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) master = open("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) die_errno("open /dev/ptmx (is devpts mounted at /dev/pts?)", nullptr, errno);
  int unlock = 0, n = -1;
  if (ioctl(master, TIOCSPTLCK, &unlock) < 0 || ioctl(master, TIOCGPTN, &n) < 0) die_errno("pty setup", nullptr, errno);
  Buf name;
  buf_reset(&name);
  buf_str(&name, "/dev/pts/");
  buf_num(&name, n);
  if (p->console_rows || p->console_cols) {
    struct winsize ws = {};
    ws.ws_row = (unsigned short)p->console_rows;
    ws.ws_col = (unsigned short)p->console_cols;
    if (ioctl(master, TIOCSWINSZ, &ws) < 0) die_errno("set console size", nullptr, errno);
  }
  int slave = open(buf_cstr(&name), O_RDWR | O_NOCTTY);
  if (slave < 0) die_errno("open", buf_cstr(&name), errno);
  // The process's user must be able to use its own terminal.
  if (p->has_user && fchown(slave, p->uid, (gid_t)-1) < 0) die_errno("chown", buf_cstr(&name), errno);
  if (bind_console) {
    // Never through a symlink: /dev/console is made here, in our /dev.
    int c = open("/dev/console", O_CREAT | O_RDONLY | O_NOFOLLOW | O_CLOEXEC, 0);
    if (c < 0) die_errno("create /dev/console", nullptr, errno);
    close(c);
    if (mount(buf_cstr(&name), "/dev/console", nullptr, MS_BIND, nullptr) < 0) die_errno("bind /dev/console", nullptr, errno);
  }
  if (!send_fd(p->console_fd, master, buf_cstr(&name), name.len)) die_errno("send pty master to the console socket", nullptr, errno);
  close(master);
  close(p->console_fd);
  if (setsid() < 0 && errno != EPERM) die_errno("setsid", nullptr, errno);
  if (ioctl(slave, TIOCSCTTY, 0) < 0) die_errno("make the pty the controlling terminal", nullptr, errno);
  for (int fd = 0; fd < 3; fd++)
    if (dup2(slave, fd) < 0) die_errno("dup2 pty", nullptr, errno);
  if (slave > 2) close(slave);
}
