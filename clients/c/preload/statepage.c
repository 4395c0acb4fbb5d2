/* The state page (spec/protocol.md §10.1): the daemon's per-pid slots, mapped read-only, for the questions a guest answers without a round trip (libblinkd-preload.so; see preload.c). */
#include <sys/mman.h>
#include "shared.h"

/* The mapping (NULL: none, every question goes to the daemon) and its number of slots. A
   fork child keeps the parent's mapping (the same file); an exec maps it again. */
static const volatile uint32_t *page;
static uint32_t nslots;

/* Maps NAME.state beside the socket NAME.sock, if it is the connected daemon's (its header
   names the daemon's host pid, the connection's peer). Done once per image at start-up,
   before a privilege drop can forbid the open; any failure leaves the round trips. */
void state_open(void) {
  char path[sizeof sockpath + 8];
  size_t n = strlen(sockpath);
  if (n > 5 && !strcmp(sockpath + n - 5, ".sock")) n -= 5;
  if (n + 7 > sizeof path) return;
  memcpy(path, sockpath, n);
  memcpy(path + n, ".state", 7);
  int fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  struct stat st;
  void *m = MAP_FAILED;
  if (fstat(fd, &st) == 0 && st.st_size >= 2 * BLINKD_STATE_PAGE_SLOT) m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
  get_close()(fd);
  if (m == MAP_FAILED) return;
  const volatile uint32_t *h = m;
  uint32_t slots = (uint32_t)(st.st_size / BLINKD_STATE_PAGE_SLOT);
  if (h[0] != BLINKD_STATE_PAGE_MAGIC || h[BLINKD_STATE_PAGE_DAEMON / 4] != (uint32_t)daemonhost || h[BLINKD_STATE_PAGE_SLOT_SIZE / 4] != BLINKD_STATE_PAGE_SLOT ||
      h[BLINKD_STATE_PAGE_PID_MAX / 4] + 1 > slots) {
    munmap(m, (size_t)st.st_size);
    return;
  }
  nslots = h[BLINKD_STATE_PAGE_PID_MAX / 4] + 1;
  page = h;
}

/* Word `off` (BLINKD_STATE_PAGE_*) of this process's slot; 0 without a page. */
static uint32_t word(int off) {
  return __atomic_load_n(&page[(size_t)mypid * (BLINKD_STATE_PAGE_SLOT / 4) + off / 4], __ATOMIC_ACQUIRE);
}

/* Whether the page may answer for this process: mapped, a pid in it, and not a vfork child
   (it shares the parent's memory, the bell record included). */
int state_mapped(void) {
  return page && mypid > 0 && (uint32_t)mypid < nslots && !vchild;
}

/* The daemon holds no SIGCHLD for this process or any of its threads (spec/signals.md §4.2):
   the bell (bumped as one is queued, so before its ring) is where the last sig_dequeue that
   left none pending saw it. A SIGCHLD queued later moves the bell before it rings. */
int state_quiet(void) {
  return state_mapped() && word(BLINKD_STATE_PAGE_BELL) == word(BLINKD_STATE_PAGE_SEEN);
}

/* wait4 answered from the page (spec/protocol.md §10.1), or 1 when the daemon must answer:
   -ECHILD when the process has no child a wait may see (do_wait's notask_error, whatever the
   selector); 0 for wait4(-1, WNOHANG) when no child has anything to report and one that the
   options see lives (wait_consider_task clears notask_error, nothing is found). */
int64_t state_wait4(pid_t pid, int options) {
  if (!state_mapped()) return 1;
  /* kernel_wait4's own errors first (EINVAL, ESRCH of INT_MIN): the daemon's. */
  if (options & ~(WNOHANG | WUNTRACED | WCONTINUED | __WNOTHREAD | __WCLONE | __WALL) || pid == INT32_MIN) return 1;
  uint32_t children = word(BLINKD_STATE_PAGE_CHILDREN);
  if (children == 0) return -ECHILD;
  if (pid != -1 || !(options & WNOHANG) || options & (__WNOTHREAD | __WCLONE)) return 1;
  if (word(BLINKD_STATE_PAGE_WAITABLE) != 0) return 1;
  if (word(BLINKD_STATE_PAGE_CLONES) != 0 && !(options & __WALL)) return 1;
  return 0;
}
