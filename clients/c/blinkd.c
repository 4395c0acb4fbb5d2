/*
 * blinkd.c: framing, msgpack, sequence numbers, the one-reply rule and interrupts
 * (spec/protocol.md §2–§6). libc only.
 *
 * Signals: a call blocks every signal while it writes and parses, and lets them in only
 * while it waits in ppoll with the caller's own mask, so a handler that makes a call of
 * its own always finds the buffers between frames. A reply the handler's call reads for
 * the outer call is kept in a stash slot until the outer call takes it.
 */
#define _GNU_SOURCE
#include "blinkd.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#define ERESTARTSYS_ BLINKD_ERESTARTSYS

/* The library that interposes sigprocmask and ppoll (clients/c/preload) builds the client
   with its own host-only versions, so the client's masking is never reported as the
   program's. */
#ifndef BLINKD_SIGPROCMASK
#define BLINKD_SIGPROCMASK sigprocmask
#else
int BLINKD_SIGPROCMASK(int how, const sigset_t *set, sigset_t *old);
#endif
#ifndef BLINKD_PPOLL
#define BLINKD_PPOLL ppoll
#else
int BLINKD_PPOLL(struct pollfd *fds, nfds_t n, const struct timespec *timeout, const sigset_t *mask);
#endif

static void seterr(struct blinkd_conn *c, const char *fmt, const char *a, const char *b) {
  if (!c) return;
  snprintf(c->error, sizeof c->error, fmt, a ? a : "", b ? b : "");
}

/* ---- socket path ---- */

int blinkd_socket_path(char *buf, size_t n) {
  const char *s = getenv("BLINKD_SOCKET");
  int k;
  if (s && *s) {
    k = snprintf(buf, n, "%s", s);
  } else {
    const char *p = getenv("BLINK_PREFIX");
    const char *x = getenv("XDG_RUNTIME_DIR");
    if (p && *p) k = snprintf(buf, n, "%s/blinkd.sock", p);
    else if (x && *x) k = snprintf(buf, n, "%s/blinkd/blinkd.sock", x);
    else k = snprintf(buf, n, "/tmp/blinkd-%u/blinkd.sock", (unsigned)getuid());
  }
  if (k < 0 || (size_t)k >= n) return -ENAMETOOLONG;
  return 0;
}

/* ---- buffers and encoding ---- */

void blinkd_buf_init(struct blinkd_buf *b, unsigned char *stack, size_t cap) {
  b->p = stack;
  b->len = 0;
  b->cap = cap;
  b->heap = 0;
  b->oom = 0;
}

void blinkd_buf_free(struct blinkd_buf *b) {
  if (b->heap) free(b->p);
  b->p = NULL;
  b->cap = b->len = 0;
  b->heap = 0;
}

static int reserve(struct blinkd_buf *b, size_t n) {
  if (b->oom) return 0;
  if (b->len + n <= b->cap) return 1;
  size_t cap = b->cap ? b->cap * 2 : 256;
  while (cap < b->len + n) cap *= 2;
  unsigned char *p = b->heap ? realloc(b->p, cap) : malloc(cap);
  if (!p) {
    b->oom = 1;
    return 0;
  }
  if (!b->heap && b->len) memcpy(p, b->p, b->len);
  b->p = p;
  b->cap = cap;
  b->heap = 1;
  return 1;
}

static void put1(struct blinkd_buf *b, unsigned x) {
  if (reserve(b, 1)) b->p[b->len++] = (unsigned char)x;
}

static void putbe(struct blinkd_buf *b, uint64_t v, int n) {
  if (!reserve(b, (size_t)n)) return;
  for (int i = n - 1; i >= 0; i--) b->p[b->len++] = (unsigned char)(v >> (8 * i));
}

static void putraw(struct blinkd_buf *b, const void *s, size_t n) {
  if (n && reserve(b, n)) {
    memcpy(b->p + b->len, s, n);
    b->len += n;
  }
}

/* msgpack's smallest integer format, as msgpack-lite writes a JavaScript number. */
void blinkd_put_int(struct blinkd_buf *b, int64_t v) {
  if (v >= 0) {
    if (v < 128) put1(b, (unsigned)v);
    else if (v < 0x100) put1(b, 0xcc), putbe(b, (uint64_t)v, 1);
    else if (v < 0x10000) put1(b, 0xcd), putbe(b, (uint64_t)v, 2);
    else if (v <= 0xffffffffLL) put1(b, 0xce), putbe(b, (uint64_t)v, 4);
    else put1(b, 0xcf), putbe(b, (uint64_t)v, 8);
  } else {
    if (v >= -32) put1(b, (unsigned)(v & 0xff));
    else if (v >= -128) put1(b, 0xd0), putbe(b, (uint64_t)v, 1);
    else if (v >= -32768) put1(b, 0xd1), putbe(b, (uint64_t)v, 2);
    else if (v >= -2147483648LL) put1(b, 0xd2), putbe(b, (uint64_t)v, 4);
    else put1(b, 0xd3), putbe(b, (uint64_t)v, 8);
  }
}

/* The TypeScript side sends a 64-bit field (a bigint) always in the 9-byte formats. */
void blinkd_put_u64(struct blinkd_buf *b, uint64_t v) {
  put1(b, 0xcf);
  putbe(b, v, 8);
}

void blinkd_put_i64(struct blinkd_buf *b, int64_t v) {
  put1(b, v < 0 ? 0xd3 : 0xcf);
  putbe(b, (uint64_t)v, 8);
}

void blinkd_put_str(struct blinkd_buf *b, const char *s, size_t n) {
  if (n < 32) put1(b, 0xa0 | (unsigned)n);
  else if (n < 0x100) put1(b, 0xd9), putbe(b, n, 1);
  else if (n < 0x10000) put1(b, 0xda), putbe(b, n, 2);
  else put1(b, 0xdb), putbe(b, n, 4);
  putraw(b, s, n);
}

void blinkd_put_bin(struct blinkd_buf *b, const void *s, size_t n) {
  if (n < 0x100) put1(b, 0xc4), putbe(b, n, 1);
  else if (n < 0x10000) put1(b, 0xc5), putbe(b, n, 2);
  else put1(b, 0xc6), putbe(b, n, 4);
  putraw(b, s, n);
}

void blinkd_put_array(struct blinkd_buf *b, size_t n) {
  if (n < 16) put1(b, 0x90 | (unsigned)n);
  else if (n < 0x10000) put1(b, 0xdc), putbe(b, n, 2);
  else put1(b, 0xdd), putbe(b, n, 4);
}

