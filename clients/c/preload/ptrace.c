/*
 * Cooperative ptrace under the preload (spec/ptrace.md §5).
 *
 * The tracer's side: ptrace(2) goes to the daemon (the `ptrace` call), with glibc's
 * conventions: PEEKTEXT/PEEKDATA/PEEKUSER return the word (errno 0), the rest 0 or -1 and
 * errno; what `data` points to travels as bytes both ways.
 *
 * The tracee's side: the daemon rings the host process with BLINKD_PTRACE_BELL when it
 * stops it (a signal-delivery stop, an interrupt, an exec's event), and the bell's handler
 * serves the tracer's requests with ptrace_serve until told to run on:
 *   - PEEKTEXT/PEEKDATA/POKETEXT/POKEDATA on its own memory through /proc/self/mem (the
 *     kernel's access_process_vm, with FOLL_FORCE: a read-only page can be poked, an
 *     unmapped one is EIO, as for a real tracer);
 *   - the registers at the interruption the bell's ucontext holds: GETREGS, SETREGS (written
 *     back into the ucontext, so sigreturn loads them), GETFPREGS, SETFPREGS, GETREGSET and
 *     SETREGSET of NT_PRSTATUS and NT_PRFPREG, PEEKUSER and POKEUSER of the regs area (the
 *     debug registers read 0, and POKEUSER there is EIO);
 *   - at a stop it reports itself (ptrace_event: a fork's or the exit's event), there is no
 *     ucontext: the register requests are EIO there (spec/ptrace.md §5).
 * A signal the tracer lets through runs the program's handler with the emulated siginfo.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <ucontext.h>
#include <unistd.h>
#include <elf.h>
#include <asm/prctl.h>
#include "preload.h"

#define EXPORT __attribute__((visibility("default")))

/* The tracing options the daemon last told (BLINKD_PTRACE_OPTIONS_NOT_TRACED as far as this process knows). */
static int pt_opts = BLINKD_PTRACE_OPTIONS_NOT_TRACED;

/* ---- the tracer's side ---- */

EXPORT long ptrace(enum __ptrace_request request, ...) {
  va_list ap;
  va_start(ap, request);
  pid_t pid = va_arg(ap, pid_t);
  void *addr = va_arg(ap, void *);
  void *data = va_arg(ap, void *);
  va_end(ap);
  int req = (int)request;
  struct blinkd_conn *c = blinkd_preload_active() ? blinkd_preload_conn() : NULL;
  if (!c) {
    /* Not a guest: the host's ptrace, with glibc's PEEK convention. */
    long word, r;
    if (req > 0 && req < 4) {
      r = syscall(SYS_ptrace, req, pid, addr, &word);
      if (r == 0) errno = 0;
      return r < 0 ? r : word;
    }
    return syscall(SYS_ptrace, req, pid, addr, data);
  }
  const void *b = NULL;
  size_t bl = 0;
  uint64_t d = (uint64_t)(uintptr_t)data;
  struct iovec *iov = data;
  switch (req) {
  case PTRACE_SETREGS: b = data, bl = sizeof(struct user_regs_struct); break;
  case PTRACE_SETFPREGS: b = data, bl = sizeof(struct user_fpregs_struct); break;
  case PTRACE_SETSIGINFO: b = data, bl = sizeof(siginfo_t); break;
  case PTRACE_SETREGSET: b = iov->iov_base, bl = iov->iov_len, d = iov->iov_len; break;
  case PTRACE_GETREGSET: d = iov->iov_len; break;
  }
  struct blinkd_ptrace_out o;
  memset(&o, 0, sizeof o);
  int64_t r = blinkd_ptrace(c, req, pid, (uint64_t)(uintptr_t)addr, d, b, bl, &o);
  if (r < 0) {
    errno = (int)-r;
    return -1;
  }
  size_t n = o.bytes_len;
  switch (req) {
  case PTRACE_PEEKTEXT:
  case PTRACE_PEEKDATA:
  case PTRACE_PEEKUSER:
    blinkd_out_free(&blinkd_call_ptrace, &o);
    errno = 0;
    return (long)o.value;
  case PTRACE_GETEVENTMSG: *(unsigned long *)data = (unsigned long)o.value; break;
  case PTRACE_GETREGS: memcpy(data, o.bytes, n < sizeof(struct user_regs_struct) ? n : sizeof(struct user_regs_struct)); break;
  case PTRACE_GETFPREGS: memcpy(data, o.bytes, n < sizeof(struct user_fpregs_struct) ? n : sizeof(struct user_fpregs_struct)); break;
  case PTRACE_GETSIGINFO: memcpy(data, o.bytes, n < sizeof(siginfo_t) ? n : sizeof(siginfo_t)); break;
  case PTRACE_GETREGSET:
    if (n > iov->iov_len) n = iov->iov_len;
    memcpy(iov->iov_base, o.bytes, n);
    iov->iov_len = n;
    break;
  }
  blinkd_out_free(&blinkd_call_ptrace, &o);
  return (long)r;
}

