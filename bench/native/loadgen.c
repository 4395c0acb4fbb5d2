/*
 * blinkd's native load generator and native baselines, built with `cc -O2` at bench time.
 * It speaks the wire protocol (spec/protocol.md, src/protocol/messages.ts): a frame is a
 * 4-byte big-endian length and one msgpack array; request [0, seq, nr, ...args], reply
 * [1, seq, result, ...out], event [3, kind, ...]. Against the echo server the reply is the
 * request with its kind turned into 1, so the same client measures both.
 *
 * Every mode prints one JSON object on stdout. Modes:
 *   rtt SOCK VERSION MODE N                 sequential getppid round trips: p50/p99/mean in ns
 *   tput SOCK VERSION MODE CLIENTS MS       CLIENTS processes, one connection each, calls for MS ms
 *   forkcycle SOCK VERSION N HOSTFORK       fork call; the child claims on its own connection and
 *                                           exits; wait4. HOSTFORK 1: the child is a host fork
 *                                           (and waitpid reaps it); 0: the same process plays it
 *   nativefork N                            fork + _exit + waitpid
 *   mass SOCK VERSION CONNS PERCONN         CONNS guest connections, each forks PERCONN unclaimed
 *                                           children; prints, waits for a line on stdin, exits
 *   zombies SOCK VERSION N                  N children of one parent that claim and exit (zombies
 *                                           until the parent, which never waits, goes); like mass
 *   nativeeventfd N                         eventfd ping-pong between two processes
 *   kill SOCK VERSION N SIG                 N sequential kill(own pid, SIG) calls: mean in ns
 *   eventfd SOCK VERSION N                  eventfd ping-pong between two guest processes (a parent
 *                                           and its forked child) through the daemon's eventfds
 *   relayeventfd SOCK N                     the same ping-pong's frames through relay-server.ts, which
 *                                           keeps the two counters and does nothing else (the floor)
 * MODE is "blinkd" (hello + register first) or "echo" (no handshake).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { NR_HELLO = 0, NR_REGISTER = 1, NR_CLAIM = 2, NR_CLAIM_FD = 3, NR_GETPPID = 11, NR_FORK = 13, NR_EXIT_GROUP = 18, NR_WAIT4 = 50, NR_KILL = 71,
       NR_EVENTFD2 = 120, NR_EVENTFD_READ = 121, NR_EVENTFD_WRITE = 122 };

static void die(const char *what) {
  fprintf(stderr, "loadgen: %s: %s\n", what, strerror(errno));
  exit(2);
}
static void fail(const char *what) {
  fprintf(stderr, "loadgen: %s\n", what);
  exit(2);
}

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- msgpack: just what the calls here need ---- */

typedef struct {
  uint8_t b[512];
  size_t n;
} Out;

static void put8(Out *o, uint8_t v) { o->b[o->n++] = v; }
static void put_be(Out *o, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; i--) put8(o, (uint8_t)(v >> (8 * i)));
}
static void put_int(Out *o, int64_t v) {
  if (v >= 0 && v < 128) put8(o, (uint8_t)v);
  else if (v < 0 && v >= -32) put8(o, (uint8_t)(0xe0 | (v + 32)));
  else if (v >= 0 && v <= 0xff) put8(o, 0xcc), put8(o, (uint8_t)v);
  else if (v >= 0 && v <= 0xffff) put8(o, 0xcd), put_be(o, (uint64_t)v, 2);
  else if (v >= 0 && v <= 0xffffffffll) put8(o, 0xce), put_be(o, (uint64_t)v, 4);
  else put8(o, 0xd3), put_be(o, (uint64_t)v, 8);
}
static void put_str(Out *o, const char *s) {
  size_t n = strlen(s);
  if (n < 32) put8(o, (uint8_t)(0xa0 | n));
  else put8(o, 0xd9), put8(o, (uint8_t)n);
  memcpy(o->b + o->n, s, n);
  o->n += n;
}
/* Starts a request frame: length placeholder, array header, kind, seq, nr. */
static void begin(Out *o, int nargs, uint32_t seq, int nr) {
  o->n = 4;
  put8(o, (uint8_t)(0x90 | (3 + nargs)));
  put8(o, 0);
  put_int(o, seq);
  put_int(o, nr);
}
static void end(Out *o, size_t start) {
  uint32_t len = (uint32_t)(o->n - start - 4);
  o->b[start] = len >> 24, o->b[start + 1] = len >> 16, o->b[start + 2] = len >> 8, o->b[start + 3] = len;
}

