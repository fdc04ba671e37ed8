/* The kernel floor of a WebSocket fan-out: the time one core needs to write the same
 * message to N loopback TCP sockets (one write(2) each, TCP_NODELAY), and the time until a
 * reader on the other core has received the message on every socket.
 *
 * The writer holds the N accepted ends, a forked reader the N connecting ends, so neither
 * process holds more than N + 3 descriptors (a process may open 20,000 files here).
 *
 *   cc -O2 -o kernel_floor kernel_floor.c && ./kernel_floor [sockets=10000] [bytes=300] [rounds=20]
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static void pin(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    sched_setaffinity(0, sizeof set, &set);
}

static void die(const char *what) { perror(what); exit(1); }

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 10000;
    int size = argc > 2 ? atoi(argv[2]) : 300;
    int rounds = argc > 3 ? atoi(argv[3]) : 20;
    int cpus = (int)sysconf(_SC_NPROCESSORS_ONLN);
    struct rlimit lim;
    getrlimit(RLIMIT_NOFILE, &lim);
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
    if ((rlim_t)n + 16 > lim.rlim_cur) { fprintf(stderr, "%d sockets need more than %lu files\n", n, (unsigned long)lim.rlim_cur); return 1; }

    int listener = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof addr;
    if (bind(listener, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(listener, 4096) < 0) die("listen");
    getsockname(listener, (struct sockaddr *)&addr, &len);
    int done_pipe[2], go_pipe[2];
    if (pipe(done_pipe) < 0 || pipe(go_pipe) < 0) die("pipe");

    pid_t reader = fork();
    if (reader == 0) { /* the reader: connects n sockets, then reads everything */
        close(listener);
        pin(cpus > 1 ? 1 : 0);
        int *fds = malloc(sizeof(int) * n);
        int one = 1;
        for (int i = 0; i < n; i++) {
            fds[i] = socket(AF_INET, SOCK_STREAM, 0);
            if (fds[i] < 0) die("reader socket");
            setsockopt(fds[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            if (connect(fds[i], (struct sockaddr *)&addr, sizeof addr) < 0) die("connect");
        }
        int ep = epoll_create1(0);
        for (int i = 0; i < n; i++) {
            fcntl(fds[i], F_SETFL, O_NONBLOCK);
            struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (uint32_t)i };
            epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev);
        }
        char ready = 'r';
        if (write(done_pipe[1], &ready, 1) != 1) die("write");
        long long expected = (long long)n * size, received = 0;
        static char buf[65536];
        struct epoll_event events[1024];
        for (int round = 0; round < rounds; round++) {
            while (received < expected * (round + 1)) {
                int k = epoll_wait(ep, events, 1024, 5000);
                if (k <= 0) { fprintf(stderr, "reader: timed out\n"); _exit(1); }
                for (int j = 0; j < k; j++) {
                    ssize_t r;
                    while ((r = read(fds[events[j].data.u32], buf, sizeof buf)) > 0) received += r;
                }
            }
            char done = 'd';
            if (write(done_pipe[1], &done, 1) != 1) die("write");
        }
        _exit(0);
    }

    /* the writer: accepts n sockets, then times rounds of writes */
    pin(0);
    int *fds = malloc(sizeof(int) * n);
    int one = 1;
    for (int i = 0; i < n; i++) {
        fds[i] = accept(listener, NULL, NULL);
        if (fds[i] < 0) die("accept");
        setsockopt(fds[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    close(listener);
    char token;
    if (read(done_pipe[0], &token, 1) != 1) die("reader failed");
    char *message = malloc(size);
    memset(message, 'x', size);
    double *write_us = malloc(sizeof(double) * rounds), *deliver_us = malloc(sizeof(double) * rounds);
    for (int round = 0; round < rounds; round++) {
        usleep(50000);
        double t0 = now_us();
        for (int i = 0; i < n; i++)
            if (write(fds[i], message, size) != size) die("write");
        double t1 = now_us();
        if (read(done_pipe[0], &token, 1) != 1) die("reader failed");
        double t2 = now_us();
        write_us[round] = t1 - t0;
        deliver_us[round] = t2 - t0;
    }
    int status;
    waitpid(reader, &status, 0);
    qsort(write_us, rounds, sizeof(double), cmp);
    qsort(deliver_us, rounds, sizeof(double), cmp);
    double wm = write_us[rounds / 2], dm = deliver_us[rounds / 2];
    printf("kernel floor: %d loopback TCP sockets, %d-byte message, %d rounds\n", n, size, rounds);
    printf("write to all (one core): median %.0f us (%.2f us/socket), min %.0f us, max %.0f us\n",
           wm, wm / n, write_us[0], write_us[rounds - 1]);
    printf("until the reader (other core) has it on all: median %.0f us, min %.0f us, max %.0f us\n",
           dm, deliver_us[0], deliver_us[rounds - 1]);
    printf("floor_write_us=%.0f floor_per_socket_us=%.3f floor_deliver_us=%.0f\n", wm, wm / n, dm);
    return 0;
}