/* ---- the tracee's side ---- */

/* user_regs_struct from the interrupted context (and back): the layout of sys/user.h. */
static void regs_from(const ucontext_t *uc, struct user_regs_struct *r) {
  const greg_t *g = uc->uc_mcontext.gregs;
  memset(r, 0, sizeof *r);
  r->r15 = g[REG_R15], r->r14 = g[REG_R14], r->r13 = g[REG_R13], r->r12 = g[REG_R12];
  r->rbp = g[REG_RBP], r->rbx = g[REG_RBX], r->r11 = g[REG_R11], r->r10 = g[REG_R10];
  r->r9 = g[REG_R9], r->r8 = g[REG_R8], r->rax = g[REG_RAX], r->rcx = g[REG_RCX];
  r->rdx = g[REG_RDX], r->rsi = g[REG_RSI], r->rdi = g[REG_RDI];
  r->orig_rax = (unsigned long long)-1; /* not in a system call */
  r->rip = g[REG_RIP], r->eflags = g[REG_EFL], r->rsp = g[REG_RSP];
  r->cs = (unsigned long long)g[REG_CSGSFS] & 0xffff;
  r->ss = 0x2b;
  unsigned long fsb = 0, gsb = 0;
  syscall(SYS_arch_prctl, ARCH_GET_FS, &fsb);
  syscall(SYS_arch_prctl, ARCH_GET_GS, &gsb);
  r->fs_base = fsb, r->gs_base = gsb;
}

static void regs_to(ucontext_t *uc, const struct user_regs_struct *r) {
  greg_t *g = uc->uc_mcontext.gregs;
  g[REG_R15] = (greg_t)r->r15, g[REG_R14] = (greg_t)r->r14, g[REG_R13] = (greg_t)r->r13, g[REG_R12] = (greg_t)r->r12;
  g[REG_RBP] = (greg_t)r->rbp, g[REG_RBX] = (greg_t)r->rbx, g[REG_R11] = (greg_t)r->r11, g[REG_R10] = (greg_t)r->r10;
  g[REG_R9] = (greg_t)r->r9, g[REG_R8] = (greg_t)r->r8, g[REG_RAX] = (greg_t)r->rax, g[REG_RCX] = (greg_t)r->rcx;
  g[REG_RDX] = (greg_t)r->rdx, g[REG_RSI] = (greg_t)r->rsi, g[REG_RDI] = (greg_t)r->rdi;
  g[REG_RIP] = (greg_t)r->rip, g[REG_EFL] = (greg_t)r->eflags, g[REG_RSP] = (greg_t)r->rsp;
}

