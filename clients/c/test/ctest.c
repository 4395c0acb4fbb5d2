/*
 * blinkd-ctest: the C client's own checks, driven by spec/native.client.test.ts.
 *   blinkd-ctest table          the call table as the C side was built (compared with the schema)
 *   blinkd-ctest vectors FILE   the shared msgpack vectors (spec/vectors/msgpack.txt)
 *   blinkd-ctest calls          every call family against the daemon at $BLINKD_SOCKET
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "blinkd.h"

static int failures;
#define CHECK(cond, ...)                              \
  do {                                                \
    if (!(cond)) {                                    \
      failures++;                                     \
      printf("FAIL %s:%d: ", __FILE__, __LINE__);     \
      printf(__VA_ARGS__);                            \
      printf("\n");                                   \
    }                                                 \
  } while (0)

/* ---- table ---- */

static int table(void) {
  printf("version %s\n", BLINKD_PROTOCOL_VERSION);
  for (int i = 0; i < BLINKD_NCALLS; i++) {
    const struct blinkd_call *c = blinkd_call_table[i];
    printf("%d %s %s blocks=%d role=%d args=", c->nr, c->name, c->family, c->blocks, c->role);
    for (int j = 0; j < c->nargs; j++) printf("%s%s:%d", j ? "," : "", c->args[j].name, c->args[j].type);
    if (!c->nargs) printf("-");
    printf(" out=");
    for (int j = 0; j < c->nout; j++) printf("%s%s:%d", j ? "," : "", c->out[j].name, c->out[j].type);
    if (!c->nout) printf("-");
    printf("\n");
  }
  return 0;
}

/* ---- vectors ---- */

/* A parsed VALUE of the vector grammar. */
struct val {
  int kind; /* 'i' integer, 's' string, 'b' bool, 'h' bytes, 'a' array */
  int neg;
  uint64_t u;
  char *s;
  size_t n;
  struct val *items;
  size_t count;
};

static const char *skipws(const char *p) {
  while (*p == ' ' || *p == '\t') p++;
  return p;
}

