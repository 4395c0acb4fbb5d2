/* A program that runs without libblinkd-preload.so (built with -static): prints its argv[0] and
   exits with the status its first argument names (spec/native/spawnstatic.c). */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
  printf("static target: argv[0] %s\n", argv[0]);
  return argc > 1 ? atoi(argv[1]) : 0;
}