/* One request: its result (>= 0 or -errno); *value and out/outn for what it reads. */
static int64_t answer(int op, uint64_t addr, uint64_t data, const void *in, size_t inn, ucontext_t *uc, int *mem, uint64_t *value, void *out, size_t *outn) {
  struct user_regs_struct regs;
  *outn = 0;
  switch (op) {
  case PTRACE_PEEKTEXT:
  case PTRACE_PEEKDATA:
  case PTRACE_POKETEXT:
  case PTRACE_POKEDATA: {
    if (*mem < 0) *mem = open("/proc/self/mem", O_RDWR | O_CLOEXEC);
    if (*mem < 0) return -EIO;
    uint64_t w = data;
    ssize_t n = op <= PTRACE_PEEKDATA ? pread(*mem, &w, 8, (off_t)addr) : pwrite(*mem, &w, 8, (off_t)addr);
    if (n != 8) return -EIO; /* ptrace_access_vm: fewer bytes than a word */
    *value = w;
    return 0;
  }
  case PTRACE_PEEKUSER:
  case PTRACE_POKEUSER:
    /* ptrace_{peek,poke}usr: unaligned or past struct user is EIO. */
    if ((addr & 7) || addr >= sizeof(struct user)) return -EIO;
    if (addr >= sizeof(struct user_regs_struct)) {
      if (op == PTRACE_POKEUSER) return -EIO;
      *value = 0;
      return 0;
    }
    if (!uc) return -EIO;
    regs_from(uc, &regs);
    if (op == PTRACE_PEEKUSER) {
      memcpy(value, (char *)&regs + addr, 8);
      return 0;
    }
    memcpy((char *)&regs + addr, &data, 8);
    regs_to(uc, &regs);
    return 0;
  case PTRACE_GETREGS:
  case PTRACE_SETREGS:
  case PTRACE_GETFPREGS:
  case PTRACE_SETFPREGS:
  case PTRACE_GETREGSET:
  case PTRACE_SETREGSET: {
    if (!uc) return -EIO;
    int fp = op == PTRACE_GETFPREGS || op == PTRACE_SETFPREGS || ((op == PTRACE_GETREGSET || op == PTRACE_SETREGSET) && addr == NT_PRFPREG);
    if ((op == PTRACE_GETREGSET || op == PTRACE_SETREGSET) && addr != NT_PRSTATUS && addr != NT_PRFPREG) return -EINVAL;
    size_t size = fp ? sizeof(struct user_fpregs_struct) : sizeof regs;
    int set = op == PTRACE_SETREGS || op == PTRACE_SETFPREGS || op == PTRACE_SETREGSET;
    if (fp && !uc->uc_mcontext.fpregs) return -EIO;
    if (set) {
      if (inn < size && op != PTRACE_SETREGSET) return -EFAULT;
      size_t k = inn < size ? inn : size;
      if (fp) memcpy(uc->uc_mcontext.fpregs, in, k);
      else {
        regs_from(uc, &regs);
        memcpy(&regs, in, k);
        regs_to(uc, &regs);
      }
      return 0;
    }
    if (fp) memcpy(out, uc->uc_mcontext.fpregs, size);
    else regs_from(uc, (struct user_regs_struct *)out);
    *outn = (op == PTRACE_GETREGSET && data < size) ? data : size;
    return 0;
  }
  }
  return -EIO;
}

/* Serves from reply r (the first request or "run on") until told to run on; returns the signal to deliver (its siginfo in *o). */
static void serve_loop(struct blinkd_conn *c, int64_t r, struct blinkd_ptrace_serve_out *o, ucontext_t *uc) {
  int mem = -1;
  union {
    struct user_regs_struct regs;
    struct user_fpregs_struct fp;
  } buf;
  for (;;) {
    if (r == -EINTR) {
      r = blinkd_ptrace_serve(c, 0, 0, 0, NULL, 0, o);
      continue;
    }
    if (r <= 0) break;
    uint64_t value = 0;
    size_t outn = 0;
    int64_t res = answer((int)r, o->addr, o->data, o->bytes, o->bytes_len, uc, &mem, &value, &buf, &outn);
    uint32_t id = o->id;
    blinkd_out_free(&blinkd_call_ptrace_serve, o);
    memset(o, 0, sizeof *o);
    r = blinkd_ptrace_serve(c, id, res, value, &buf, outn, o);
  }
  if (mem >= 0) close(mem);
  if (r == 0) pt_opts = o->options;
  else memset(o, 0, sizeof *o);
  blinkd_out_free(&blinkd_call_ptrace_serve, o);
}