static int hexval(int c) {
  return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static const char *parse_val(const char *p, struct val *v) {
  memset(v, 0, sizeof *v);
  p = skipws(p);
  if (*p == '"') {
    v->kind = 's';
    v->s = malloc(strlen(p) * 4 + 1);
    p++;
    while (*p && *p != '"') {
      if (*p == '\\') {
        p++;
        if (*p == 'u') {
          unsigned cp = 0;
          for (int i = 1; i <= 4; i++) cp = cp * 16 + (unsigned)hexval(p[i]);
          p += 5;
          if (cp < 0x80) v->s[v->n++] = (char)cp;
          else if (cp < 0x800) v->s[v->n++] = (char)(0xc0 | cp >> 6), v->s[v->n++] = (char)(0x80 | (cp & 63));
          else v->s[v->n++] = (char)(0xe0 | cp >> 12), v->s[v->n++] = (char)(0x80 | ((cp >> 6) & 63)), v->s[v->n++] = (char)(0x80 | (cp & 63));
          continue;
        }
        v->s[v->n++] = *p == 'n' ? '\n' : *p == 't' ? '\t' : *p;
        p++;
      } else {
        v->s[v->n++] = *p++;
      }
    }
    v->s[v->n] = 0;
    return *p == '"' ? p + 1 : NULL;
  }
  if (p[0] == 'h' && p[1] == '"') {
    v->kind = 'h';
    p += 2;
    v->s = malloc(strlen(p) + 1);
    while (hexval(p[0]) >= 0 && hexval(p[1]) >= 0) v->s[v->n++] = (char)(hexval(p[0]) * 16 + hexval(p[1])), p += 2;
    return *p == '"' ? p + 1 : NULL;
  }
  if (!strncmp(p, "true", 4)) return v->kind = 'b', v->u = 1, p + 4;
  if (!strncmp(p, "false", 5)) return v->kind = 'b', v->u = 0, p + 5;
  if (*p == '[') {
    v->kind = 'a';
    p = skipws(p + 1);
    v->items = calloc(64, sizeof *v->items);
    while (*p && *p != ']') {
      p = parse_val(p, &v->items[v->count++]);
      if (!p) return NULL;
      p = skipws(p);
      if (*p == ',') p = skipws(p + 1);
    }
    return *p == ']' ? p + 1 : NULL;
  }
  if (*p == '-' || (*p >= '0' && *p <= '9')) {
    v->kind = 'i';
    if (*p == '-') v->neg = 1, p++;
    while (*p >= '0' && *p <= '9') v->u = v->u * 10 + (uint64_t)(*p++ - '0');
    if (v->neg) v->u = (uint64_t)0 - v->u;
    return p;
  }
  return NULL;
}

static size_t parse_hex(const char *p, unsigned char *out) {
  size_t n = 0;
  for (;;) {
    p = skipws(p);
    if (hexval(p[0]) < 0 || hexval(p[1]) < 0) return n;
    out[n++] = (unsigned char)(hexval(p[0]) * 16 + hexval(p[1]));
    p += 2;
  }
}

/* Stores a parsed value into a field slot of a call's struct. */
static void store(int type, const struct val *v, void *slot) {
  switch (type) {
    case BLINKD_T_I32: *(int32_t *)slot = (int32_t)(int64_t)v->u; break;
    case BLINKD_T_U32: *(uint32_t *)slot = (uint32_t)v->u; break;
    case BLINKD_T_I64: *(int64_t *)slot = (int64_t)v->u; break;
    case BLINKD_T_U64: *(uint64_t *)slot = v->u; break;
    case BLINKD_T_BOOL: *(int *)slot = (int)v->u; break;
    case BLINKD_T_STR: *(const char **)slot = v->s; break;
    case BLINKD_T_BYTES: *(const void **)slot = v->s, *(size_t *)((char *)slot + sizeof(void *)) = v->n; break;
    case BLINKD_T_STRS: {
      const char **a = calloc(v->count + 1, sizeof *a);
      for (size_t i = 0; i < v->count; i++) a[i] = v->items[i].s;
      *(const char ***)slot = a;
      break;
    }
    case BLINKD_T_I32S: {
      int32_t *a = calloc(v->count + 1, sizeof *a);
      for (size_t i = 0; i < v->count; i++) a[i] = (int32_t)(int64_t)v->items[i].u;
      *(int32_t **)slot = a;
      *(size_t *)((char *)slot + sizeof(void *)) = v->count;
      break;
    }
  }
}

static int type_of(const char *name) {
  static const char *const n[] = {"", "i32", "u32", "i64", "u64", "bool", "str", "bytes", "strs", "i32s", "any"};
  for (int i = 1; i <= 10; i++)
    if (!strcmp(n[i], name)) return i;
  return 0;
}

static void hexdump(const char *label, const unsigned char *p, size_t n) {
  printf("  %s:", label);
  for (size_t i = 0; i < n; i++) printf(" %02x", p[i]);
  printf("\n");
}

/* Compares a decoded out field with an expected value. */
static int same(int type, const void *slot, const struct val *v) {
  switch (type) {
    case BLINKD_T_I32: return *(const int32_t *)slot == (int32_t)(int64_t)v->u;
    case BLINKD_T_U32: return *(const uint32_t *)slot == (uint32_t)v->u;
    case BLINKD_T_I64: return *(const int64_t *)slot == (int64_t)v->u;
    case BLINKD_T_U64: return *(const uint64_t *)slot == v->u;
    case BLINKD_T_BOOL: return *(const int *)slot == (int)v->u;
    case BLINKD_T_STR: return !strcmp((const char *)slot, v->s);
    default: return 0;
  }
}

static int vectors(const char *file) {
  FILE *f = fopen(file, "r");
  if (!f) return perror(file), 2;
  char line[8192];
  int n = 0, lineno = 0;
  while (fgets(line, sizeof line, f)) {
    lineno++;
    line[strcspn(line, "\n")] = 0;
    if (!line[0] || line[0] == '#') continue;
    char *arrow = strstr(line, "=>");
    CHECK(arrow, "line %d: no =>", lineno);
    if (!arrow) continue;
    *arrow = 0;
    const char *rhs = arrow + 2;
    char kind[32], name[64];
    int off = 0;
    if (sscanf(line, "%31s %63s %n", kind, name, &off) < 2) continue;
    const char *p = line + off;
    unsigned char want[4096], got[4096];
    n++;
    if (!strcmp(kind, "field")) {
      int t = type_of(name);
      struct val v;
      CHECK(t && parse_val(p, &v), "line %d: bad value", lineno);
      unsigned char slot[64];
      memset(slot, 0, sizeof slot);
      store(t, &v, slot);
      struct blinkd_buf b;
      blinkd_buf_init(&b, got, sizeof got);
      blinkd_put_field(&b, t, slot);
      size_t wn = parse_hex(rhs, want);
      if (b.len != wn || memcmp(b.p, want, wn)) {
        CHECK(0, "line %d: field %s encodes differently", lineno, name);
        hexdump("want", want, wn);
        hexdump("got ", b.p, b.len);
      }
    } else if (!strcmp(kind, "request")) {
      const struct blinkd_call *call = blinkd_call_by_name(name);
      CHECK(call, "line %d: no call %s", lineno, name);
      if (!call) continue;
      struct val seq, args;
      p = parse_val(p, &seq);
      CHECK(p && parse_val(p, &args) && args.kind == 'a' && args.count == call->nargs, "line %d: bad arguments", lineno);
      unsigned char st[1024];
      memset(st, 0, sizeof st);
      for (int i = 0; i < call->nargs; i++) store(call->args[i].type, &args.items[i], st + call->args[i].offset);
      struct blinkd_buf b;
      blinkd_buf_init(&b, got, sizeof got);
      blinkd_put_request(&b, (uint32_t)seq.u, call, st);
      size_t wn = parse_hex(rhs, want);
      if (b.len != wn || memcmp(b.p, want, wn)) {
        CHECK(0, "line %d: request %s encodes differently", lineno, name);
        hexdump("want", want, wn);
        hexdump("got ", b.p, b.len);
      }
    } else if (!strcmp(kind, "reply") || !strcmp(kind, "reply-bad")) {
      const struct blinkd_call *call = blinkd_call_by_name(name);
      CHECK(call, "line %d: no call %s", lineno, name);
      if (!call) continue;
      size_t bn = parse_hex(p, want);
      unsigned char out[1024];
      struct blinkd_conn c;
      memset(&c, 0, sizeof c);
      uint32_t seq;
      int64_t r = blinkd_decode_reply(&c, want, bn, call, &seq, out);
      if (!strcmp(kind, "reply-bad")) {
        char field[64];
        sscanf(rhs, "%63s", field);
        CHECK(r == -EPROTO && strstr(c.error, field), "line %d: reply-bad accepted or unnamed (r=%lld, error=%s, want %s)", lineno, (long long)r, c.error, field);
        continue;
      }
      struct val res, outs;
      const char *q = parse_val(rhs, &res);
      CHECK(q && parse_val(q, &outs), "line %d: bad expectation", lineno);
      CHECK(r == (int64_t)res.u, "line %d: result %lld, want %lld (%s)", lineno, (long long)r, (long long)(int64_t)res.u, c.error);
      if (r >= 0) {
        CHECK(outs.count == call->nout, "line %d: want %zu out values", lineno, outs.count);
        for (int i = 0; i < call->nout && i < (int)outs.count; i++)
          CHECK(same(call->out[i].type, out + call->out[i].offset, &outs.items[i]), "line %d: out.%s differs", lineno, call->out[i].name);
      }
    } else {
      CHECK(0, "line %d: unknown vector kind %s", lineno, kind);
    }
  }
  fclose(f);
  printf("%d vectors, %d failures\n", n, failures);
  return failures ? 1 : 0;
}

/* ---- calls against the daemon ---- */

static struct blinkd_conn conn;
static atomic_int restarts, handler_pid;
static pid_t main_tid;

static int restart_hook(struct blinkd_conn *c, void *arg) {
  (void)c;
  atomic_fetch_add(&restarts, 1);
  return *(int *)arg;
}

static void on_usr1(int sig) {
  (void)sig;
  /* A handler's own call while the outer wait4 is parked on the same connection. */
  atomic_store(&handler_pid, (int)blinkd_getpid(&conn));
}

/* Waits until the main thread sits in ppoll (syscall 271), i.e. inside a parked call. */
static void await_ppoll(void) {
  char path[64], buf[64];
  snprintf(path, sizeof path, "/proc/self/task/%d/syscall", (int)main_tid);
  for (;;) {
    int fd = open(path, O_RDONLY);
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n > 0) {
      buf[n] = 0;
      if (atoi(buf) == SYS_ppoll) return;
    }
    usleep(1000);
  }
}