typedef struct {
  const uint8_t *p, *e;
} In;

static int get_int(In *in, int64_t *v) {
  if (in->p >= in->e) return -1;
  uint8_t t = *in->p++;
  if (t < 0x80) return *v = t, 0;
  if (t >= 0xe0) return *v = (int8_t)t, 0;
  int n;
  int sign = 0;
  switch (t) {
    case 0xcc: n = 1; break;
    case 0xcd: n = 2; break;
    case 0xce: n = 4; break;
    case 0xcf: n = 8; break;
    case 0xd0: n = 1, sign = 1; break;
    case 0xd1: n = 2, sign = 1; break;
    case 0xd2: n = 4, sign = 1; break;
    case 0xd3: n = 8, sign = 1; break;
    default: return -1;
  }
  if (in->e - in->p < n) return -1;
  uint64_t u = 0;
  for (int i = 0; i < n; i++) u = u << 8 | *in->p++;
  if (sign && n < 8 && (u >> (8 * n - 1))) u |= ~0ull << (8 * n);
  *v = (int64_t)u;
  return 0;
}
static int get_str(In *in, char *buf, size_t cap) {
  if (in->p >= in->e) return -1;
  uint8_t t = *in->p++;
  size_t n;
  if ((t & 0xe0) == 0xa0) n = t & 31;
  else if (t == 0xd9 && in->p < in->e) n = *in->p++;
  else return -1;
  if ((size_t)(in->e - in->p) < n || n >= cap) return -1;
  memcpy(buf, in->p, n);
  buf[n] = 0;
  in->p += n;
  return 0;
}

/* ---- one connection, with a read buffer so a reply costs one read() ---- */

typedef struct {
  int fd;
  uint32_t seq;
  uint8_t rb[65536];
  size_t r0, r1;
} Conn;

static int conn_open(Conn *c, const char *path) {
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof a.sun_path) fail("socket path too long");
  strcpy(a.sun_path, path);
  c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (c->fd < 0) return -1;
  c->seq = 0;
  c->r0 = c->r1 = 0;
  return connect(c->fd, (struct sockaddr *)&a, sizeof a);
}

static void write_all(int fd, const uint8_t *b, size_t n) {
  while (n) {
    ssize_t w = write(fd, b, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      die("write");
    }
    b += w, n -= (size_t)w;
  }
}

/* Reads one frame body into *in; skips daemon events. Returns the kind. */
static int64_t read_frame(Conn *c, In *in) {
  for (;;) {
    size_t have = c->r1 - c->r0;
    if (have >= 4) {
      const uint8_t *p = c->rb + c->r0;
      uint32_t len = (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
      if (len > sizeof c->rb - 4) fail("frame too large");
      if (have >= 4 + len) {
        in->p = p + 4 + 1; /* skip the array header */
        in->e = p + 4 + len;
        c->r0 += 4 + len;
        int64_t kind;
        if (get_int(in, &kind) < 0) fail("bad frame");
        if (kind == 3) continue; /* an event (signal delivery): not ours to answer here */
        return kind;
      }
    }
    if (c->r0 > 0) {
      memmove(c->rb, c->rb + c->r0, have);
      c->r1 = have, c->r0 = 0;
    }
    ssize_t r = read(c->fd, c->rb + c->r1, sizeof c->rb - c->r1);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) die("read");
    if (r == 0) fail("connection closed by the server");
    c->r1 += (size_t)r;
  }
}

/* Reads the reply to `seq`; returns its result, leaves *in at the first out field. */
static int64_t read_reply(Conn *c, uint32_t seq, In *in) {
  read_frame(c, in);
  int64_t s, result;
  if (get_int(in, &s) < 0 || s != seq) fail("reply out of order");
  if (get_int(in, &result) < 0) fail("bad result");
  return result;
}

static void send_simple(Conn *c, int nr) {
  Out o;
  begin(&o, 0, ++c->seq, nr);
  end(&o, 0);
  write_all(c->fd, o.b, o.n);
}

static const char *version;
static int64_t my_pid; /* the pid register returned */

