/*
 * crib's pause: the process that holds a pod sandbox's namespaces open.
 *
 * Same contract as kubernetes' pause: it sleeps until a signal arrives, reaps
 * every zombie re-parented to it (it is PID 1 of the pod's PID namespace when
 * the pod shares one), and exits 0 on SIGINT/SIGTERM so a sandbox stop is a
 * clean exit rather than a kill. Built with `gcc -static -O2` so the image
 * needs no libc.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void on_terminate(int sig) {
  (void)sig;
  _exit(0);
}

static void on_child(int sig) {
  (void)sig;
  int saved = errno;
  while (waitpid(-1, NULL, WNOHANG) > 0) {
  }
  errno = saved;
}

static int install(int sig, void (*handler)(int)) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = handler;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = (sig == SIGCHLD) ? SA_NOCLDSTOP | SA_RESTART : 0;
  return sigaction(sig, &sa, NULL);
}

int main(int argc, char **argv) {
  if (argc > 1 && (strcmp(argv[1], "-v") == 0 || strcmp(argv[1], "--version") == 0)) {
    puts("crib-pause 1.0");
    return 0;
  }
  if (getpid() != 1) {
    /* Not fatal: kubernetes' pause warns too, and tests may run it directly. */
    fprintf(stderr, "pause: warning: not running as PID 1\n");
  }
  if (install(SIGINT, on_terminate) < 0 || install(SIGTERM, on_terminate) < 0 ||
      install(SIGCHLD, on_child) < 0) {
    perror("pause: sigaction");
    return 1;
  }
  for (;;) {
    pause();
  }
  /* unreachable */
  return 42;
}