void blinkd_put_field(struct blinkd_buf *b, int type, const void *v) {
  switch (type) {
    case BLINKD_T_I32: blinkd_put_int(b, *(const int32_t *)v); break;
    case BLINKD_T_U32: blinkd_put_int(b, *(const uint32_t *)v); break;
    case BLINKD_T_I64: blinkd_put_i64(b, *(const int64_t *)v); break;
    case BLINKD_T_U64: blinkd_put_u64(b, *(const uint64_t *)v); break;
    case BLINKD_T_BOOL: put1(b, *(const int *)v ? 0xc3 : 0xc2); break;
    case BLINKD_T_STR: {
      const char *s = *(const char *const *)v;
      if (!s) s = "";
      blinkd_put_str(b, s, strlen(s));
      break;
    }
    case BLINKD_T_BYTES: blinkd_put_bin(b, *(const void *const *)v, *(const size_t *)((const char *)v + sizeof(void *))); break;
    case BLINKD_T_ANY: {
      const void *p = *(const void *const *)v;
      size_t n = *(const size_t *)((const char *)v + sizeof(void *));
      if (p && n) putraw(b, p, n);
      else put1(b, 0xc0);
      break;
    }
    case BLINKD_T_STRS: {
      const char *const *a = *(const char *const *const *)v;
      size_t n = 0;
      while (a && a[n]) n++;
      blinkd_put_array(b, n);
      for (size_t i = 0; i < n; i++) blinkd_put_str(b, a[i], strlen(a[i]));
      break;
    }
    case BLINKD_T_I32S: {
      const int32_t *a = *(const int32_t *const *)v;
      size_t n = *(const size_t *)((const char *)v + sizeof(void *));
      blinkd_put_array(b, n);
      for (size_t i = 0; i < n; i++) blinkd_put_int(b, a[i]);
      break;
    }
  }
}

static void put_call(struct blinkd_buf *b, int kind, uint32_t seq, const struct blinkd_call *call, const void *args) {
  size_t start = b->len;
  putbe(b, 0, 4);
  blinkd_put_array(b, 3u + call->nargs);
  blinkd_put_int(b, kind);
  blinkd_put_int(b, seq);
  blinkd_put_int(b, call->nr);
  for (int i = 0; i < call->nargs; i++) blinkd_put_field(b, call->args[i].type, (const char *)args + call->args[i].offset);
  if (b->oom) return;
  size_t n = b->len - start - 4;
  for (int i = 0; i < 4; i++) b->p[start + i] = (unsigned char)(n >> (8 * (3 - i)));
}

void blinkd_put_request(struct blinkd_buf *b, uint32_t seq, const struct blinkd_call *call, const void *args) {
  put_call(b, BLINKD_MSG_REQUEST, seq, call, args);
}

void blinkd_put_post(struct blinkd_buf *b, uint32_t seq, const struct blinkd_call *call, const void *args) {
  put_call(b, BLINKD_MSG_POST, seq, call, args);
}

/* ---- decoding ---- */

struct rd {
  const unsigned char *p, *end;
  int bad;
};

static uint64_t getbe(struct rd *r, int n) {
  if (r->end - r->p < n) {
    r->bad = 1;
    return 0;
  }
  uint64_t v = 0;
  for (int i = 0; i < n; i++) v = (v << 8) | *r->p++;
  return v;
}

/* Any msgpack integer format. *neg says the value is below 0 (then *v is its int64). */
static int rd_int(struct rd *r, uint64_t *v, int *neg) {
  if (r->p >= r->end) return r->bad = 1, 0;
  unsigned t = *r->p++;
  *neg = 0;
  if (t < 0x80) return *v = t, 1;
  if (t >= 0xe0) return *v = (uint64_t)(int64_t)(int8_t)t, *neg = 1, 1;
  switch (t) {
    case 0xcc: *v = getbe(r, 1); return !r->bad;
    case 0xcd: *v = getbe(r, 2); return !r->bad;
    case 0xce: *v = getbe(r, 4); return !r->bad;
    case 0xcf: *v = getbe(r, 8); return !r->bad;
    case 0xd0: *v = (uint64_t)(int64_t)(int8_t)getbe(r, 1); break;
    case 0xd1: *v = (uint64_t)(int64_t)(int16_t)getbe(r, 2); break;
    case 0xd2: *v = (uint64_t)(int64_t)(int32_t)getbe(r, 4); break;
    case 0xd3: *v = getbe(r, 8); break;
    default: r->p--; return 0; /* not an integer (a float is never one) */
  }
  if (r->bad) return 0;
  *neg = (int64_t)*v < 0;
  return 1;
}

static int rd_len(struct rd *r, unsigned fix_lo, unsigned fix_hi, unsigned b8, unsigned b16, unsigned b32, size_t *n) {
  if (r->p >= r->end) return r->bad = 1, 0;
  unsigned t = *r->p;
  if (t >= fix_lo && t <= fix_hi) return r->p++, *n = t - fix_lo, 1;
  if (b8 && t == b8) return r->p++, *n = getbe(r, 1), !r->bad;
  if (t == b16) return r->p++, *n = getbe(r, 2), !r->bad;
  if (t == b32) return r->p++, *n = getbe(r, 4), !r->bad;
  return 0;
}

static int rd_str(struct rd *r, const unsigned char **s, size_t *n) {
  if (!rd_len(r, 0xa0, 0xbf, 0xd9, 0xda, 0xdb, n)) return 0;
  if ((size_t)(r->end - r->p) < *n) return r->bad = 1, 0;
  *s = r->p;
  r->p += *n;
  return 1;
}

static int rd_bin(struct rd *r, const unsigned char **s, size_t *n) {
  if (!rd_len(r, 0x100, 0x100, 0xc4, 0xc5, 0xc6, n)) return 0;
  if ((size_t)(r->end - r->p) < *n) return r->bad = 1, 0;
  *s = r->p;
  r->p += *n;
  return 1;
}

static int rd_array(struct rd *r, size_t *n) {
  return rd_len(r, 0x90, 0x9f, 0, 0xdc, 0xdd, n);
}

