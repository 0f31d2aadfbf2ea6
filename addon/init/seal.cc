#include "seal.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util.h"

static constexpr int kSeals = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE;

void ensure_sealed(char **argv, char **envp) {
  int self = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  if (self < 0) die_errno("open /proc/self/exe", nullptr, errno);
  int seals = fcntl(self, F_GET_SEALS);
  if (seals >= 0 && (seals & kSeals) == kSeals) {
    close(self);
    return;
  }
  int mfd = memfd_create("corral-init", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (mfd < 0) die_errno("memfd_create", nullptr, errno);
  struct stat st;
  if (fstat(self, &st) < 0) die_errno("stat /proc/self/exe", nullptr, errno);
  off_t off = 0;
  while (off < st.st_size) {
    ssize_t n = sendfile(mfd, self, &off, (size_t)(st.st_size - off));
    if (n <= 0) die_errno("copy helper into memfd", nullptr, n < 0 ? errno : EIO);
  }
  if (fcntl(mfd, F_ADD_SEALS, kSeals) < 0) die_errno("seal memfd", nullptr, errno);
  close(self);
  syscall(SYS_execveat, mfd, "", argv, envp, AT_EMPTY_PATH);
  die_errno("execveat sealed helper", nullptr, errno);
}