static int go_pipe[2];
static int restart_phase;

static void *interrupter(void *arg) {
  (void)arg;
  await_ppoll();
  syscall(SYS_tgkill, getpid(), main_tid, SIGUSR1);
  if (restart_phase) {
    while (atomic_load(&restarts) < 1) usleep(1000);
    await_ppoll();
    if (write(go_pipe[1], "x", 1) != 1) abort();
  }
  return NULL;
}

/* A host fork whose child claims the reservation on its own new connection. */
static int32_t fork_child(int code, int wait_fd) {
  struct blinkd_fork_out fo;
  int64_t pid = blinkd_fork(&conn, &fo);
  CHECK(pid > 1, "fork = %lld (%s)", (long long)pid, conn.error);
  char token[BLINKD_STR_OUT_MAX];
  strcpy(token, fo.token);
  pid_t h = fork();
  if (h == 0) {
    blinkd_conn_forget(&conn);
    int32_t p = 0;
    int64_t tid = blinkd_conn_attach(&conn, NULL, token, getpid(), &p);
    if (tid != pid || p != pid) _exit(90);
    if (blinkd_getpid(&conn) != pid) _exit(91);
    char c;
    if (wait_fd >= 0 && read(wait_fd, &c, 1) != 1) _exit(92);
    blinkd_exit_group(&conn, code);
    _exit(code);
  }
  CHECK(h > 0, "host fork");
  return (int32_t)pid;
}