/* Appends a guest hello request to o, as the first frame of a write. */
static void put_hello(Out *o, Conn *c) {
  begin(o, 3, ++c->seq, NR_HELLO);
  put_str(o, version);
  put_str(o, "guest");
  put_str(o, "loadgen");
  end(o, 0);
}

/* hello then `second` (register, claim, or with fork's proof secret claim_fd naming a memfd
   called blinkd-proof-PROOF, as a fork child of the C client does), written together; both
   replies read. */
static void handshake_proven(Conn *c, const char *token, const char *proof) {
  Out o;
  int pfd = -1;
  if (proof) {
    char name[64];
    snprintf(name, sizeof name, "blinkd-proof-%s", proof);
    pfd = (int)syscall(SYS_memfd_create, name, 1u /* MFD_CLOEXEC */);
  }
  put_hello(&o, c);
  size_t at = o.n;
  o.n += 4;
  put8(&o, proof ? 0x96 : token ? 0x95 : 0x97);
  put8(&o, 0);
  put_int(&o, ++c->seq);
  if (proof) {
    put_int(&o, NR_CLAIM_FD);
    put_str(&o, token);
    put_int(&o, getpid());
    put_int(&o, pfd);
  } else if (token) {
    put_int(&o, NR_CLAIM);
    put_str(&o, token);
    put_int(&o, getpid());
  } else {
    put_int(&o, NR_REGISTER);
    put_int(&o, getpid());
    put_str(&o, "/bench/loadgen");
    put8(&o, 0x91);
    put_str(&o, "loadgen");
    put_int(&o, 0);
  }
  end(&o, at);
  write_all(c->fd, o.b, o.n);
  In in;
  if (read_reply(c, c->seq - 1, &in) < 0) fail("hello refused (protocol version?)");
  int64_t r = read_reply(c, c->seq, &in);
  if (pfd >= 0) close(pfd);
  my_pid = r;
  if (r < 0) {
    fprintf(stderr, "loadgen: %s failed: errno %lld\n", token ? "claim" : "register", (long long)-r);
    exit(2);
  }
}

static void handshake(Conn *c, const char *token) {
  handshake_proven(c, token, NULL);
}

static void connect_as(Conn *c, const char *sock, int blinkd, const char *token) {
  if (conn_open(c, sock) < 0) die("connect");
  if (blinkd) handshake(c, token);
}

/* One getppid round trip. */
static void call_getppid(Conn *c) {
  send_simple(c, NR_GETPPID);
  In in;
  if (read_reply(c, c->seq, &in) < 0) fail("getppid failed");
}

static void exit_group(Conn *c, int status) {
  Out o;
  begin(&o, 1, ++c->seq, NR_EXIT_GROUP);
  put_int(&o, status);
  end(&o, 0);
  write_all(c->fd, o.b, o.n);
  In in;
  read_reply(c, c->seq, &in);
}

