// WebSocket clients of scripts/bench-scaleout, in C (epoll, answers pings).
//
//   scaleout_client hold PORT GAME CONNECTIONS MAX_SECONDS
//       Opens CONNECTIONS sockets to ws://127.0.0.1:PORT/ws, subscribes each to GAME's
//       global scope and waits for every leaderboard:state; prints "held=N" once they are
//       all subscribed (or the 180 s set-up deadline passed), then keeps them open, reading
//       and answering pings, until SIGTERM/SIGINT or MAX_SECONDS; prints "closed_early=N".
//
//   scaleout_client delivery POST_PORT GAME SAMPLES INTERVAL_MS SUB_PORT...
//       One subscriber on each SUB_PORT (global scope of GAME, a desc game); then SAMPLES
//       scores through POST /score on POST_PORT, each a new leader "xdeliver-NNNNN" with a
//       strictly higher score, one every INTERVAL_MS (a sample waits for every subscriber's
//       update, or 5 s, before the next interval starts). Each subscriber's
//       leaderboard:update whose leader is that sample is timed against the POST's send
//       time. Prints p50/p99/max per subscriber port and key=value lines for the script.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ws_client.h"

typedef struct {
    int fd;
    int port;
    int used;      // bytes in buf
    int size;      // capacity of buf
    int has_state;
    char *buf;
} conn_t;

static const char *game;
static int subscribed, closed_early;
static volatile sig_atomic_t stop;
// delivery mode
#define MAX_SAMPLES 100000
#define MAX_SUBS 8
static int subscribers;
static int64_t sent_ns[MAX_SAMPLES];
static double *latency[MAX_SUBS];  // [sub][sample], -1 = not received
static int current_sample = -1;
static int received_current;

static void on_signal(int signal) {
    (void)signal;
    stop = 1;
}

// Upgrades a new connection to /ws and sends the subscribe message; returns -1 when refused.
static int open_subscriber(conn_t *c, int port, int size) {
    c->port = port;
    c->size = size;
    c->buf = malloc((size_t)size);
    if (!c->buf) die("malloc");
    c->fd = connect_loopback(port);
    char handshake[256];
    int length = snprintf(handshake, sizeof handshake,
        "GET /ws HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", port);
    if (write_all(c->fd, handshake, (size_t)length) < 0) die("send");
    char *end = NULL;
    while (!end) {
        ssize_t n = recv(c->fd, c->buf + c->used, (size_t)(c->size - c->used - 1), 0);
        if (n <= 0) die("handshake");
        c->used += (int)n;
        c->buf[c->used] = 0;
        end = strstr(c->buf, "\r\n\r\n");
    }
    if (strncmp(c->buf, "HTTP/1.1 101", 12) != 0) {
        fprintf(stderr, "upgrade refused on port %d: %.200s\n", port, c->buf);
        close(c->fd);
        c->fd = -1;
        return -1;
    }
    int rest = c->used - (int)(end + 4 - c->buf);
    memmove(c->buf, end + 4, (size_t)rest);
    c->used = rest;
    char subscribe[160];
    length = snprintf(subscribe, sizeof subscribe, "{\"type\":\"subscribe\",\"gameId\":\"%s\",\"scopes\":[\"global\"]}", game);
    send_frame(c->fd, 0x1, subscribe, (size_t)length);
    if (fcntl(c->fd, F_SETFL, O_NONBLOCK) < 0) die("fcntl");
    return 0;
}

static void on_text(conn_t *c, int index, const char *payload, size_t length, int64_t t) {
    size_t head = length < 40 ? length : 40;
    if (!c->has_state && memmem(payload, head, "leaderboard:state", 17)) {
        c->has_state = 1;
        subscribed++;
    } else if (subscribers > 0 && current_sample >= 0 && memmem(payload, head, "leaderboard:update", 18)) {
        // The first userId of an update of a desc board is its leader.
        const char *leader = memmem(payload, length, "\"userId\":\"", 10);
        if (!leader || strncmp(leader + 10, "xdeliver-", 9) != 0) return;
        int sample = atoi(leader + 19);
        if (sample == current_sample && latency[index][sample] < 0) {
            latency[index][sample] = (t - sent_ns[sample]) / 1e6;
            received_current++;
        }
    }
}