/* Skips one value of any type. */
static int rd_skip(struct rd *r, int depth) {
  if (depth > 64 || r->p >= r->end) return r->bad = 1, 0;
  unsigned t = *r->p;
  uint64_t v;
  int neg;
  size_t n;
  const unsigned char *s;
  if (rd_int(r, &v, &neg)) return 1;
  if (r->bad) return 0;
  if (rd_str(r, &s, &n) || rd_bin(r, &s, &n)) return 1;
  if (r->bad) return 0;
  if (rd_array(r, &n)) {
    for (size_t i = 0; i < n; i++)
      if (!rd_skip(r, depth + 1)) return 0;
    return 1;
  }
  if (t >= 0x80 && t <= 0x8f) n = t - 0x80, r->p++;
  else if (t == 0xde) r->p++, n = getbe(r, 2);
  else if (t == 0xdf) r->p++, n = getbe(r, 4);
  else {
    r->p++;
    switch (t) {
      case 0xc0: case 0xc2: case 0xc3: return 1;
      case 0xca: getbe(r, 4); return !r->bad;
      case 0xcb: getbe(r, 8); return !r->bad;
      case 0xd4: getbe(r, 2); return !r->bad;
      case 0xd5: getbe(r, 3); return !r->bad;
      case 0xd6: getbe(r, 5); return !r->bad;
      case 0xd7: getbe(r, 9); return !r->bad;
      case 0xd8: getbe(r, 17); return !r->bad;
      case 0xc7: case 0xc8: case 0xc9: {
        size_t len = getbe(r, t == 0xc7 ? 1 : t == 0xc8 ? 2 : 4);
        getbe(r, 1);
        if (r->bad || (size_t)(r->end - r->p) < len) return r->bad = 1, 0;
        r->p += len;
        return 1;
      }
      default: return r->bad = 1, 0;
    }
  }
  if (r->bad) return 0;
  for (size_t i = 0; i < 2 * n; i++)
    if (!rd_skip(r, depth + 1)) return 0;
  return 1;
}

static const char *tname(int t) {
  static const char *const n[] = {"?", "i32", "u32", "i64", "u64", "bool", "str", "bytes", "strs", "i32s", "any"};
  return t >= 1 && t <= 10 ? n[t] : "?";
}

/* One result field into the out struct; 0 on a type mismatch. */
static int rd_field(struct rd *r, int type, void *dst) {
  uint64_t v;
  int neg;
  const unsigned char *s;
  size_t n;
  switch (type) {
    case BLINKD_T_I32:
      if (!rd_int(r, &v, &neg) || (neg ? (int64_t)v < INT32_MIN : v > INT32_MAX)) return 0;
      *(int32_t *)dst = (int32_t)(int64_t)v;
      return 1;
    case BLINKD_T_U32:
      if (!rd_int(r, &v, &neg) || neg || v > UINT32_MAX) return 0;
      *(uint32_t *)dst = (uint32_t)v;
      return 1;
    case BLINKD_T_I64:
      if (!rd_int(r, &v, &neg) || (!neg && v > INT64_MAX)) return 0;
      *(int64_t *)dst = (int64_t)v;
      return 1;
    case BLINKD_T_U64:
      if (!rd_int(r, &v, &neg) || neg) return 0;
      *(uint64_t *)dst = v;
      return 1;
    case BLINKD_T_BOOL:
      if (r->p >= r->end || (*r->p != 0xc2 && *r->p != 0xc3)) return 0;
      *(int *)dst = *r->p++ == 0xc3;
      return 1;
    case BLINKD_T_STR:
      if (!rd_str(r, &s, &n) || n >= BLINKD_STR_OUT_MAX) return 0;
      memcpy(dst, s, n);
      ((char *)dst)[n] = 0;
      return 1;
    case BLINKD_T_BYTES:
    case BLINKD_T_ANY: {
      const unsigned char *start = r->p;
      if (type == BLINKD_T_BYTES ? !rd_bin(r, &s, &n) : !rd_skip(r, 0)) return 0;
      if (type == BLINKD_T_ANY) s = start, n = (size_t)(r->p - start);
      void *p = malloc(n ? n : 1);
      if (!p) return 0;
      memcpy(p, s, n);
      *(void **)dst = p;
      *(size_t *)((char *)dst + sizeof(void *)) = n;
      return 1;
    }
    case BLINKD_T_STRS: {
      size_t cnt;
      if (!rd_array(r, &cnt)) return 0;
      struct rd scan = *r;
      size_t total = 0;
      for (size_t i = 0; i < cnt; i++) {
        if (!rd_str(&scan, &s, &n)) return 0;
        total += n + 1;
      }
      char **a = malloc((cnt + 1) * sizeof(char *) + total);
      if (!a) return 0;
      char *q = (char *)(a + cnt + 1);
      for (size_t i = 0; i < cnt; i++) {
        rd_str(r, &s, &n);
        a[i] = q;
        memcpy(q, s, n);
        q[n] = 0;
        q += n + 1;
      }
      a[cnt] = NULL;
      *(char ***)dst = a;
      return 1;
    }
    case BLINKD_T_I32S: {
      size_t cnt;
      if (!rd_array(r, &cnt) || cnt > (size_t)(r->end - r->p)) return 0;
      int32_t *a = malloc((cnt ? cnt : 1) * sizeof(int32_t));
      if (!a) return 0;
      for (size_t i = 0; i < cnt; i++) {
        if (!rd_int(r, &v, &neg) || (neg ? (int64_t)v < INT32_MIN : v > INT32_MAX)) return free(a), 0;
        a[i] = (int32_t)(int64_t)v;
      }
      *(int32_t **)dst = a;
      *(size_t *)((char *)dst + sizeof(void *)) = cnt;
      return 1;
    }
  }
  return 0;
}

void blinkd_out_free(const struct blinkd_call *call, void *out) {
  if (!out) return;
  for (int i = 0; i < call->nout; i++) {
    int t = call->out[i].type;
    if (t == BLINKD_T_BYTES || t == BLINKD_T_ANY || t == BLINKD_T_STRS || t == BLINKD_T_I32S) {
      void **p = (void **)((char *)out + call->out[i].offset);
      free(*p);
      *p = NULL;
    }
  }
}

