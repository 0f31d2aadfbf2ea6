// The N-API side: the few system calls Node cannot make itself. Everything
// container-specific lives in the helper (init/); this only starts it and waits.
#include <errno.h>
#include <fcntl.h>
#include <napi.h>
#include <seccomp.h>  // only for the version corral-init is built with (features)
#include <signal.h>
#include <string.h>
#include <linux/bpf.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "../init/util.h"  // send_fd and errno words, shared with corral-init

extern char **environ;

namespace {

// "<what>: <strerror's words>", capitalized as these messages have always read (corralErrorOf
// lower-cases them where create reports them).
Napi::Error ErrnoError(Napi::Env env, const std::string &what, int err) {
  Buf text;
  buf_reset(&text);
  buf_strerror(&text, err);
  Napi::Error e = Napi::Error::New(env, what + ": " + buf_cstr(&text));
  e.Set("errno", Napi::Number::New(env, err));
  return e;
}

// spawn(path, argv, fds, env?) -> pid. The child gets fds[i] as its fd i (stdio
// included, with close-on-exec cleared, since Node sets it on 0-2) and nothing else.
Napi::Value Spawn(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>();
  Napi::Array jargv = info[1].As<Napi::Array>();
  Napi::Array jfds = info[2].As<Napi::Array>();
  std::vector<std::string> args, envs;
  for (uint32_t i = 0; i < jargv.Length(); i++) args.push_back(jargv.Get(i).As<Napi::String>());
  std::vector<char *> argv, envp;
  for (auto &a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  char **child_env = environ;
  if (info.Length() > 3 && info[3].IsArray()) {
    Napi::Array jenv = info[3].As<Napi::Array>();
    for (uint32_t i = 0; i < jenv.Length(); i++) envs.push_back(jenv.Get(i).As<Napi::String>());
    for (auto &e : envs) envp.push_back(e.data());
    envp.push_back(nullptr);
    child_env = envp.data();
  }
  std::vector<int> fds;
  for (uint32_t i = 0; i < jfds.Length(); i++) fds.push_back(jfds.Get(i).As<Napi::Number>().Int32Value());
  int n = (int)fds.size();
  int errpipe[2];
  if (pipe2(errpipe, O_CLOEXEC) < 0) throw ErrnoError(env, "pipe", errno);
  pid_t pid = fork();
  if (pid < 0) throw ErrnoError(env, "fork", errno);
  if (pid == 0) {
    // Async-signal-safe only from here on.
    int base = n + 3 > errpipe[1] + 1 ? n + 3 : errpipe[1] + 1;
    int moved[64];
    for (int i = 0; i < n && i < 64; i++) moved[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, base);
    for (int i = 0; i < n && i < 64; i++) {
      if (moved[i] < 0 || dup2(moved[i], i) < 0) goto fail;
      fcntl(i, F_SETFD, 0);
    }
    {
      int e = fcntl(errpipe[1], F_DUPFD_CLOEXEC, base + 64);
      if (e < 0) goto fail;
      syscall(SYS_close_range, n, e - 1, 0);
      syscall(SYS_close_range, e + 1, ~0U, 0);
      errpipe[1] = e;
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execve(path.c_str(), argv.data(), child_env);
  fail:
    int err = errno;
    (void)!write(errpipe[1], &err, sizeof(err));
    _exit(127);
  }
  close(errpipe[1]);
  int err = 0;
  ssize_t r;
  do r = read(errpipe[0], &err, sizeof(err));
  while (r < 0 && errno == EINTR);
  close(errpipe[0]);
  if (r == sizeof(err)) {
    waitpid(pid, nullptr, 0);
    throw ErrnoError(env, "exec " + path, err);
  }
  return Napi::Number::New(env, pid);
}

// socketpair() -> [a, b], blocking, close-on-exec.
Napi::Value SocketPair(const Napi::CallbackInfo &info) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) throw ErrnoError(info.Env(), "socketpair", errno);
  Napi::Array out = Napi::Array::New(info.Env(), 2);
  out.Set(0u, sv[0]);
  out.Set(1u, sv[1]);
  return out;
}

volatile pid_t g_forward_to = 0;
void Forward(int sig) {
  if (g_forward_to > 0) kill(g_forward_to, sig);
}

// wait(pid, forwardSignals) -> {status, signal}. Blocks. As a subreaper we also
// reap any orphan that is handed to us while waiting.
Napi::Value Wait(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  pid_t pid = info[0].As<Napi::Number>().Int32Value();
  bool forward = info.Length() > 1 && info[1].ToBoolean();
  if (forward) {
    g_forward_to = pid;
    struct sigaction sa = {};
    sa.sa_handler = Forward;
    sa.sa_flags = SA_RESTART;
    const int sigs[] = {SIGHUP,  SIGINT,  SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2,   SIGALRM, SIGWINCH, SIGCONT, SIGTSTP,
                        SIGTTIN, SIGTTOU, SIGURG,  SIGIO,   SIGPWR,  SIGVTALRM, SIGPROF, SIGXCPU,  SIGXFSZ};
    for (int s : sigs) sigaction(s, &sa, nullptr);
  }
  int status = 0;
  for (;;) {
    pid_t r = waitpid(-1, &status, __WALL);
    if (r < 0) {
      if (errno == EINTR) continue;
      throw ErrnoError(env, "waitpid", errno);
    }
    if (r == pid) break;
  }
  g_forward_to = 0;
  Napi::Object out = Napi::Object::New(env);
  if (WIFEXITED(status)) out.Set("status", WEXITSTATUS(status));
  else out.Set("signal", WTERMSIG(status));
  return out;
}

Napi::Object StatusObject(Napi::Env env, int status) {
  Napi::Object out = Napi::Object::New(env);
  if (WIFEXITED(status)) out.Set("status", WEXITSTATUS(status));
  else out.Set("signal", WTERMSIG(status));
  return out;
}

// tryWait(pid) -> {status, signal} once pid has exited (reaped), else null. Never blocks.
Napi::Value TryWait(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  pid_t pid = info[0].As<Napi::Number>().Int32Value();
  int status = 0;
  pid_t r;
  do r = waitpid(pid, &status, WNOHANG | __WALL);
  while (r < 0 && errno == EINTR);
  if (r < 0) throw ErrnoError(env, "waitpid", errno);
  if (r == 0) return env.Null();
  return StatusObject(env, status);
}

// recvFd(sock) -> {fd, name}: one fd sent with SCM_RIGHTS (a console socket's pty master).
Napi::Value RecvFd(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int sock = info[0].As<Napi::Number>().Int32Value();
  char name[4096];
  char control[CMSG_SPACE(sizeof(int))];
  struct iovec iov = {name, sizeof(name) - 1};
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  ssize_t n;
  do n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n < 0) throw ErrnoError(env, "recvmsg", errno);
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  if (!c || c->cmsg_type != SCM_RIGHTS) throw Napi::Error::New(env, "recvmsg: no file descriptor received");
  int fd;
  memcpy(&fd, CMSG_DATA(c), sizeof(int));
  Napi::Object out = Napi::Object::New(env);
  out.Set("fd", fd);
  out.Set("name", std::string(name, (size_t)n));
  return out;
}