// Reads what is there; handles every complete frame (frames larger than the buffer are
// refused: the subscriptions here are small).
static void drain(conn_t *c, int index) {
    for (;;) {
        if (c->fd < 0) return;
        ssize_t n = recv(c->fd, c->buf + c->used, (size_t)(c->size - c->used), 0);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
            closed_early++;
            close(c->fd);
            c->fd = -1;
            return;
        }
        if (n < 0) return;  // EAGAIN
        int64_t t = now_ns();
        c->used += (int)n;
        int at = 0, next, opcode;
        const char *payload;
        size_t length;
        while ((next = next_frame(c->buf, at, c->used, c->size, &opcode, &payload, &length)) > 0) {
            if (opcode == 0x1) on_text(c, index, payload, length, t);
            else if (opcode == 0x9) send_frame(c->fd, 0xA, payload, length);
            else if (opcode == 0x8) {
                closed_early++;
                close(c->fd);
                c->fd = -1;
                return;
            }
            at = next;
        }
        memmove(c->buf, c->buf + at, (size_t)(c->used - at));
        c->used -= at;
    }
}

static void raise_file_limit(void) {
    struct rlimit limit;
    getrlimit(RLIMIT_NOFILE, &limit);
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
}

static int hold(int port, int connections, int max_seconds) {
    conn_t *conns = calloc((size_t)connections, sizeof(conn_t));
    int epoll = epoll_create1(0);
    int64_t started = now_ns(), setup_deadline = started + 180 * (int64_t)1000000000;
    struct epoll_event events[1024];
    int opened = 0;
    for (int i = 0; i < connections && !stop && now_ns() < setup_deadline; i++) {
        if (open_subscriber(&conns[i], port, 8192) < 0) break;
        struct epoll_event event = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
        if (epoll_ctl(epoll, EPOLL_CTL_ADD, conns[i].fd, &event) < 0) die("epoll_ctl");
        opened++;
        // Every 100 connections, read everything there is (states, and the server's pings:
        // a ping unanswered for 10 s closes the connection while the others are opened).
        if (i % 100 == 99) {
            int n;
            do {
                n = epoll_wait(epoll, events, 1024, 0);
                for (int k = 0; k < n; k++) drain(&conns[events[k].data.u32], 0);
            } while (n == 1024);
        }
    }
    while (subscribed < opened && !stop && now_ns() < setup_deadline) {
        int n = epoll_wait(epoll, events, 1024, 100);
        for (int k = 0; k < n; k++) drain(&conns[events[k].data.u32], 0);
    }
    printf("opened=%d held=%d seconds=%.1f\n", opened, subscribed - closed_early, (now_ns() - started) / 1e9);
    fflush(stdout);
    int64_t deadline = started + (int64_t)max_seconds * 1000000000;
    while (!stop && now_ns() < deadline) {
        int n = epoll_wait(epoll, events, 1024, 200);
        for (int k = 0; k < n; k++) drain(&conns[events[k].data.u32], 0);
    }
    printf("closed_early=%d\n", closed_early);
    fflush(stdout);
    return 0;
}

