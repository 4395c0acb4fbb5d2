/*
 * blinkd.h: the C client for blinkd (spec/protocol.md), for blink and other native
 * programs. libc only. One connection per guest thread; a connection may be used by one
 * thread and the signal handlers that interrupt it (a handler may make calls while a call
 * of the same connection is outstanding: replies are matched by sequence number).
 *
 * Every call returns the daemon's signed 64-bit result: >= 0 success, < 0 a negated
 * errno. An interrupted blocking call (-ERESTARTSYS) is never returned: the client asks
 * c->restart (the guest's SA_RESTART) and sends the call again, or returns -EINTR.
 *
 * The per-call functions (blinkd_getpid, blinkd_wait4, …) and their argument and result
 * structs are generated from the schema into blinkd_protocol.h / blinkd_calls.c.
 */
#ifndef BLINKD_H
#define BLINKD_H
#include <stddef.h>
#include <stdint.h>
#include "blinkd_protocol.h"

#define BLINKD_STASH_SLOTS 8
#define BLINKD_RBUF_INLINE 4096
#define BLINKD_SMALL_FRAME 512

/* A reply read by a nested call (a signal handler's) for an outer call of the same thread. */
struct blinkd_stash {
  uint32_t seq;
  int used;
  size_t len;
  unsigned char *big; /* malloc'd when the frame does not fit `small` */
  unsigned char small[BLINKD_SMALL_FRAME];
};

struct blinkd_conn {
  int fd;
  uint32_t seq;
  int gone;  /* the connection is closed; every call is -ECONNRESET */
  /* Received bytes not yet parsed: the inline buffer, or a malloc'd one for large frames. */
  unsigned char *rbuf;
  size_t rlen, rcap;
  unsigned char rinline[BLINKD_RBUF_INLINE];
  struct blinkd_stash stash[BLINKD_STASH_SLOTS];
  /* After an interrupted blocking call: nonzero sends it again (SA_RESTART), 0 returns -EINTR. */
  int (*restart)(struct blinkd_conn *c, void *arg);
  void *restart_arg;
  /* Daemon events ([3, kind, …], raw msgpack of the whole message), read while a call waits. */
  void (*on_event)(struct blinkd_conn *c, int kind, const unsigned char *msg, size_t len, void *arg);
  void *event_arg;
  /* The sentence of the last failed reply or local error ("" when none). */
  char error[256];
};

/* Which socket a guest uses: $BLINKD_SOCKET, else PREFIX/blinkd.sock where PREFIX is
   $BLINK_PREFIX, else $XDG_RUNTIME_DIR/blinkd, else /tmp/blinkd-UID. 0 or -ENAMETOOLONG. */
int blinkd_socket_path(char *buf, size_t n);

/* Connects (path NULL: blinkd_socket_path). The descriptor is close-on-exec. 0 or -errno. */
int blinkd_conn_open(struct blinkd_conn *c, const char *path);
/* hello with this build's protocol version; role "guest" or "control". */
int64_t blinkd_conn_handshake(struct blinkd_conn *c, const char *role, const char *client);
/* Opens a new connection and claims a fork or thread reservation: the host child after fork
   (on its own new connection, never the parent's), or a new thread. Returns the tid; *pid
   gets the process. */
int64_t blinkd_conn_attach(struct blinkd_conn *c, const char *path, const char *token, int32_t hostpid, int32_t *pid);
/* Closes the connection (for a guest thread that has not exited, this is its death). */
void blinkd_conn_close(struct blinkd_conn *c);
/* In a host fork child: drops the parent's connection without a word to the daemon (the
   parent keeps it open) and frees this copy's buffers. */
void blinkd_conn_forget(struct blinkd_conn *c);
/* Reads daemon events that have arrived, without blocking. 0, or -errno when the connection is gone. */
int blinkd_conn_poll_events(struct blinkd_conn *c);

/* Sends one request and reads until its one reply. args/out are the call's structs. */
int64_t blinkd_conn_call(struct blinkd_conn *c, const struct blinkd_call *call, const void *args, void *out);
/* Sends a request without reading its reply (exit_group as a process ends). */
int blinkd_conn_send(struct blinkd_conn *c, const struct blinkd_call *call, const void *args);
/* Frees what a reply put in malloc'd memory (strs, i32s, bytes and any results). */
void blinkd_out_free(const struct blinkd_call *call, void *out);

/* The encoder and decoder, public for the shared test vectors (spec/vectors). */
struct blinkd_buf {
  unsigned char *p;
  size_t len, cap;
  int heap, oom;
};
void blinkd_buf_init(struct blinkd_buf *b, unsigned char *stack, size_t cap);
void blinkd_buf_free(struct blinkd_buf *b);
/* One field of a schema type, as the TypeScript side writes it. */
void blinkd_put_field(struct blinkd_buf *b, int type, const void *value);
void blinkd_put_int(struct blinkd_buf *b, int64_t v);  /* smallest msgpack integer */
void blinkd_put_u64(struct blinkd_buf *b, uint64_t v); /* always uint64 (0xcf) */
void blinkd_put_i64(struct blinkd_buf *b, int64_t v);  /* int64 (0xd3) below 0, else uint64 (0xcf) */
void blinkd_put_str(struct blinkd_buf *b, const char *s, size_t n);
void blinkd_put_bin(struct blinkd_buf *b, const void *s, size_t n);
void blinkd_put_array(struct blinkd_buf *b, size_t n);
/* A whole request frame: 4-byte length and [0, seq, nr, ...args]. */
void blinkd_put_request(struct blinkd_buf *b, uint32_t seq, const struct blinkd_call *call, const void *args);
/* Decodes a reply body for `call`: returns the result (or -EPROTO for a malformed reply,
   with c->error saying why); *seq gets its sequence number. */
int64_t blinkd_decode_reply(struct blinkd_conn *c, const unsigned char *body, size_t len, const struct blinkd_call *call, uint32_t *seq, void *out);

#endif