// sendPidfd(sock, pid, name): a pidfd of pid (pidfd_open) sent over sock with
// SCM_RIGHTS, name as the data (--pidfd-socket, as runc >= 1.2).
Napi::Value SendPidfd(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int sock = info[0].As<Napi::Number>().Int32Value();
  pid_t pid = info[1].As<Napi::Number>().Int32Value();
  std::string name = info[2].As<Napi::String>();
  int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
  if (pidfd < 0) throw ErrnoError(env, "pidfd_open", errno);
  bool sent = send_fd(sock, pidfd, name.data(), name.size());
  int err = errno;
  close(pidfd);
  if (!sent) throw ErrnoError(env, "sendmsg", err);
  return env.Undefined();
}

// seccompVersion(): the libseccomp corral-init links (the same headers, statically).
Napi::Value SeccompVersion(const Napi::CallbackInfo &info) {
  return Napi::String::New(info.Env(), std::to_string(SCMP_VER_MAJOR) + "." + std::to_string(SCMP_VER_MINOR) + "." + std::to_string(SCMP_VER_MICRO));
}

// setWinsize(fd, rows, cols): TIOCSWINSZ on a terminal.
Napi::Value SetWinsize(const Napi::CallbackInfo &info) {
  struct winsize ws = {};
  int fd = info[0].As<Napi::Number>().Int32Value();
  ws.ws_row = (unsigned short)info[1].As<Napi::Number>().Uint32Value();
  ws.ws_col = (unsigned short)info[2].As<Napi::Number>().Uint32Value();
  if (ioctl(fd, TIOCSWINSZ, &ws) < 0) throw ErrnoError(info.Env(), "TIOCSWINSZ", errno);
  return info.Env().Undefined();
}

Napi::Value SetSubreaper(const Napi::CallbackInfo &info) {
  if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) throw ErrnoError(info.Env(), "prctl subreaper", errno);
  return info.Env().Undefined();
}

Napi::Value Umount(const Napi::CallbackInfo &info) {
  std::string path = info[0].As<Napi::String>();
  int flags = info.Length() > 1 ? info[1].As<Napi::Number>().Int32Value() : 0;
  if (umount2(path.c_str(), flags) < 0) throw ErrnoError(info.Env(), "umount " + path, errno);
  return info.Env().Undefined();
}

Napi::Value Mkfifo(const Napi::CallbackInfo &info) {
  std::string path = info[0].As<Napi::String>();
  int mode = info[1].As<Napi::Number>().Int32Value();
  if (mkfifo(path.c_str(), (mode_t)mode) < 0) throw ErrnoError(info.Env(), "mkfifo " + path, errno);
  return info.Env().Undefined();
}