static void run_on(const struct blinkd_ptrace_serve_out *o, void *uc, const sigset_t *entry) {
  if (o->signo > 0 && o->signo <= 64) blinkd_preload_deliver(o->signo, o->code, o->pid, (uid_t)o->uid, o->status, uc, entry);
}

/* The bell: the daemon stopped this process; serve until it runs on. */
static void bell(int s, siginfo_t *si, void *uc) {
  blinkd_preload_handler_ran();
  int saved = errno;
  struct blinkd_conn *c = blinkd_preload_conn();
  if (c) {
    struct blinkd_ptrace_serve_out o;
    memset(&o, 0, sizeof o);
    int64_t r = blinkd_ptrace_serve(c, 0, 0, 0, NULL, 0, &o);
    serve_loop(c, r, &o, uc);
    run_on(&o, uc, &((ucontext_t *)uc)->uc_sigmask);
  }
  errno = saved;
}

void blinkd_ptrace_init(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = bell;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  /* Served with every other signal held: the stop is the whole process's. */
  sigfillset(&sa.sa_mask);
  sigaction(BLINKD_PTRACE_BELL, &sa, NULL);
}

/* A stop point of its own: the daemon stops it when its tracer asked (ptrace_event). */
static void stop_point(int event, uint64_t message) {
  struct blinkd_conn *c = blinkd_preload_conn();
  if (!c) return;
  sigset_t all, om;
  sigfillset(&all);
  syscall(SYS_rt_sigprocmask, SIG_BLOCK, &all, &om, 8); /* the host's, not reported */
  struct blinkd_ptrace_serve_out o;
  memset(&o, 0, sizeof o);
  /* ptrace_event's reply is ptrace_serve's (the same fields in the same order). */
  int64_t r = blinkd_ptrace_event(c, event, message, (struct blinkd_ptrace_event_out *)&o);
  serve_loop(c, r, &o, NULL);
  run_on(&o, NULL, &om);
  syscall(SYS_rt_sigprocmask, SIG_SETMASK, &om, NULL, 8);
}

void blinkd_ptrace_forked(int32_t child) {
  if (pt_opts != BLINKD_PTRACE_OPTIONS_NOT_TRACED && (pt_opts & PTRACE_O_TRACEFORK)) stop_point(PTRACE_EVENT_FORK, (uint64_t)child);
}

void blinkd_ptrace_exiting(int wstatus) {
  if (pt_opts != BLINKD_PTRACE_OPTIONS_NOT_TRACED && (pt_opts & PTRACE_O_TRACEEXIT)) stop_point(PTRACE_EVENT_EXIT, (uint64_t)(unsigned)wstatus);
}

/* A new process is not traced (unless its tracer's options say so, which the daemon tells it):
   forgets the options, and returns them for a vfork parent, which shares this memory, to put back. */
int blinkd_ptrace_child(void) {
  int o = pt_opts;
  pt_opts = BLINKD_PTRACE_OPTIONS_NOT_TRACED;
  return o;
}

/* Whether this process knows it is traced (its tracer's options came with a stop or a ring). */
int blinkd_ptrace_traced(void) {
  return pt_opts != BLINKD_PTRACE_OPTIONS_NOT_TRACED;
}

void blinkd_ptrace_restore(int opts) {
  pt_opts = opts;
}