/* exit_group as a post ([4, …]): no reply comes, as a process that ends does not read one. */
static void post_exit_group(Conn *c, int status) {
  Out o;
  begin(&o, 1, ++c->seq, NR_EXIT_GROUP);
  o.b[5] = 4; /* the message kind, after the length and the array's marker */
  put_int(&o, status);
  end(&o, 0);
  write_all(c->fd, o.b, o.n);
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

static int mode_rtt(const char *sock, int blinkd, long n) {
  Conn *c = malloc(sizeof *c);
  connect_as(c, sock, blinkd, NULL);
  for (long i = 0; i < n / 10 + 100; i++) call_getppid(c); /* warm up */
  uint64_t *t = malloc(sizeof *t * (size_t)n);
  uint64_t total = 0;
  for (long i = 0; i < n; i++) {
    uint64_t a = now_ns();
    call_getppid(c);
    t[i] = now_ns() - a;
    total += t[i];
  }
  qsort(t, (size_t)n, sizeof *t, cmp_u64);
  printf("{\"n\":%ld,\"p50_ns\":%llu,\"p99_ns\":%llu,\"mean_ns\":%llu,\"min_ns\":%llu}\n", n, (unsigned long long)t[n / 2],
         (unsigned long long)t[(size_t)((double)n * 0.99)], (unsigned long long)(total / (uint64_t)n), (unsigned long long)t[0]);
  if (blinkd) exit_group(c, 0);
  return 0;
}

static int mode_tput(const char *sock, int blinkd, int clients, long ms) {
  int ready[2], go[2], res[2];
  if (pipe(ready) || pipe(go) || pipe(res)) die("pipe");
  for (int i = 0; i < clients; i++) {
    pid_t p = fork();
    if (p < 0) die("fork");
    if (p == 0) {
      close(ready[0]), close(go[1]), close(res[0]);
      Conn *c = malloc(sizeof *c);
      connect_as(c, sock, blinkd, NULL);
      for (int k = 0; k < 50; k++) call_getppid(c);
      char x = 1;
      write_all(ready[1], (uint8_t *)&x, 1);
      /* One read of the whole message: the clients share this pipe, and a read of up to
         PIPE_BUF bytes takes a message written whole, never part of another's. */
      uint8_t msg[1 + sizeof(uint64_t)];
      if (read(go[0], msg, sizeof msg) != sizeof msg) die("read go");
      uint64_t deadline;
      memcpy(&deadline, msg + 1, sizeof deadline);
      uint64_t calls = 0;
      while (now_ns() < deadline) {
        call_getppid(c);
        calls++;
      }
      write_all(res[1], (uint8_t *)&calls, sizeof calls);
      if (blinkd) exit_group(c, 0);
      _exit(0);
    }
  }
  close(ready[1]), close(go[0]), close(res[1]);
  for (int i = 0; i < clients; i++) {
    char x;
    if (read(ready[0], &x, 1) != 1) fail("a client did not get ready");
  }
  uint64_t start = now_ns(), deadline = start + (uint64_t)ms * 1000000u;
  for (int i = 0; i < clients; i++) {
    uint8_t msg[1 + sizeof deadline];
    msg[0] = 1;
    memcpy(msg + 1, &deadline, sizeof deadline);
    write_all(go[1], msg, sizeof msg);
  }
  uint64_t total = 0;
  for (int i = 0; i < clients; i++) {
    uint64_t calls;
    if (read(res[0], &calls, sizeof calls) != sizeof calls) fail("a client died");
    total += calls;
  }
  while (wait(NULL) > 0) {
  }
  double secs = (double)ms / 1000.0;
  printf("{\"clients\":%d,\"calls\":%llu,\"seconds\":%.3f,\"calls_per_s\":%.0f}\n", clients, (unsigned long long)total, secs, (double)total / secs);
  return 0;
}

/* fork in the daemon, fork on the host; the child claims and exits; the parent waits in both. */
static int mode_forkcycle(const char *sock, long n, int hostfork) {
  Conn *parent = malloc(sizeof *parent);
  Conn *child = malloc(sizeof *child);
  connect_as(parent, sock, 1, NULL);
  uint64_t start = 0;
  long warm = n / 10 + 10;
  for (long i = 0; i < n + warm; i++) {
    if (i == warm) start = now_ns();
    send_simple(parent, NR_FORK);
    In in;
    int64_t pid = read_reply(parent, parent->seq, &in);
    char token[128], proof[128];
    if (pid <= 0 || get_str(&in, token, sizeof token) < 0 || get_str(&in, proof, sizeof proof) < 0) fail("fork call failed");
    pid_t hp = hostfork ? fork() : 0;
    if (hp < 0) die("fork");
    if (hp == 0) {
      /* As a C client's fork child: hello + claim_fd in one write, exit_group posted. */
      if (conn_open(child, sock) < 0) die("connect");
      handshake_proven(child, token, proof);
      post_exit_group(child, 7);
      if (hostfork) _exit(7);
      close(child->fd);
    }
    Out o;
    begin(&o, 2, ++parent->seq, NR_WAIT4);
    put_int(&o, pid);
    put_int(&o, 0);
    end(&o, 0);
    write_all(parent->fd, o.b, o.n);
    int64_t got = read_reply(parent, parent->seq, &in), ws;
    if (got != pid || get_int(&in, &ws) < 0 || ws != (7 << 8)) fail("wait4 did not reap the child with its status");
    int st;
    if (hostfork && waitpid(hp, &st, 0) != hp) die("waitpid");
  }
  double secs = (double)(now_ns() - start) / 1e9;
  printf("{\"cycles\":%ld,\"seconds\":%.3f,\"cycles_per_s\":%.0f}\n", n, secs, (double)n / secs);
  exit_group(parent, 0);
  return 0;
}

static int mode_nativefork(long n) {
  uint64_t start = 0;
  long warm = n / 10 + 10;
  for (long i = 0; i < n + warm; i++) {
    if (i == warm) start = now_ns();
    pid_t p = fork();
    if (p < 0) die("fork");
    if (p == 0) _exit(7);
    int st;
    if (waitpid(p, &st, 0) != p || WEXITSTATUS(st) != 7) die("waitpid");
  }
  double secs = (double)(now_ns() - start) / 1e9;
  printf("{\"cycles\":%ld,\"seconds\":%.3f,\"cycles_per_s\":%.0f}\n", n, secs, (double)n / secs);
  return 0;
}

static int mode_nativeeventfd(long n) {
  int a = eventfd(0, EFD_CLOEXEC), b = eventfd(0, EFD_CLOEXEC);
  if (a < 0 || b < 0) die("eventfd");
  pid_t p = fork();
  if (p == 0) {
    uint64_t v;
    for (;;) {
      if (read(a, &v, 8) != 8) _exit(1);
      if (v == 2) _exit(0);
      v = 1;
      if (write(b, &v, 8) != 8) _exit(1);
    }
  }
  uint64_t v = 1, start = 0;
  long warm = n / 10 + 10;
  for (long i = 0; i < n + warm; i++) {
    if (i == warm) start = now_ns();
    v = 1;
    if (write(a, &v, 8) != 8 || read(b, &v, 8) != 8) die("eventfd ping-pong");
  }
  double secs = (double)(now_ns() - start) / 1e9;
  v = 2;
  if (write(a, &v, 8) != 8) die("eventfd");
  waitpid(p, NULL, 0);
  printf("{\"round_trips\":%ld,\"seconds\":%.3f,\"round_trips_per_s\":%.0f,\"mean_ns\":%.0f}\n", n, secs, (double)n / secs, secs * 1e9 / (double)n);
  return 0;
}

/* Reserves `count` children of c, pipelined; fills tokens (may be NULL) and pids. */
static void fork_many(Conn *c, int count, char (*tokens)[64], int64_t *pids) {
  Out o;
  for (int done = 0; done < count;) {
    int batch = count - done < 256 ? count - done : 256;
    uint8_t buf[256 * 16]; /* a fork request is at most 12 bytes */
    size_t n = 0;
    for (int k = 0; k < batch; k++) {
      begin(&o, 0, ++c->seq, NR_FORK);
      end(&o, 0);
      memcpy(buf + n, o.b, o.n);
      n += o.n;
    }
    write_all(c->fd, buf, n);
    for (int k = 0; k < batch; k++) {
      In in;
      int64_t pid = read_reply(c, c->seq - (uint32_t)(batch - 1 - k), &in);
      if (pid <= 0) {
        fprintf(stderr, "loadgen: fork failed: errno %lld\n", (long long)-pid);
        exit(2);
      }
      if (pids) pids[done + k] = pid;
      if (tokens && get_str(&in, tokens[done + k], 64) < 0) fail("fork reply without token");
    }
    done += batch;
  }
}

static void hold_until_stdin(void) {
  fflush(stdout);
  char line[16];
  if (!fgets(line, sizeof line, stdin)) {
  }
}

static int mode_mass(const char *sock, int conns, int perconn) {
  Conn **cs = malloc(sizeof *cs * (size_t)conns);
  uint64_t t0 = now_ns();
  for (int i = 0; i < conns; i++) {
    cs[i] = malloc(sizeof(Conn));
    connect_as(cs[i], sock, 1, NULL);
  }
  uint64_t t1 = now_ns();
  for (int i = 0; i < conns; i++) fork_many(cs[i], perconn, NULL, NULL);
  uint64_t t2 = now_ns();
  printf("{\"connections\":%d,\"processes\":%d,\"connect_s\":%.3f,\"fork_s\":%.3f}\n", conns, conns * (1 + perconn), (double)(t1 - t0) / 1e9,
         (double)(t2 - t1) / 1e9);
  hold_until_stdin();
  return 0;
}

/* n zombies: children of one parent that claim on their own connection and exit at once. */
static int mode_zombies(const char *sock, int n) {
  Conn *parent = malloc(sizeof *parent);
  connect_as(parent, sock, 1, NULL);
  enum { BATCH = 128 };
  char(*tokens)[64] = malloc(sizeof *tokens * BATCH);
  Conn *kids = malloc(sizeof *kids * BATCH);
  uint64_t t0 = now_ns();
  for (int done = 0; done < n;) {
    int batch = n - done < BATCH ? n - done : BATCH;
    fork_many(parent, batch, tokens, NULL);
    for (int k = 0; k < batch; k++) {
      Conn *c = &kids[k];
      if (conn_open(c, sock) < 0) die("connect");
      /* hello, claim and exit_group in one write; the replies are read below */
      Out o;
      put_hello(&o, c);
      size_t at = o.n;
      o.n += 4;
      put8(&o, 0x95), put8(&o, 0), put_int(&o, ++c->seq), put_int(&o, NR_CLAIM), put_str(&o, tokens[k]), put_int(&o, getpid());
      end(&o, at);
      at = o.n;
      o.n += 4;
      put8(&o, 0x94), put8(&o, 0), put_int(&o, ++c->seq), put_int(&o, NR_EXIT_GROUP), put_int(&o, 0);
      end(&o, at);
      write_all(c->fd, o.b, o.n);
    }
    for (int k = 0; k < batch; k++) {
      In in;
      Conn *c = &kids[k];
      if (read_reply(c, 1, &in) < 0 || read_reply(c, 2, &in) < 0 || read_reply(c, 3, &in) < 0) fail("a child's claim or exit failed");
      close(c->fd);
    }
    done += batch;
  }
  printf("{\"zombies\":%d,\"seconds\":%.3f}\n", n, (double)(now_ns() - t0) / 1e9);
  hold_until_stdin();
  return 0;
}

static int mode_kill(const char *sock, long n, int sig) {
  Conn *c = malloc(sizeof *c);
  connect_as(c, sock, 1, NULL);
  uint64_t start = 0;
  long warm = n / 10 + 100;
  for (long i = 0; i < n + warm; i++) {
    if (i == warm) start = now_ns();
    Out o;
    begin(&o, 2, ++c->seq, NR_KILL);
    put_int(&o, my_pid);
    put_int(&o, sig);
    end(&o, 0);
    write_all(c->fd, o.b, o.n);
    In in;
    int64_t r = read_reply(c, c->seq, &in);
    if (r < 0) {
      fprintf(stderr, "loadgen: kill(%lld, %d) failed: errno %lld\n", (long long)my_pid, sig, (long long)-r);
      exit(2);
    }
  }
  printf("{\"calls\":%ld,\"mean_ns\":%.0f}\n", n, (double)(now_ns() - start) / (double)n);
  exit_group(c, 0);
  return 0;
}

static int64_t call2(Conn *c, int nr, int nargs, const int64_t *args, In *in) {
  Out o;
  begin(&o, nargs, ++c->seq, nr);
  for (int i = 0; i < nargs; i++) put_int(&o, args[i]);
  end(&o, 0);
  write_all(c->fd, o.b, o.n);
  return read_reply(c, c->seq, in);
}

static void efd_write(Conn *c, int64_t fd, int64_t v) {
  In in;
  int64_t a[3] = {fd, v, 8};
  if (call2(c, NR_EVENTFD_WRITE, 3, a, &in) < 0) fail("eventfd_write failed");
}

static int64_t efd_read(Conn *c, int64_t fd) {
  In in;
  int64_t a[2] = {fd, 8}, v;
  if (call2(c, NR_EVENTFD_READ, 2, a, &in) < 0 || get_int(&in, &v) < 0) fail("eventfd_read failed");
  return v;
}

/* The child's side of the ping-pong: answers every ping with a pong until the ping carries 2. */
static void pingpong_child(Conn *k, int64_t ping, int64_t pong) {
  for (;;) {
    int64_t v = efd_read(k, ping);
    if (v == 2) break;
    efd_write(k, pong, 1);
  }
}

/* The parent's side: n timed round trips after a warm-up, then the 2 that ends the child; seconds taken. */
static double pingpong_parent(Conn *c, int64_t ping, int64_t pong, long n) {
  uint64_t start = 0, tw = 0, tr = 0;
  long warm = n / 10 + 10;
  for (long i = 0; i < n + warm; i++) {
    if (i == warm) start = now_ns(), tw = tr = 0;
    uint64_t t0 = now_ns();
    efd_write(c, ping, 1);
    uint64_t t1 = now_ns();
    if (efd_read(c, pong) != 1) fail("pong with a wrong value");
    tw += t1 - t0, tr += now_ns() - t1;
  }
  if (getenv("LOADGEN_DEBUG")) fprintf(stderr, "write %.0f ns, read %.0f ns\n", (double)tw / n, (double)tr / n);
  double secs = (double)(now_ns() - start) / 1e9;
  efd_write(c, ping, 2);
  return secs;
}

static void print_pingpong(long n, double secs) {
  printf("{\"round_trips\":%ld,\"seconds\":%.3f,\"round_trips_per_s\":%.0f,\"mean_ns\":%.0f}\n", n, secs, (double)n / secs, secs * 1e9 / (double)n);
}

static int mode_eventfd(const char *sock, long n) {
  Conn *c = malloc(sizeof *c);
  connect_as(c, sock, 1, NULL);
  In in;
  int64_t a0[2] = {0, 0};
  int64_t ping = call2(c, NR_EVENTFD2, 2, a0, &in), pong = call2(c, NR_EVENTFD2, 2, a0, &in);
  if (ping < 0 || pong < 0) fail("eventfd2 failed");
  send_simple(c, NR_FORK);
  int64_t pid = read_reply(c, c->seq, &in);
  char token[128];
  if (pid <= 0 || get_str(&in, token, sizeof token) < 0) fail("fork call failed");
  pid_t hp = fork();
  if (hp < 0) die("fork");
  if (hp == 0) {
    /* the child has the parent's descriptors (fork copies the table): it answers every ping */
    Conn *k = malloc(sizeof *k);
    connect_as(k, sock, 1, token);
    pingpong_child(k, ping, pong);
    exit_group(k, 0);
    _exit(0);
  }
  double secs = pingpong_parent(c, ping, pong, n);
  int64_t wa[2] = {pid, 0};
  if (call2(c, NR_WAIT4, 2, wa, &in) != pid) fail("wait4 for the child failed");
  waitpid(hp, NULL, 0);
  print_pingpong(n, secs);
  exit_group(c, 0);
  return 0;
}

/* The eventfd ping-pong's frames, unchanged, against relay-server.ts (no hello, no fork call:
   the server knows no processes); its eventfds are the numbers 0 and 1. */
static int mode_relayeventfd(const char *sock, long n) {
  const int64_t ping = 0, pong = 1;
  pid_t hp = fork();
  if (hp < 0) die("fork");
  if (hp == 0) {
    Conn *k = malloc(sizeof *k);
    connect_as(k, sock, 0, NULL);
    pingpong_child(k, ping, pong);
    _exit(0);
  }
  Conn *c = malloc(sizeof *c);
  connect_as(c, sock, 0, NULL);
  double secs = pingpong_parent(c, ping, pong, n);
  waitpid(hp, NULL, 0);
  print_pingpong(n, secs);
  return 0;
}

int main(int argc, char **argv) {
  signal(SIGPIPE, SIG_IGN);
  if (argc < 3) fail("usage: see the comment at the top of loadgen.c");
  const char *m = argv[1];
  if (!strcmp(m, "nativefork")) return mode_nativefork(atol(argv[2]));
  if (!strcmp(m, "nativeeventfd")) return mode_nativeeventfd(atol(argv[2]));
  if (!strcmp(m, "relayeventfd")) return mode_relayeventfd(argv[2], atol(argv[3]));
  if (argc < 5) fail("usage: see the comment at the top of loadgen.c");
  const char *sock = argv[2];
  version = argv[3];
  if (!strcmp(m, "rtt") && argc == 6) return mode_rtt(sock, !strcmp(argv[4], "blinkd"), atol(argv[5]));
  if (!strcmp(m, "tput") && argc == 7) return mode_tput(sock, !strcmp(argv[4], "blinkd"), atoi(argv[5]), atol(argv[6]));
  if (!strcmp(m, "forkcycle") && argc == 6) return mode_forkcycle(sock, atol(argv[4]), atoi(argv[5]));
  if (!strcmp(m, "mass") && argc == 6) return mode_mass(sock, atoi(argv[4]), atoi(argv[5]));
  if (!strcmp(m, "zombies")) return mode_zombies(sock, atoi(argv[4]));
  if (!strcmp(m, "eventfd")) return mode_eventfd(sock, atol(argv[4]));
  if (!strcmp(m, "kill") && argc == 6) return mode_kill(sock, atol(argv[4]), atoi(argv[5]));
  fail("unknown mode or wrong arguments");
}
