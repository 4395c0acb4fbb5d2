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
  int gone;  /* the connection is closed (1 by this side, BLINKD_PEER_GONE by the daemon); every call is -ECONNRESET */
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
  /* The proof of this process's host pid for register/claim (spec/protocol.md §7.3): a memfd
     named blinkd-proof-NONCE, held from the handshake until register or claim is answered.
     0 when none, else its descriptor + 1 (a zeroed struct holds none). */
  int proof;
  /* Replies still due before this connection's next awaited call (a vfork child's claim, sent
     and not yet read): blinkd_conn_call runs it once, cleared first, before it sends. */
  void (*before_call)(struct blinkd_conn *c);
};

#define BLINKD_PEER_GONE 2

/*
 * When the daemon is gone (spec/protocol.md §7.8). The daemon is the guests' kernel: when it
 * dies or shuts down, the namespace it held is over, and so are its processes, as Linux
 * SIGKILLs every process of a PID namespace whose init dies (zap_pid_ns_processes) and as
 * Wine's clients exit when wineserver does. A guest learns it from a call (its connection
 * reaches EOF or an error) or, while it waits on the host (sigsuspend, a host waitpid, a
 * sleep), from the watcher thread below.
 *
 *   blinkd_set_gone_policy(BLINKD_GONE_KILL, "blink");   once, before the first call
 *   blinkd_watch_daemon(fd);                              once the connection is on its last descriptor
 *
 * BLINKD_GONE_RETURN (the default): a call on a connection the daemon closed returns
 * -ECONNRESET, and the caller decides. BLINKD_GONE_KILL: blinkd_daemon_gone() instead, which
 * writes one line on stderr, "WHO (host pid N): the blinkd daemon is gone (WHY): its namespace
 * is over, so this process is killed (SIGKILL)", and kills the whole host process with SIGKILL
 * (its host parent sees status 137; its children, guests too, go the same way). Sending a
 * request without waiting (blinkd_conn_send, as exit_group) never kills: the process is ending.
 */
enum { BLINKD_GONE_RETURN = 0, BLINKD_GONE_KILL = 1 };

/*
 * A signal that came before a blocking call (blink). A blocking call blocks every host signal
 * and waits in ppoll with the caller's mask, so a signal that arrives after that block ends the
 * wait (an interrupt, §6). One that arrived before it, after the caller last looked at its
 * signals, ran its host handler and interrupts nothing: a program whose handler runs later
 * (blink takes a guest's signal at its next check) would wait with it rung. With a hook set, a
 * call with `blocks` asks it once the request is sent, before it first waits; nonzero sends the
 * interrupt at once, as if ppoll had been interrupted: a call the daemon answered without
 * parking (WNOHANG, O_NONBLOCK, a child already waitable) keeps its result, a parked one ends
 * with -ERESTARTSYS, as a Linux wait that finds signal_pending before it sleeps. The hook says
 * yes at most once per signal. NULL (the default): never asked.
 */
void blinkd_set_due_hook(int (*due)(void));
void blinkd_set_gone_policy(int policy, const char *who);
int blinkd_gone_policy(void);
/* Writes the line and SIGKILLs the host process; never returns. `why` NULL: c's FATAL reason, or "blinkd closed the connection". */
void blinkd_daemon_gone(const struct blinkd_conn *c, const char *why) __attribute__((noreturn));
/* Starts (first call in a process) or retargets a host thread, every signal blocked, that polls
   `fd` for POLLRDHUP only (never reads it, so it wakes for no reply or event) and calls
   blinkd_daemon_gone when the daemon's side closes, with the FATAL reason when one is the next
   frame waiting. A fork child has no such thread (fork(2) copies one thread): call it again
   there. fd -1 disarms it: call that once the process has sent exit_group and is ending,
   since the daemon may then end the namespace (and close the connection) before the host
   process is gone. 0 or -errno. */
int blinkd_watch_daemon(int fd);
/* Stops the watcher and waits for its thread to end. The thread is a bare clone(2), not a
   pthread: glibc neither counts it (a process whose last pthread ends still ends) nor reaches
   it with set*id(2)'s broadcast, so it keeps the credentials it started with; a program that
   changes its credentials stops it first and starts it again after. */
void blinkd_unwatch_daemon(void);

/* Which socket a guest uses: $BLINKD_SOCKET, else PREFIX/blinkd.sock where PREFIX is
   $BLINK_PREFIX, else $XDG_RUNTIME_DIR/blinkd, else /tmp/blinkd-UID. 0 or -ENAMETOOLONG. */
int blinkd_socket_path(char *buf, size_t n);

/* Connects (path NULL: blinkd_socket_path). The descriptor is close-on-exec. When the path
   is refused (EACCES: a process that dropped its privileges, in the owner-only runtime
   directory) and a door is set, connects through the door instead. 0 or -errno. */
int blinkd_conn_open(struct blinkd_conn *c, const char *path);
/* The door: an O_PATH descriptor of the daemon's socket (opened with blinkd_open_door while
   the process can reach it, or inherited), through which blinkd_conn_open connects as
   /proc/self/fd/N whatever the process's uid has become since. The daemon's sockets in its
   runtime directory are mode 0666 for that: only the directory (0700) keeps others out.
   blinkd_open_door returns the descriptor (close-on-exec) or -errno. */