int64_t blinkd_decode_reply(struct blinkd_conn *c, const unsigned char *body, size_t len, const struct blinkd_call *call, uint32_t *seq, void *out) {
  struct rd r = {body, body + len, 0};
  size_t n;
  uint64_t v;
  int neg;
  if (c) c->error[0] = 0;
  if (!rd_array(&r, &n) || n < 3) return seterr(c, "reply: expected an array [1, seq, result, …]%s%s", 0, 0), -EPROTO;
  if (!rd_int(&r, &v, &neg) || v != BLINKD_MSG_REPLY) return seterr(c, "reply: kind is not 1%s%s", 0, 0), -EPROTO;
  if (!rd_int(&r, &v, &neg) || neg || v > UINT32_MAX) return seterr(c, "reply seq: expected u32%s%s", 0, 0), -EPROTO;
  *seq = (uint32_t)v;
  if (!rd_int(&r, &v, &neg) || (!neg && v > INT64_MAX)) return seterr(c, "reply result: expected i64%s%s", 0, 0), -EPROTO;
  int64_t result = (int64_t)v;
  if (result < 0) {
    const unsigned char *s;
    size_t sn;
    /* §4.2: a failure carries nothing, or one sentence for people. */
    if (n > 4 || (n == 4 && !rd_str(&r, &s, &sn)) || r.p != r.end) return seterr(c, "reply: a failure carries at most one string (the detail)%s%s", 0, 0), -EPROTO;
    if (n == 4 && c) {
      if (sn >= sizeof c->error) sn = sizeof c->error - 1;
      memcpy(c->error, s, sn);
      c->error[sn] = 0;
    }
    return result;
  }
  if (!call) return result;
  if (n != 3u + call->nout) {
    char want[24], got[24];
    snprintf(want, sizeof want, "%d", call->nout);
    snprintf(got, sizeof got, "%zu", n - 3);
    seterr(c, "reply: expected %s out fields, got %s", want, got);
    return -EPROTO;
  }
  if (out) memset(out, 0, call->out_size);
  for (int i = 0; i < call->nout; i++) {
    if (!out) {
      if (!rd_skip(&r, 0)) return seterr(c, "reply.%s: malformed%s", call->out[i].name, 0), -EPROTO;
      continue;
    }
    if (!rd_field(&r, call->out[i].type, (char *)out + call->out[i].offset)) {
      blinkd_out_free(call, out);
      seterr(c, "reply.%s: expected %s", call->out[i].name, tname(call->out[i].type));
      return -EPROTO;
    }
  }
  if (r.p != r.end) return blinkd_out_free(call, out), seterr(c, "reply: bytes after the message%s%s", 0, 0), -EPROTO;
  return result;
}

/* ---- when the daemon is gone (blinkd.h) ---- */

static int gone_policy = BLINKD_GONE_RETURN;
static char gone_who[64] = "blinkd client";

static int (*due_hook)(void);

void blinkd_set_due_hook(int (*due)(void)) {
  due_hook = due;
}

void blinkd_set_gone_policy(int policy, const char *who) {
  gone_policy = policy;
  if (who) snprintf(gone_who, sizeof gone_who, "%s", who);
}

int blinkd_gone_policy(void) {
  return gone_policy;
}

void blinkd_daemon_gone(const struct blinkd_conn *c, const char *why) {
  /* Raw system calls: a program that interposes getpid and kill (the preload) answers them
     from the daemon, which is gone. One thread writes the line; the others wait for the end. */
  static int once;
  pid_t self = (pid_t)syscall(SYS_getpid);
  if (!__atomic_exchange_n(&once, 1, __ATOMIC_SEQ_CST)) {
    char b[512];
    if (!why) why = c && c->error[0] ? c->error : "blinkd closed the connection";
    int n = snprintf(b, sizeof b, "%s (host pid %d): the blinkd daemon is gone (%s): its namespace is over, so this process is killed (SIGKILL)\n", gone_who, (int)self, why);
    if (n > 0) (void)!write(2, b, (size_t)n < sizeof b ? (size_t)n : sizeof b - 1);
  }
  syscall(SYS_kill, self, SIGKILL);
  for (;;) pause();
}

static int watched_fd = -1;
/* The watcher of this process (watcher_pid: a fork child has none), the pipe that stops it,
   and its host tid (0 once it has ended: CLONE_CHILD_CLEARTID). */
static pid_t watcher_pid;
static pid_t watcher_tid;
static int wake[2] = {-1, -1};
/* Its stack: static, so starting it maps nothing (a fork child, which has no watcher, starts
   its own on its copy). */
static char watch_stack[64 << 10] __attribute__((aligned(64)));

/* The FATAL reason, when it is the next frame waiting on fd (peeked, never read). */
static void peek_fatal(int fd, char *why, size_t n) {
  unsigned char b[600];
  why[0] = 0;
  ssize_t k = syscall(SYS_recvfrom, fd, b, sizeof b, MSG_PEEK | MSG_DONTWAIT, NULL, NULL);
  if (k < 5) return;
  size_t len = ((size_t)b[0] << 24) | ((size_t)b[1] << 16) | ((size_t)b[2] << 8) | b[3];
  if (len + 4 > (size_t)k) return;
  struct rd r = {b + 4, b + 4 + len, 0};
  size_t an, sn;
  uint64_t v;
  int neg;
  const unsigned char *s;
  if (!rd_array(&r, &an) || an != 3 || !rd_int(&r, &v, &neg) || v != BLINKD_MSG_EVENT || !rd_int(&r, &v, &neg) || v != BLINKD_EV_FATAL || !rd_str(&r, &s, &sn)) return;
  if (sn >= n) sn = n - 1;
  memcpy(why, s, sn);
  why[sn] = 0;
}

/*
 * The watcher is a bare host thread (clone(2) with the creator's TLS, every signal blocked),
 * not a pthread: glibc's thread (a 64 KiB stack mapped and guarded, its set-up and
 * bookkeeping) made every guest process dearer to start and to end (a fork-and-exit loop on
 * this project's machine: +0.66 ms of CPU per process with the pthread, +0.40 ms with this;
 * bench/README.md). It shares the TLS of the thread that started it, so it makes only system
 * calls that succeed (poll with every signal blocked), touches no other per-thread state, and
 * only on its way to blinkd_daemon_gone (which ends the process) does more. glibc does not
 * count it: a process whose last pthread ends exits as usual, ending it.
 */
static int watch_thread(void *arg) {
  (void)arg;
  for (;;) {
    int fd = __atomic_load_n(&watched_fd, __ATOMIC_SEQ_CST);
    struct pollfd p[2] = {{fd, POLLRDHUP, 0}, {wake[0], POLLIN, 0}};
    long k = syscall(SYS_poll, p, 2, -1);
    if (k < 0 || p[1].revents) return 0; /* stopped (blinkd_unwatch_daemon) */
    if (fd != __atomic_load_n(&watched_fd, __ATOMIC_SEQ_CST)) continue;
    /* The program closed the descriptor under it (a close of every descriptor): nothing to watch. */
    if (p[0].revents & POLLNVAL) {
      __atomic_store_n(&watched_fd, -1, __ATOMIC_SEQ_CST);
      continue;
    }
    if (p[0].revents & (POLLRDHUP | POLLHUP | POLLERR)) {
      char why[256];
      peek_fatal(fd, why, sizeof why);
      blinkd_daemon_gone(NULL, why[0] ? why : NULL);
    }
  }
}