// eventfd(initval) -> fd, blocking, close-on-exec: cgroup v1's cgroup.event_control
// signals OOMs (and the cgroup's removal) through it; Node reads it with fs.read.
Napi::Value Eventfd(const Napi::CallbackInfo &info) {
  unsigned int init = info.Length() > 0 ? info[0].As<Napi::Number>().Uint32Value() : 0;
  int fd = eventfd(init, EFD_CLOEXEC);
  if (fd < 0) throw ErrnoError(info.Env(), "eventfd", errno);
  return Napi::Number::New(info.Env(), fd);
}

// connectUnix(path, timeoutMs) -> fd: a blocking, close-on-exec stream socket connected
// to path, whose reads and writes fail with EAGAIN after timeoutMs. Node's net module is
// asynchronous only; corral talks to systemd's D-Bus with plain fs.readSync/writeSync.
Napi::Value ConnectUnix(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>();
  int ms = info[1].As<Napi::Number>().Int32Value();
  struct sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) throw ErrnoError(env, "connect " + path, ENAMETOOLONG);
  memcpy(addr.sun_path, path.c_str(), path.size());
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw ErrnoError(env, "socket", errno);
  struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
    int err = errno;
    close(fd);
    throw ErrnoError(env, "connect " + path, err);
  }
  return Napi::Number::New(env, fd);
}

long Bpf(int cmd, union bpf_attr *attr) { return syscall(SYS_bpf, cmd, attr, sizeof(*attr)); }

// attachDeviceFilter(dir, insns) loads insns (struct bpf_insn[], made by
// src/linux/cgroups/devices-v2.ts) as a BPF_PROG_TYPE_CGROUP_DEVICE program and
// attaches it to the cgroup2 directory dir (BPF_F_ALLOW_MULTI: the ancestors' programs
// keep running too). The attachment holds the program: no fd needs to stay open, and
// it goes with the cgroup.
Napi::Value AttachDeviceFilter(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string dir = info[0].As<Napi::String>();
  Napi::Buffer<uint8_t> code = info[1].As<Napi::Buffer<uint8_t>>();
  if (code.Length() == 0 || code.Length() % sizeof(struct bpf_insn)) throw Napi::Error::New(env, "device filter: bad program length");
  static const char license[] = "Apache-2.0";
  static char log[1 << 16];
  union bpf_attr attr;
  int prog = -1;
  for (int level = 0; level < 2 && prog < 0; level++) {
    memset(&attr, 0, sizeof(attr));
    attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
    attr.insns = (uint64_t)(uintptr_t)code.Data();
    attr.insn_cnt = (uint32_t)(code.Length() / sizeof(struct bpf_insn));
    attr.license = (uint64_t)(uintptr_t)license;
    if (level) {  // again, with the verifier's log, to say why
      log[0] = 0;
      attr.log_buf = (uint64_t)(uintptr_t)log;
      attr.log_size = sizeof(log);
      attr.log_level = 1;
    }
    prog = (int)Bpf(BPF_PROG_LOAD, &attr);
  }
  if (prog < 0) throw ErrnoError(env, std::string("load the device filter (BPF_PROG_LOAD)") + (log[0] ? std::string(" [") + log + "]" : ""), errno);
  int fd = open(dir.c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    close(prog);
    throw ErrnoError(env, "open " + dir, e);
  }
  memset(&attr, 0, sizeof(attr));
  attr.target_fd = (uint32_t)fd;
  attr.attach_bpf_fd = (uint32_t)prog;
  attr.attach_type = BPF_CGROUP_DEVICE;
  attr.attach_flags = BPF_F_ALLOW_MULTI;
  long r = Bpf(BPF_PROG_ATTACH, &attr);
  int e = errno;
  close(fd);
  close(prog);
  if (r < 0) throw ErrnoError(env, "attach the device filter to " + dir + " (BPF_PROG_ATTACH)", e);
  return env.Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("tryWait", Napi::Function::New(env, TryWait));
  exports.Set("recvFd", Napi::Function::New(env, RecvFd));
  exports.Set("sendPidfd", Napi::Function::New(env, SendPidfd));
  exports.Set("seccompVersion", Napi::Function::New(env, SeccompVersion));
  exports.Set("setWinsize", Napi::Function::New(env, SetWinsize));
  exports.Set("attachDeviceFilter", Napi::Function::New(env, AttachDeviceFilter));
  exports.Set("connectUnix", Napi::Function::New(env, ConnectUnix));
  exports.Set("eventfd", Napi::Function::New(env, Eventfd));
  exports.Set("mkfifo", Napi::Function::New(env, Mkfifo));
  exports.Set("spawn", Napi::Function::New(env, Spawn));
  exports.Set("socketPair", Napi::Function::New(env, SocketPair));
  exports.Set("wait", Napi::Function::New(env, Wait));
  exports.Set("setSubreaper", Napi::Function::New(env, SetSubreaper));
  exports.Set("umount", Napi::Function::New(env, Umount));
  return exports;
}

}  // namespace

NODE_API_MODULE(corral, Init)