int blinkd_open_door(const char *path);
void blinkd_set_door(int fd);
int blinkd_door(void);
/* hello with this build's protocol version; role "guest" or "control". A guest's handshake
   also makes the proof of its host pid that register or claim needs (spec/protocol.md §7.3):
   a process that says hello with blinkd_hello itself calls blinkd_conn_prove. */
int64_t blinkd_conn_handshake(struct blinkd_conn *c, const char *role, const char *client);
/* Holds a descriptor named blinkd-proof-NONCE (memfd_create) until the next register or claim
   on c is answered: the daemon finds it in /proc/HOSTPID/fd, and so knows the host pid is this
   process's. Without it the process has no host process for the daemon (never signalled). */
int blinkd_conn_prove(struct blinkd_conn *c, const char *nonce);
/* Opens a new connection and claims a fork or thread reservation: the host child after fork
   (on its own new connection, never the parent's), or a new thread. Returns the tid; *pid
   gets the process. */
int64_t blinkd_conn_attach(struct blinkd_conn *c, const char *path, const char *token, int32_t hostpid, int32_t *pid);
/* The same for a fork child that has fork's out.proof (NULL or "": as blinkd_conn_attach): it
   names its proof descriptor with that secret before it connects, and sends hello and
   claim_fd in one write (spec/protocol.md §7.4), one round trip instead of two. Either way
   the claim names the proof's descriptor (claim_fd): the daemon reads that one link only. */
int64_t blinkd_conn_attach_fork(struct blinkd_conn *c, const char *path, const char *token, const char *proof, int32_t hostpid, int32_t *pid);
/* A vfork child's: claim_vfork of the reservation its parent ppid posts (vfork) under token,
   hello and the claim in one write, the proof named with the parent's proof (spec/protocol.md
   §7.4.1). The claim may wait for the parent's post. Returns the tid; *pid gets the process. */
int64_t blinkd_conn_attach_vfork(struct blinkd_conn *c, const char *path, const char *token, const char *proof, int32_t ppid, int32_t hostpid, int32_t *pid);
/* The same, split for a vfork child that does not wait (spec/protocol.md §7.4.1): _send opens
   the connection, names the proof and writes hello and claim_vfork in one write, and leaves
   seq[0] (hello's) and seq[1] (the claim's); the proof's descriptor stays open (c->proof) until
   the claim is answered. _finish reads both replies, on this connection or on the same socket
   in a new image (c adopted there, c->proof set to the inherited proof's descriptor + 1), and
   closes the proof. _send: 0 or -errno; _finish: as blinkd_conn_attach_vfork. */
int blinkd_conn_attach_vfork_send(struct blinkd_conn *c, const char *path, const char *token, const char *proof, int32_t ppid, int32_t hostpid, uint32_t seq[2]);
int64_t blinkd_conn_attach_vfork_finish(struct blinkd_conn *c, const uint32_t seq[2], int32_t *pid);
/* Closes the connection (for a guest thread that has not exited, this is its death). */
void blinkd_conn_close(struct blinkd_conn *c);
/* In a host fork child: drops the parent's connection without a word to the daemon (the
   parent keeps it open) and frees this copy's buffers. */
void blinkd_conn_forget(struct blinkd_conn *c);
/* Reads daemon events that have arrived, without blocking. 0, or -errno when the connection is gone. */
int blinkd_conn_poll_events(struct blinkd_conn *c);

/* A request sent now whose reply is read later with blinkd_conn_reply (a vforking parent's
   vfork: it is suspended meanwhile). A call that may block cannot be split so (no interrupt
   is sent for it). *seq gets its sequence number; 0 or -errno (the write failed). */
int blinkd_conn_request(struct blinkd_conn *c, const struct blinkd_call *call, const void *args, uint32_t *seq);
int64_t blinkd_conn_reply(struct blinkd_conn *c, uint32_t seq, const struct blinkd_call *call, void *out);
/* Sends one request and reads until its one reply. args/out are the call's structs. */
int64_t blinkd_conn_call(struct blinkd_conn *c, const struct blinkd_call *call, const void *args, void *out);
/* Posts a request whose answer nobody waits for (a report, exit_group as a process ends): a
   post, [4, seq, nr, ...args] (spec/protocol.md §4.5), which the daemon takes in order with
   the connection's other requests, so every later call on it finds the report made, and
   answers with nothing: no reply to read or drop, none written to a process already gone.
   A post's failure is in the daemon's log, never here. A call that may block cannot be
   posted (the daemon refuses it). 0 or -errno (the write failed). */
int blinkd_conn_post(struct blinkd_conn *c, const struct blinkd_call *call, const void *args);
/* The same as blinkd_conn_post (its older name, for exit_group). */
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
/* A whole request frame: 4-byte length and [0, seq, nr, ...args]; a post's is [4, seq, nr, ...args]. */
void blinkd_put_request(struct blinkd_buf *b, uint32_t seq, const struct blinkd_call *call, const void *args);
void blinkd_put_post(struct blinkd_buf *b, uint32_t seq, const struct blinkd_call *call, const void *args);
/* Decodes a reply body for `call`: returns the result (or -EPROTO for a malformed reply,
   with c->error saying why); *seq gets its sequence number. */
int64_t blinkd_decode_reply(struct blinkd_conn *c, const unsigned char *body, size_t len, const struct blinkd_call *call, uint32_t *seq, void *out);

#endif
