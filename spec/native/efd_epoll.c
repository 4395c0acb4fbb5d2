/* A native epoll over the host FIFO that mirrors a blinkd eventfd (spec/eventfd.md).
 * usage: efd_epoll FIFO; then commands on stdin, one per line:
 *   wait MS   epoll_wait with that timeout; prints "n=N ev=0xEVENTS"
 *   quit
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc != 2) { fprintf(stderr, "usage: efd_epoll FIFO\n"); return 2; }
  int fd = open(argv[1], O_RDONLY | O_NONBLOCK);
  if (fd < 0) { perror("open"); return 1; }
  int ep = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };
  if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) { perror("epoll"); return 1; }
  printf("ready\n");
  fflush(stdout);
  char line[64];
  while (fgets(line, sizeof line, stdin)) {
    int ms;
    if (sscanf(line, "wait %d", &ms) == 1) {
      struct epoll_event out[4];
      int n = epoll_wait(ep, out, 4, ms);
      printf("n=%d ev=0x%x\n", n, n > 0 ? out[0].events : 0);
      fflush(stdout);
    } else if (strncmp(line, "quit", 4) == 0) {
      break;
    }
  }
  return 0;
}