static int delivery(int post_port, int samples, int interval_ms, int *ports, int count) {
    subscribers = count;
    conn_t conns[MAX_SUBS] = {0};
    int epoll = epoll_create1(0);
    for (int s = 0; s < count; s++) {
        latency[s] = malloc(sizeof(double) * (size_t)samples);
        for (int i = 0; i < samples; i++) latency[s][i] = -1;
        if (open_subscriber(&conns[s], ports[s], 1 << 20) < 0) return 1;
        struct epoll_event event = {.events = EPOLLIN, .data.u32 = (uint32_t)s};
        if (epoll_ctl(epoll, EPOLL_CTL_ADD, conns[s].fd, &event) < 0) die("epoll_ctl");
    }
    struct epoll_event events[16];
    int64_t deadline = now_ns() + 30 * (int64_t)1000000000;
    while (subscribed < count && now_ns() < deadline) {
        int n = epoll_wait(epoll, events, 16, 100);
        for (int k = 0; k < n; k++) drain(&conns[events[k].data.u32], (int)events[k].data.u32);
    }
    if (subscribed < count) {
        fprintf(stderr, "only %d of %d subscribers got their state\n", subscribed, count);
        return 1;
    }
    int post = connect_loopback(post_port);
    char request[1024], answer[4096];
    int failed_posts = 0;
    for (int i = 0; i < samples && !stop; i++) {
        int64_t tick = now_ns();
        char body[512];
        int body_length = snprintf(body, sizeof body,
            "{\"gameId\":\"%s\",\"userId\":\"xdeliver-%05d\",\"displayName\":\"Delivery %d\",\"countryCode\":\"GB\","
            "\"score\":%d,\"achievedAt\":\"2026-11-23T10:00:00Z\"}", game, i, i, 500000 + i);
        int length = snprintf(request, sizeof request,
            "POST /score HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
            body_length, body);
        received_current = 0;
        current_sample = i;
        sent_ns[i] = now_ns();
        if (write_all(post, request, (size_t)length) < 0) die("POST /score");
        // The answer (small: one read), while the subscribers are read too.
        int answered = 0;
        int64_t sample_deadline = sent_ns[i] + 5 * (int64_t)1000000000;
        struct epoll_event event = {.events = EPOLLIN, .data.u32 = 1000};
        epoll_ctl(epoll, EPOLL_CTL_ADD, post, &event);
        while ((!answered || received_current < count) && now_ns() < sample_deadline) {
            int n = epoll_wait(epoll, events, 16, 5);
            for (int k = 0; k < n; k++) {
                if (events[k].data.u32 == 1000) {
                    ssize_t got = recv(post, answer, sizeof answer - 1, 0);
                    if (got <= 0 || strncmp(answer, "HTTP/1.1 200", 12) != 0) {
                        answer[got > 0 ? got : 0] = 0;
                        if (failed_posts++ == 0) fprintf(stderr, "POST /score failed: %.200s\n", answer);
                    }
                    answered = 1;
                } else {
                    drain(&conns[events[k].data.u32], (int)events[k].data.u32);
                }
            }
        }
        epoll_ctl(epoll, EPOLL_CTL_DEL, post, NULL);
        int64_t next = tick + (int64_t)interval_ms * 1000000;
        while (now_ns() < next) {
            int n = epoll_wait(epoll, events, 16, 5);
            for (int k = 0; k < n; k++) drain(&conns[events[k].data.u32], (int)events[k].data.u32);
        }
    }
    double *sorted = malloc(sizeof(double) * (size_t)samples);
    for (int s = 0; s < count; s++) {
        int got = 0;
        for (int i = 0; i < samples; i++) if (latency[s][i] >= 0) sorted[got++] = latency[s][i];
        if (got == 0) {
            printf("subscriber port=%d received=0 of %d\n", ports[s], samples);
            continue;
        }
        qsort(sorted, (size_t)got, sizeof(double), compare_doubles);
        printf("subscriber port=%d received=%d of %d p50_ms=%.1f p99_ms=%.1f max_ms=%.1f min_ms=%.1f\n", ports[s], got, samples,
               percentile(sorted, got, 50), percentile(sorted, got, 99), sorted[got - 1], sorted[0]);
    }
    printf("failed_posts=%d closed_early=%d\n", failed_posts, closed_early);
    return 0;
}

int main(int argc, char **argv) {
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    signal(SIGPIPE, SIG_IGN);
    raise_file_limit();
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 6 && strcmp(argv[1], "hold") == 0) {
        game = argv[3];
        return hold(atoi(argv[2]), atoi(argv[4]), atoi(argv[5]));
    }
    if (argc >= 7 && argc <= 6 + MAX_SUBS - 1 && strcmp(argv[1], "delivery") == 0) {
        game = argv[3];
        int samples = atoi(argv[4]);
        if (samples > MAX_SAMPLES) samples = MAX_SAMPLES;
        int ports[MAX_SUBS], count = 0;
        for (int i = 6; i < argc; i++) ports[count++] = atoi(argv[i]);
        return delivery(atoi(argv[2]), samples, atoi(argv[5]), ports, count);
    }
    fprintf(stderr, "usage: %s hold PORT GAME CONNECTIONS MAX_SECONDS\n"
                    "       %s delivery POST_PORT GAME SAMPLES INTERVAL_MS SUB_PORT...\n", argv[0], argv[0]);
    return 64;
}