static void *thread_main(void *arg) {
  const char *token = arg;
  struct blinkd_conn tc;
  int32_t pid = 0;
  int64_t tid = blinkd_conn_attach(&tc, NULL, token, getpid(), &pid);
  printf("thread tid=%lld pid=%d gettid=%lld getpid=%lld\n", (long long)tid, pid, (long long)blinkd_gettid(&tc), (long long)blinkd_getpid(&tc));
  blinkd_exit(&tc, 0);
  blinkd_conn_close(&tc);
  return NULL;
}

static int calls(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  main_tid = (pid_t)syscall(SYS_gettid);
  CHECK(blinkd_conn_open(&conn, NULL) == 0, "open: %s", conn.error);
  /* session: a wrong version is EPROTO and names both versions */
  struct blinkd_conn bad;
  struct blinkd_hello_out ho;
  CHECK(blinkd_conn_open(&bad, NULL) == 0, "open");
  int64_t r = blinkd_hello(&bad, "0000000000000000", "guest", "ctest", &ho);
  printf("hello(bad version) = %lld %s\n", (long long)r, strstr(bad.error, BLINKD_PROTOCOL_VERSION) ? "names the version" : bad.error);
  blinkd_conn_close(&bad);
  r = blinkd_hello(&conn, BLINKD_PROTOCOL_VERSION, "guest", "ctest", &ho);
  printf("hello = %lld daemon=%s pidMax=%d\n", (long long)r, ho.daemon, ho.pidMax);
  r = blinkd_getpid(&conn);
  printf("getpid before register = %lld\n", (long long)r);
  const char *argv[] = {"blinkd-ctest", "calls", NULL};
  int64_t me = blinkd_register(&conn, getpid(), "/blinkd-ctest", argv, BLINKD_DELIVERY_EVENTS);
  printf("register = %lld\n", (long long)me);
  printf("getpid = %lld getppid = %lld gettid = %lld\n", (long long)blinkd_getpid(&conn), (long long)blinkd_getppid(&conn), (long long)blinkd_gettid(&conn));
  r = blinkd_register(&conn, getpid(), "/x", argv, BLINKD_DELIVERY_EVENTS);
  printf("register again = %lld\n", (long long)r);

  /* process: fork + claim, exit_group's exact status through wait4 */
  int32_t c1 = fork_child(7, -1);
  struct blinkd_wait4_out wo;
  r = blinkd_wait4(&conn, c1, 0, &wo);
  printf("wait4(child) = %s wstatus=0x%x\n", r == c1 ? "child" : "other", wo.wstatus);
  int hs;
  waitpid(-1, &hs, 0);
  r = blinkd_wait4(&conn, -1, WNOHANG, &wo);
  printf("wait4(-1, WNOHANG) with no children = %lld\n", (long long)r);

  /* fork_abort: the reservation is undone; a second abort is ESRCH */
  struct blinkd_fork_out fo;
  int64_t res = blinkd_fork(&conn, &fo);
  printf("fork_abort = %lld, again = ", (long long)blinkd_fork_abort(&conn, (int32_t)res));
  printf("%lld\n", (long long)blinkd_fork_abort(&conn, (int32_t)res));

  /* report_status: a child that dies without a word is SIGKILL until its reaper reports */
  struct blinkd_fork_out fo2;
  int64_t c2 = blinkd_fork(&conn, &fo2);
  char token2[BLINKD_STR_OUT_MAX];
  strcpy(token2, fo2.token);
  pid_t h2 = fork();
  if (h2 == 0) {
    blinkd_conn_forget(&conn);
    int32_t p;
    blinkd_conn_attach(&conn, NULL, token2, getpid(), &p);
    raise(SIGTERM);
    _exit(1);
  }
  waitpid(h2, &hs, 0);
  printf("host status of the killed child: %s %d\n", WIFSIGNALED(hs) ? "signaled" : "exited", WIFSIGNALED(hs) ? WTERMSIG(hs) : WEXITSTATUS(hs));
  r = blinkd_report_status(&conn, (int32_t)c2, hs);
  printf("report_status = %lld\n", (long long)r);
  r = blinkd_wait4(&conn, (int32_t)c2, 0, &wo);
  printf("wait4 after report = %s wstatus=0x%x\n", r == c2 ? "child" : "other", wo.wstatus);
  r = blinkd_report_status(&conn, 999, 0);
  printf("report_status(not a child) = %lld\n", (long long)r);

  /* threads: thread_create + claim on the thread's own connection */
  struct blinkd_thread_create_out to;
  int64_t tid = blinkd_thread_create(&conn, &to);
  pthread_t th;
  char ttoken[BLINKD_STR_OUT_MAX];
  strcpy(ttoken, to.token);
  printf("thread_create = %s\n", tid > me ? "a new tid" : "?");
  pthread_create(&th, NULL, thread_main, ttoken);
  pthread_join(th, NULL);
  struct blinkd_thread_create_out to2;
  int64_t tid2 = blinkd_thread_create(&conn, &to2);
  printf("thread_abort = %lld\n", (long long)blinkd_thread_abort(&conn, (int32_t)tid2));

  /* signal: rt_sigaction's checks */
  printf("rt_sigaction(SIGCHLD, SIG_DFL) = %lld\n", (long long)blinkd_rt_sigaction(&conn, SIGCHLD, BLINKD_SIGACTION_SIG_DFL, 0));
  printf("rt_sigaction(SIGKILL) = %lld\n", (long long)blinkd_rt_sigaction(&conn, SIGKILL, BLINKD_SIGACTION_SIG_IGN, 0));
  printf("rt_sigaction(65) = %lld\n", (long long)blinkd_rt_sigaction(&conn, 65, BLINKD_SIGACTION_SIG_IGN, 0));

  /* wait: a parked wait4 interrupted by a signal, without SA_RESTART: EINTR; the handler's
     own call on the same connection is answered while the wait is parked. */
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_usr1;
  sigaction(SIGUSR1, &sa, NULL);
  if (pipe(go_pipe)) abort();
  int dont = 0, again = 1;
  conn.restart = restart_hook;
  conn.restart_arg = &dont;
  int32_t c3 = fork_child(5, go_pipe[0]);
  pthread_t it;
  restart_phase = 0;
  pthread_create(&it, NULL, interrupter, NULL);
  r = blinkd_wait4(&conn, c3, 0, &wo);
  pthread_join(it, NULL);
  printf("wait4 interrupted = %lld (%s), restart asked %d, handler's getpid = %s\n", (long long)r, r == -EINTR ? "EINTR" : "?", atomic_load(&restarts), atomic_load(&handler_pid) == me ? "mine" : "?");
  /* with SA_RESTART: the call is sent again and completes with the child */
  atomic_store(&restarts, 0);
  conn.restart_arg = &again;
  restart_phase = 1;
  pthread_create(&it, NULL, interrupter, NULL);
  r = blinkd_wait4(&conn, c3, 0, &wo);
  pthread_join(it, NULL);
  printf("wait4 restarted = %s wstatus=0x%x, restarts %d\n", r == c3 ? "child" : "?", wo.wstatus, atomic_load(&restarts));
  waitpid(-1, &hs, 0);

  /* execve: same pid, new program */
  const char *xargv[] = {"newprog", "x", NULL};
  printf("execve = %lld getpid = %s\n", (long long)blinkd_execve(&conn, "/bin/newprog", xargv), blinkd_getpid(&conn) == me ? "same" : "?");

  /* posts ([4, …], spec/protocol.md §4.5): no reply comes for them; the daemon took them in
     order (the next call sees the mask), and a post's failure (fork_abort of no reservation:
     ESRCH) goes to the daemon's log. A reply to a post would be stashed here, unclaimed. */
  struct blinkd_rt_sigprocmask_args pa = {SIG_SETMASK, 1ull << 9};
  struct blinkd_fork_abort_args fa = {99999};
  CHECK(blinkd_conn_post(&conn, &blinkd_call_rt_sigprocmask, &pa) == 0 && blinkd_conn_post(&conn, &blinkd_call_fork_abort, &fa) == 0, "post");
  struct blinkd_rt_sigprocmask_out mo;
  r = blinkd_rt_sigprocmask(&conn, SIG_SETMASK, 0, &mo);
  int stashed = 0;
  for (int i = 0; i < BLINKD_STASH_SLOTS; i++) stashed += conn.stash[i].used;
  printf("after two posts: rt_sigprocmask = %lld old=0x%llx unread=%zu stashed=%d\n", (long long)r, (unsigned long long)mo.old, conn.rlen, stashed);

  /* control calls are refused to a guest connection */
  struct blinkd_ps_out po;
  r = blinkd_ps(&conn, &po);
  printf("ps from a guest = %lld\n", (long long)r);
  struct blinkd_conn ctl;
  blinkd_conn_open(&ctl, NULL);
  blinkd_conn_handshake(&ctl, "control", "ctest");
  r = blinkd_ps(&ctl, &po);
  printf("ps = %lld, %zu bytes of msgpack\n", (long long)r, po.procs_len);
  blinkd_out_free(&blinkd_call_ps, &po);
  blinkd_conn_close(&ctl);

  /* exit_group: later calls are ESRCH */
  printf("exit_group = %lld\n", (long long)blinkd_exit_group(&conn, 3));
  printf("getpid after exit = %lld\n", (long long)blinkd_getpid(&conn));
  blinkd_conn_close(&conn);
  printf("failures %d\n", failures);
  return failures ? 1 : 0;
}

int main(int argc, char **argv) {
  if (argc >= 2 && !strcmp(argv[1], "table")) return table();
  if (argc >= 3 && !strcmp(argv[1], "vectors")) return vectors(argv[2]);
  if (argc >= 2 && !strcmp(argv[1], "calls")) return calls();
  fprintf(stderr, "usage: blinkd-ctest table | vectors FILE | calls\n");
  return 2;
}