int blinkd_watch_daemon(int fd) {
  __atomic_store_n(&watched_fd, fd, __ATOMIC_SEQ_CST);
  pid_t self = (pid_t)syscall(SYS_getpid);
  /* Retargeted (or disarmed): the watcher checks the descriptor again before it acts. */
  if (watcher_pid == self) return 0;
  if (fd < 0) return 0;
  /* A fork child inherits the parent's pipe, not its thread. */
  if (wake[0] >= 0) close(wake[0]), close(wake[1]);
  if (pipe2(wake, O_CLOEXEC) < 0) return wake[0] = wake[1] = -1, -errno;
  sigset_t all, old;
  sigfillset(&all);
  BLINKD_SIGPROCMASK(SIG_BLOCK, &all, &old);
  /* sigfillset leaves out glibc's own two real-time signals: the thread blocks them too. */
  uint64_t every = ~0ull;
  syscall(SYS_rt_sigprocmask, SIG_BLOCK, &every, NULL, sizeof every);
  int t = clone(watch_thread, watch_stack + sizeof watch_stack, CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID, NULL, &watcher_tid, NULL, &watcher_tid);
  int e = t < 0 ? errno : 0;
  syscall(SYS_rt_sigprocmask, SIG_SETMASK, &old, NULL, sizeof(uint64_t));
  if (e) {
    close(wake[0]), close(wake[1]);
    wake[0] = wake[1] = -1;
    return -e;
  }
  watcher_pid = self;
  return 0;
}

void blinkd_unwatch_daemon(void) {
  if (watcher_pid != (pid_t)syscall(SYS_getpid)) return;
  watcher_pid = 0;
  if (write(wake[1], "x", 1) == 1) {
    /* Until the kernel has cleared its tid (CLONE_CHILD_CLEARTID), with a futex wake. */
    pid_t t;
    while ((t = __atomic_load_n(&watcher_tid, __ATOMIC_SEQ_CST)) != 0) syscall(SYS_futex, &watcher_tid, FUTEX_WAIT, t, NULL, NULL, 0);
  }
  close(wake[0]), close(wake[1]);
  wake[0] = wake[1] = -1;
}

/* ---- connection ---- */

static void drop_proof(struct blinkd_conn *c);

static int door = -1;

int blinkd_open_door(const char *path) {
  char buf[sizeof(((struct sockaddr_un *)0)->sun_path) + 64];
  if (!path) {
    int e = blinkd_socket_path(buf, sizeof buf);
    if (e) return e;
    path = buf;
  }
  int fd = open(path, O_PATH | O_CLOEXEC);
  if (fd < 0) return -errno;
  door = fd;
  return fd;
}

void blinkd_set_door(int fd) {
  door = fd;
}

int blinkd_door(void) {
  return door;
}

int blinkd_conn_open(struct blinkd_conn *c, const char *path) {
  char buf[sizeof(((struct sockaddr_un *)0)->sun_path) + 64];
  memset(c, 0, sizeof *c);
  c->fd = -1;
  c->rbuf = c->rinline;
  c->rcap = sizeof c->rinline;
  if (!path) {
    int e = blinkd_socket_path(buf, sizeof buf);
    if (e) return seterr(c, "socket path is too long%s%s", 0, 0), e;
    path = buf;
  }
  struct sockaddr_un sa;
  memset(&sa, 0, sizeof sa);
  sa.sun_family = AF_UNIX;
  if (strlen(path) >= sizeof sa.sun_path) return seterr(c, "socket path %s is longer than sun_path allows%s", path, 0), -ENAMETOOLONG;
  strcpy(sa.sun_path, path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  while (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
    if (errno == EINTR) continue;
    if (errno == EACCES && door >= 0 && strncmp(sa.sun_path, "/proc/self/fd/", 14)) {
      snprintf(sa.sun_path, sizeof sa.sun_path, "/proc/self/fd/%d", door);
      continue;
    }
    int e = errno;
    close(fd);
    seterr(c, "cannot connect to %s: %s", path, strerror(e));
    return -e;
  }
  c->fd = fd;
  return 0;
}

static void reset_buffers(struct blinkd_conn *c) {
  if (c->rbuf && c->rbuf != c->rinline) free(c->rbuf);
  c->rbuf = c->rinline;
  c->rcap = sizeof c->rinline;
  c->rlen = 0;
  /* Only what is in use is written: in a fork child each page written is copied. */
  for (int i = 0; i < BLINKD_STASH_SLOTS; i++) {
    if (!c->stash[i].used && !c->stash[i].big) continue;
    free(c->stash[i].big);
    c->stash[i].big = NULL;
    c->stash[i].used = 0;
  }
}

void blinkd_conn_close(struct blinkd_conn *c) {
  drop_proof(c);
  if (c->fd >= 0) close(c->fd);
  c->fd = -1;
  c->gone = 1;
  reset_buffers(c);
}

void blinkd_conn_forget(struct blinkd_conn *c) {
  blinkd_conn_close(c);
}

static void drop_proof(struct blinkd_conn *c) {
  if (c->proof > 0) close(c->proof - 1);
  c->proof = 0;
}

int blinkd_conn_prove(struct blinkd_conn *c, const char *nonce) {
  char name[64];
  drop_proof(c);
  snprintf(name, sizeof name, "blinkd-proof-%s", nonce);
  int fd = (int)syscall(SYS_memfd_create, name, 1u /* MFD_CLOEXEC */);
  if (fd < 0) return -errno;
  c->proof = fd + 1;
  return 0;
}

int64_t blinkd_conn_handshake(struct blinkd_conn *c, const char *role, const char *client) {
  struct blinkd_hello_out out;
  int64_t r = blinkd_hello(c, BLINKD_PROTOCOL_VERSION, role, client, &out);
  if (r >= 0 && !strcmp(role, "guest")) blinkd_conn_prove(c, out.nonce);
  return r;
}

int64_t blinkd_conn_attach(struct blinkd_conn *c, const char *path, const char *token, int32_t hostpid, int32_t *pid) {
  return blinkd_conn_attach_fork(c, path, token, NULL, hostpid, pid);
}

static int64_t await_reply(struct blinkd_conn *c, uint32_t seq, const struct blinkd_call *call, void *out, const sigset_t *mask);
static int write_all(struct blinkd_conn *c, const unsigned char *p, size_t n);
static uint32_t next_seq(struct blinkd_conn *c);

/* hello and a claim (claim_fd, claim_vfork) in one write, the proof named with the
   reservation's secret before: seq[0] is the hello's, seq[1] the claim's. */
static int hello_and_claim_send(struct blinkd_conn *c, int32_t hostpid, const struct blinkd_call *call, const void *args, uint32_t seq[2]) {
  char who[64];
  snprintf(who, sizeof who, "blinkd-c pid %d", (int)hostpid);
  struct blinkd_hello_args ha = {BLINKD_PROTOCOL_VERSION, "guest", who};
  unsigned char st[2 * BLINKD_SMALL_FRAME];
  struct blinkd_buf b;
  blinkd_buf_init(&b, st, sizeof st);
  sigset_t all, old;
  sigfillset(&all);
  BLINKD_SIGPROCMASK(SIG_BLOCK, &all, &old);
  seq[0] = next_seq(c);
  blinkd_put_request(&b, seq[0], &blinkd_call_hello, &ha);
  seq[1] = next_seq(c);
  blinkd_put_request(&b, seq[1], call, args);
  int e = b.oom ? -ENOMEM : write_all(c, b.p, b.len);
  BLINKD_SIGPROCMASK(SIG_SETMASK, &old, NULL);
  blinkd_buf_free(&b);
  return e;
}

/* Their replies, read in turn; the proof goes once the claim is answered. */
static int64_t hello_and_claim_read(struct blinkd_conn *c, const uint32_t seq[2], const struct blinkd_call *call, void *out) {
  sigset_t all, old;
  sigfillset(&all);
  BLINKD_SIGPROCMASK(SIG_BLOCK, &all, &old);
  struct blinkd_hello_out ho;
  int64_t r = await_reply(c, seq[0], &blinkd_call_hello, &ho, &old);
  /* The claim's reply is read whatever the hello's was (a refused hello makes it EPROTO). */
  int64_t rc = await_reply(c, seq[1], call, out, &old);
  BLINKD_SIGPROCMASK(SIG_SETMASK, &old, NULL);
  if (r >= 0) r = rc;
  drop_proof(c);
  if (c->gone == BLINKD_PEER_GONE && gone_policy == BLINKD_GONE_KILL) blinkd_daemon_gone(c, NULL);
  return r;
}

/* Both, one round trip instead of two. */
static int64_t hello_and_claim(struct blinkd_conn *c, int32_t hostpid, const struct blinkd_call *call, const void *args, void *out) {
  uint32_t seq[2];
  int e = hello_and_claim_send(c, hostpid, call, args, seq);
  if (e) {
    drop_proof(c);
    return e;
  }
  return hello_and_claim_read(c, seq, call, out);
}

int64_t blinkd_conn_attach_fork(struct blinkd_conn *c, const char *path, const char *token, const char *proof, int32_t hostpid, int32_t *pid) {
  int e = blinkd_conn_open(c, path);
  if (e) return e;
  struct blinkd_claim_fd_out out;
  int64_t r;
  if (!proof || !*proof) {
    /* No reservation secret (a thread's, or BLINKD_TOKEN's): the proof is named with the
       hello's nonce, so the claim waits for the hello's reply; it still names its descriptor. */
    char who[64];
    snprintf(who, sizeof who, "blinkd-c pid %d", (int)hostpid);
    r = blinkd_conn_handshake(c, "guest", who);
    if (r < 0) return r;
    r = blinkd_claim_fd(c, token, hostpid, c->proof ? c->proof - 1 : -1, &out);
  } else {
    /* A fork child (spec/protocol.md §7.4): its proof is named with fork's out.proof, made
       before it connects, so hello and claim_fd go in one write and their replies are read
       in turn: one round trip, not two. */
    blinkd_conn_prove(c, proof);
    struct blinkd_claim_fd_args ca = {token, hostpid, c->proof ? c->proof - 1 : -1};
    r = hello_and_claim(c, hostpid, &blinkd_call_claim_fd, &ca, &out);
  }
  if (r >= 0 && pid) *pid = out.pid;
  return r;
}

int blinkd_conn_attach_vfork_send(struct blinkd_conn *c, const char *path, const char *token, const char *proof, int32_t ppid, int32_t hostpid, uint32_t seq[2]) {
  int e = blinkd_conn_open(c, path);
  if (e) return e;
  blinkd_conn_prove(c, proof);
  struct blinkd_claim_vfork_args ca = {token, ppid, hostpid, c->proof ? c->proof - 1 : -1};
  return hello_and_claim_send(c, hostpid, &blinkd_call_claim_vfork, &ca, seq);
}

int64_t blinkd_conn_attach_vfork_finish(struct blinkd_conn *c, const uint32_t seq[2], int32_t *pid) {
  struct blinkd_claim_vfork_out out;
  int64_t r = hello_and_claim_read(c, seq, &blinkd_call_claim_vfork, &out);
  if (r >= 0 && pid) *pid = out.pid;
  return r;
}

int64_t blinkd_conn_attach_vfork(struct blinkd_conn *c, const char *path, const char *token, const char *proof, int32_t ppid, int32_t hostpid, int32_t *pid) {
  uint32_t seq[2];
  int e = blinkd_conn_attach_vfork_send(c, path, token, proof, ppid, hostpid, seq);
  if (e) {
    drop_proof(c);
    return e;
  }
  return blinkd_conn_attach_vfork_finish(c, seq, pid);
}

static int write_all(struct blinkd_conn *c, const unsigned char *p, size_t n) {
  while (n) {
    ssize_t k = send(c->fd, p, n, MSG_NOSIGNAL);
    if (k < 0) {
      if (errno == EINTR) continue;
      c->gone = BLINKD_PEER_GONE;
      return -ECONNRESET;
    }
    p += k;
    n -= (size_t)k;
  }
  return 0;
}

static int send_interrupt(struct blinkd_conn *c, uint32_t seq) {
  unsigned char st[32];
  struct blinkd_buf b;
  blinkd_buf_init(&b, st, sizeof st);
  putbe(&b, 0, 4);
  blinkd_put_array(&b, 2);
  blinkd_put_int(&b, BLINKD_MSG_INTERRUPT);
  blinkd_put_int(&b, seq);
  size_t n = b.len - 4;
  for (int i = 0; i < 4; i++) b.p[i] = (unsigned char)(n >> (8 * (3 - i)));
  return write_all(c, b.p, b.len);
}

/* Waits until the socket is readable, with the caller's signal mask; reads what is there.
   1 = read something, 0 = interrupted by a signal, < 0 = the connection is gone. */
static int fill(struct blinkd_conn *c, const sigset_t *mask) {
  struct pollfd pfd = {c->fd, POLLIN, 0};
  int k = BLINKD_PPOLL(&pfd, 1, NULL, mask);
  if (k < 0) return errno == EINTR ? 0 : -errno;
  if (c->rlen == c->rcap) {
    size_t cap = c->rcap * 2;
    unsigned char *p = malloc(cap);
    if (!p) return -ENOMEM;
    memcpy(p, c->rbuf, c->rlen);
    if (c->rbuf != c->rinline) free(c->rbuf);
    c->rbuf = p;
    c->rcap = cap;
  }
  ssize_t n = recv(c->fd, c->rbuf + c->rlen, c->rcap - c->rlen, MSG_DONTWAIT);
  if (n == 0) return c->gone = BLINKD_PEER_GONE, -ECONNRESET;
  if (n < 0) return errno == EAGAIN || errno == EINTR ? 1 : (c->gone = BLINKD_PEER_GONE, -ECONNRESET);
  c->rlen += (size_t)n;
  return 1;
}

/* Peeks at [kind, seq-or-event, …] of a frame body. */
static int peek_head(const unsigned char *body, size_t len, uint64_t *kind, uint64_t *second) {
  struct rd r = {body, body + len, 0};
  size_t n;
  int neg;
  if (!rd_array(&r, &n) || n < 2) return 0;
  if (!rd_int(&r, kind, &neg) || neg) return 0;
  if (!rd_int(&r, second, &neg) || neg) return 0;
  return 1;
}

static void consume(struct blinkd_conn *c, size_t n) {
  memmove(c->rbuf, c->rbuf + n, c->rlen - n);
  c->rlen -= n;
}

static int stash_put(struct blinkd_conn *c, uint32_t seq, const unsigned char *body, size_t len) {
  for (int i = 0; i < BLINKD_STASH_SLOTS; i++) {
    struct blinkd_stash *s = &c->stash[i];
    if (s->used) continue;
    if (len > sizeof s->small) {
      s->big = malloc(len);
      if (!s->big) return -ENOMEM;
      memcpy(s->big, body, len);
    } else {
      memcpy(s->small, body, len);
    }
    s->seq = seq;
    s->len = len;
    s->used = 1;
    return 0;
  }
  return -ENOBUFS;
}

/* Parses frames in the buffer until the reply for `seq`; returns 1 with it decoded, 0 when
   more bytes are needed, < 0 on a protocol error. */
static int pump(struct blinkd_conn *c, uint32_t seq, const struct blinkd_call *call, void *out, int64_t *result) {
  for (int i = 0; i < BLINKD_STASH_SLOTS; i++) {
    struct blinkd_stash *s = &c->stash[i];
    if (!s->used || s->seq != seq) continue;
    uint32_t got;
    *result = blinkd_decode_reply(c, s->big ? s->big : s->small, s->len, call, &got, out);
    free(s->big);
    s->big = NULL;
    s->used = 0;
    return 1;
  }
  while (c->rlen >= 4) {
    size_t n = ((size_t)c->rbuf[0] << 24) | ((size_t)c->rbuf[1] << 16) | ((size_t)c->rbuf[2] << 8) | c->rbuf[3];
    if (n == 0 || n > (64u << 20)) return seterr(c, "bad frame length from the daemon%s%s", 0, 0), -EPROTO;
    if (c->rlen - 4 < n) {
      if (n + 4 > c->rcap) {
        unsigned char *p = malloc(n + 4);
        if (!p) return -ENOMEM;
        memcpy(p, c->rbuf, c->rlen);
        if (c->rbuf != c->rinline) free(c->rbuf);
        c->rbuf = p;
        c->rcap = n + 4;
      }
      return 0;
    }
    const unsigned char *body = c->rbuf + 4;
    uint64_t kind, second;
    if (!peek_head(body, n, &kind, &second)) return seterr(c, "malformed message from the daemon%s%s", 0, 0), -EPROTO;
    if (kind == BLINKD_MSG_REPLY && second == seq) {
      uint32_t got;
      *result = blinkd_decode_reply(c, body, n, call, &got, out);
      consume(c, 4 + n);
      return 1;
    }
    if (kind == BLINKD_MSG_REPLY) {
      int e = stash_put(c, (uint32_t)second, body, n);
      if (e) return e;
    } else if (kind == BLINKD_MSG_EVENT) {
      if (second == BLINKD_EV_FATAL) {
        struct rd r = {body, body + n, 0};
        size_t an, sn;
        uint64_t v;
        int neg;
        const unsigned char *s;
        if (rd_array(&r, &an) && rd_int(&r, &v, &neg) && rd_int(&r, &v, &neg) && rd_str(&r, &s, &sn)) {
          if (sn >= sizeof c->error) sn = sizeof c->error - 1;
          memcpy(c->error, s, sn);
          c->error[sn] = 0;
        }
      }
      if (c->on_event) c->on_event(c, (int)second, body, n, c->event_arg);
    }
    consume(c, 4 + n);
  }
  return 0;
}

/* Reads until the reply to `seq` (a call that does not block: no interrupt), every signal
   blocked but `mask` while it waits. */
static int64_t await_reply(struct blinkd_conn *c, uint32_t seq, const struct blinkd_call *call, void *out, const sigset_t *mask) {
  int64_t result;
  for (;;) {
    int k = pump(c, seq, call, out, &result);
    if (k == 1) return result;
    if (k < 0) return k;
    if ((k = fill(c, mask)) < 0) {
      if (!c->error[0]) seterr(c, "blinkd closed the connection%s%s", 0, 0);
      return k;
    }
  }
}

int blinkd_conn_poll_events(struct blinkd_conn *c) {
  if (c->gone) return -ECONNRESET;
  sigset_t all, old;
  sigfillset(&all);
  BLINKD_SIGPROCMASK(SIG_BLOCK, &all, &old);
  int64_t dummy;
  int e = 0;
  for (;;) {
    struct pollfd pfd = {c->fd, POLLIN, 0};
    if (poll(&pfd, 1, 0) <= 0) break;
    e = fill(c, &old);
    if (e < 0) break;
    e = pump(c, 0xffffffffu, NULL, NULL, &dummy) < 0 ? -EPROTO : 0;
    if (e) break;
  }
  BLINKD_SIGPROCMASK(SIG_SETMASK, &old, NULL);
  return e;
}

static uint32_t next_seq(struct blinkd_conn *c) {
  c->seq = c->seq == BLINKD_SEQ_MAX ? 0 : c->seq + 1;
  return c->seq;
}

/* One frame written, unread: a post ([4, …]) or a request ([0, …]) whose reply is read later. */
static int send_unread(struct blinkd_conn *c, int post, const struct blinkd_call *call, const void *args, uint32_t *seq) {
  unsigned char st[BLINKD_SMALL_FRAME];
  struct blinkd_buf b;
  blinkd_buf_init(&b, st, sizeof st);
  sigset_t all, old;
  sigfillset(&all);
  BLINKD_SIGPROCMASK(SIG_BLOCK, &all, &old);
  *seq = next_seq(c);
  if (post) blinkd_put_post(&b, *seq, call, args);
  else blinkd_put_request(&b, *seq, call, args);
  int e = b.oom ? -ENOMEM : write_all(c, b.p, b.len);
  BLINKD_SIGPROCMASK(SIG_SETMASK, &old, NULL);
  blinkd_buf_free(&b);
  return e;
}

/* A post (spec/protocol.md §4.5): the daemon takes it in order with the connection's other
   requests and writes nothing back, so there is no reply to read, now or later. */
int blinkd_conn_post(struct blinkd_conn *c, const struct blinkd_call *call, const void *args) {
  if (c->gone || c->fd < 0) return -ECONNRESET;
  uint32_t seq;
  return send_unread(c, 1, call, args, &seq);
}

int blinkd_conn_send(struct blinkd_conn *c, const struct blinkd_call *call, const void *args) {
  return blinkd_conn_post(c, call, args);
}

int blinkd_conn_request(struct blinkd_conn *c, const struct blinkd_call *call, const void *args, uint32_t *seq) {
  if (c->gone || c->fd < 0) return seterr(c, "the connection to blinkd is closed%s%s", 0, 0), -ECONNRESET;
  return send_unread(c, 0, call, args, seq);
}

int64_t blinkd_conn_reply(struct blinkd_conn *c, uint32_t seq, const struct blinkd_call *call, void *out) {
  sigset_t all, old;
  sigfillset(&all);
  BLINKD_SIGPROCMASK(SIG_BLOCK, &all, &old);
  int64_t r = await_reply(c, seq, call, out, &old);
  BLINKD_SIGPROCMASK(SIG_SETMASK, &old, NULL);
  if (c->gone == BLINKD_PEER_GONE && gone_policy == BLINKD_GONE_KILL) blinkd_daemon_gone(c, NULL);
  return r;
}

/* One call walks the states of enum blinkd_call_state (spec/client.md), as the TypeScript
   client's machine (src/client/call.ts) does: each is named where the code enters it. */
int64_t blinkd_conn_call(struct blinkd_conn *c, const struct blinkd_call *call, const void *args, void *out) {
  /* BLINKD_CALL_IDLE */
  if (c->before_call) {
    void (*f)(struct blinkd_conn *) = c->before_call;
    c->before_call = NULL;
    f(c);
  }
  if (c->gone == BLINKD_PEER_GONE && gone_policy == BLINKD_GONE_KILL) blinkd_daemon_gone(c, NULL);
  if (c->gone || c->fd < 0) return seterr(c, "the connection to blinkd is closed%s%s", 0, 0), -ECONNRESET;
  sigset_t all, old;
  sigfillset(&all);
  BLINKD_SIGPROCMASK(SIG_BLOCK, &all, &old);
  int64_t result;
  for (;;) {
    unsigned char st[BLINKD_SMALL_FRAME];
    struct blinkd_buf b;
    blinkd_buf_init(&b, st, sizeof st);
    uint32_t seq = next_seq(c);
    blinkd_put_request(&b, seq, call, args);
    int e = b.oom ? -ENOMEM : write_all(c, b.p, b.len);
    blinkd_buf_free(&b);
    if (e) {
      result = e;
      break;
    }
    /* BLINKD_CALL_IN_CALL (interrupted == 0), BLINKD_CALL_INTERRUPTING (interrupted == 1) */
    int interrupted = 0;
    for (;;) {
      int k = pump(c, seq, call, out, &result);
      if (k == 1) break;
      if (k < 0) {
        result = k;
        break;
      }
      /* A signal that came before the block (blinkd.h, blinkd_set_due_hook) interrupts the
         call as one that comes while it waits does. */
      k = call->blocks && !interrupted && due_hook && due_hook() ? 0 : fill(c, &old);
      if (k < 0) {
        /* BLINKD_CALL_GONE */
        if (!c->error[0]) seterr(c, "blinkd closed the connection%s%s", 0, 0);
        result = k;
        break;
      }
      /* A signal ran its handler: ask the daemon to interrupt a parked call, then keep
         reading until its one reply (§6). A call that does not block just completes. */
      if (k == 0 && call->blocks && !interrupted) {
        /* The handler's own calls may have read this call's reply already (stashed): then
           there is nothing to interrupt. */
        k = pump(c, seq, call, out, &result);
        if (k == 1) break;
        if (k < 0) {
          result = k;
          break;
        }
        interrupted = 1;
        if ((e = send_interrupt(c, seq))) {
          result = e;
          break;
        }
      }
    }
    /* BLINKD_CALL_ANSWERED: the real result (the call completed before any interrupt). */
    if (result != -ERESTARTSYS_) break;
    /* BLINKD_CALL_ERESTARTSYS: BLINKD_CALL_RESTART when the guest's handler has SA_RESTART
       (c->restart says), else BLINKD_CALL_EINTR. */
    if (!(c->restart && c->restart(c, c->restart_arg))) {
      result = -EINTR;
      break;
    }
  }
  BLINKD_SIGPROCMASK(SIG_SETMASK, &old, NULL);
  if (c->gone == BLINKD_PEER_GONE && gone_policy == BLINKD_GONE_KILL) blinkd_daemon_gone(c, NULL);
  if (c->proof && (call == &blinkd_call_register || call == &blinkd_call_claim || call == &blinkd_call_claim_fd)) drop_proof(c);
  return result;
}
