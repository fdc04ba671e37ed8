// WebSocket fan-out load client of scripts/bench-fanout, in C so that reading 10,000
// frames costs about what the kernel floor's reader costs, not the server's CPU.
//
// Opens N connections to /ws, subscribes each to one game's global top 10 and waits for
// its leaderboard:state; reads the server's RSS before and after (memory per connection);
// then a second thread submits U scores through POST /score, one every INTERVAL ms, each
// a new leader "fanout-NNN", while the main thread times every leaderboard:update each
// connection receives against the send time of the POST of the update's leader. Answers
// the server's pings. Prints latency p50/p99/max, per-update spread (first to last
// subscriber) and key=value lines for the script. A storm (INTERVAL_MS below the
// server's coalescing window) delivers only some leaders: updates_seen says how many.
//
// usage: fanout_client PORT GAME CONNECTIONS UPDATES INTERVAL_MS SERVER_PID [FIRST]
// FIRST (default 0) numbers the leaders from fanout-FIRST, so a second run on the same
// board still moves it.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
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

#define BUFFER 8192
#define MAX_UPDATES 1000

typedef struct {
    int fd;
    int used;          // bytes in buf
    int has_state;
    char buf[BUFFER];
} conn_t;

static int port, connections, updates, interval_ms, server_pid, first_index;
static const char *game;
static conn_t *conns;
static int64_t sent_ns[MAX_UPDATES];       // POST send time per update
static int64_t *times[MAX_UPDATES];        // receive times per update
static int counts[MAX_UPDATES];
static int subscribed, closed_early, other_updates, update_bytes;
static volatile int posting_done;

static long rss_kb(int pid) {
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    long kb = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld", &kb) == 1) break;
    fclose(f);
    return kb;
}

// One complete text frame from the server.
static void on_text(conn_t *c, const char *payload, size_t length, int64_t t) {
    const char *head_end = payload + (length < 40 ? length : 40);
    if (memmem(payload, (size_t)(head_end - payload), "leaderboard:update", 18)) {
        const char *leader = memmem(payload, length, "\"userId\":\"fanout-", 17);
        if (!leader) { other_updates++; return; }
        int index = atoi(leader + 17) - first_index;
        if (index < 0 || index >= updates) { other_updates++; return; }
        if (counts[index] == 0) update_bytes = (int)length;
        if (counts[index] < connections) times[index][counts[index]++] = t;
    } else if (!c->has_state && memmem(payload, (size_t)(head_end - payload), "leaderboard:state", 17)) {
        c->has_state = 1;
        subscribed++;
    }
}

// Reads what is there; handles every complete frame.
static void drain(conn_t *c) {
    for (;;) {
        ssize_t n = recv(c->fd, c->buf + c->used, BUFFER - c->used, 0);
        if (n == 0) { closed_early++; close(c->fd); c->fd = -1; return; }
        if (n < 0) return;  // EAGAIN
        int64_t t = now_ns();
        c->used += (int)n;
        int at = 0, next, opcode;
        const char *payload;
        size_t length;
        while ((next = next_frame(c->buf, at, c->used, BUFFER, &opcode, &payload, &length)) > 0) {
            if (opcode == 0x1) on_text(c, payload, length, t);
            else if (opcode == 0x9) send_frame(c->fd, 0xA, payload, length);
            at = next;
        }
        memmove(c->buf, c->buf + at, (size_t)(c->used - at));
        c->used -= at;
    }
}

static void *post_scores(void *unused) {
    (void)unused;
    int fd = connect_loopback(port);
    char request[1024], answer[4096];
    for (int i = 0; i < updates; i++) {
        int64_t tick = now_ns();
        char body[512];
        int body_length = snprintf(body, sizeof body,
            "{\"gameId\":\"%s\",\"userId\":\"fanout-%03d\",\"displayName\":\"Fan %d\",\"countryCode\":\"GB\","
            "\"score\":%d,\"achievedAt\":\"2026-11-23T10:00:00Z\"}", game, first_index + i, first_index + i,
            10000000 + 1000 * (first_index + i + 1));
        int length = snprintf(request, sizeof request,
            "POST /score HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
            body_length, body);
        sent_ns[i] = now_ns();
        if (write_all(fd, request, (size_t)length) < 0) die("POST /score");
        ssize_t n = recv(fd, answer, sizeof answer - 1, 0);  // answers are small: one read
        if (n <= 0 || strncmp(answer, "HTTP/1.1 200", 12) != 0) {
            answer[n > 0 ? n : 0] = 0;
            fprintf(stderr, "POST /score failed: %.200s\n", answer);
        }
        int64_t next = tick + (int64_t)interval_ms * 1000000;
        while (now_ns() < next) usleep(1000);
    }
    close(fd);
    posting_done = 1;
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 7 && argc != 8) {
        fprintf(stderr, "usage: %s PORT GAME CONNECTIONS UPDATES INTERVAL_MS SERVER_PID [FIRST]\n", argv[0]);
        return 1;
    }
    port = atoi(argv[1]);
    game = argv[2];
    connections = atoi(argv[3]);
    updates = atoi(argv[4]);
    interval_ms = atoi(argv[5]);
    server_pid = atoi(argv[6]);
    first_index = argc == 8 ? atoi(argv[7]) : 0;
    if (updates > MAX_UPDATES) updates = MAX_UPDATES;
    struct rlimit limit;
    getrlimit(RLIMIT_NOFILE, &limit);
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
    for (int i = 0; i < updates; i++) times[i] = malloc(sizeof(int64_t) * (size_t)connections);
    conns = calloc((size_t)connections, sizeof(conn_t));

    long rss_idle = rss_kb(server_pid);
    printf("server RSS, no connections: %ld KB\n", rss_idle);
    char subscribe[128];
    int subscribe_length = snprintf(subscribe, sizeof subscribe, "{\"type\":\"subscribe\",\"gameId\":\"%s\",\"scopes\":[\"global\"]}", game);
    int epoll = epoll_create1(0);
    int64_t started = now_ns();
    for (int i = 0; i < connections; i++) {
        conn_t *c = &conns[i];
        c->fd = connect_loopback(port);
        char handshake[256];
        int length = snprintf(handshake, sizeof handshake,
            "GET /ws HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", port);
        if (write_all(c->fd, handshake, (size_t)length) < 0) die("send");
        // Read the 101 answer; frames after it stay in the buffer.
        char *end = NULL;
        while (!end) {
            ssize_t n = recv(c->fd, c->buf + c->used, BUFFER - c->used - 1, 0);
            if (n <= 0) die("handshake");
            c->used += (int)n;
            c->buf[c->used] = 0;
            end = strstr(c->buf, "\r\n\r\n");
        }
        if (strncmp(c->buf, "HTTP/1.1 101", 12) != 0) {
            fprintf(stderr, "upgrade refused: %.200s\n", c->buf);
            return 1;
        }
        int rest = c->used - (int)(end + 4 - c->buf);
        memmove(c->buf, end + 4, (size_t)rest);
        c->used = rest;
        send_frame(c->fd, 0x1, subscribe, (size_t)subscribe_length);
        if (fcntl(c->fd, F_SETFL, O_NONBLOCK) < 0) die("fcntl");
        struct epoll_event event = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
        if (epoll_ctl(epoll, EPOLL_CTL_ADD, c->fd, &event) < 0) die("epoll_ctl");
    }
    printf("opened %d connections in %.1f s\n", connections, (now_ns() - started) / 1e9);

    struct epoll_event events[1024];
    int64_t deadline = now_ns() + 60 * (int64_t)1000000000;
    while (subscribed < connections && now_ns() < deadline) {
        int n = epoll_wait(epoll, events, 1024, 100);
        for (int k = 0; k < n; k++) drain(&conns[events[k].data.u32]);
    }
    printf("all %d subscribed (leaderboard:state received) %.1f s after the first connect\n", subscribed, (now_ns() - started) / 1e9);
    if (subscribed < connections) return 1;

    deadline = now_ns() + 2 * (int64_t)1000000000;
    while (now_ns() < deadline) {
        int n = epoll_wait(epoll, events, 1024, 100);
        for (int k = 0; k < n; k++) drain(&conns[events[k].data.u32]);
    }
    long rss_subscribed = rss_kb(server_pid);
    double per = (double)(rss_subscribed - rss_idle) / connections;
    printf("server RSS, %d idle subscribed connections: %ld KB\n", connections, rss_subscribed);
    printf("memory per connection: %.1f KB\n", per);
    printf("rss_idle_kb=%ld rss_subscribed_kb=%ld kb_per_connection=%.2f\n", rss_idle, rss_subscribed, per);

    struct rusage before, after;
    getrusage(RUSAGE_SELF, &before);
    int64_t wall = now_ns();
    pthread_t poster;
    pthread_create(&poster, NULL, post_scores, NULL);
    deadline = 0;
    for (;;) {
        int n = epoll_wait(epoll, events, 1024, 10);
        for (int k = 0; k < n; k++) drain(&conns[events[k].data.u32]);
        if (posting_done && deadline == 0) deadline = now_ns() + 10 * (int64_t)1000000000;
        if (posting_done && (counts[updates - 1] == connections || now_ns() > deadline)) break;
    }
    pthread_join(poster, NULL);
    getrusage(RUSAGE_SELF, &after);
    double cpu = (after.ru_utime.tv_sec - before.ru_utime.tv_sec) + (after.ru_stime.tv_sec - before.ru_stime.tv_sec)
        + ((after.ru_utime.tv_usec - before.ru_utime.tv_usec) + (after.ru_stime.tv_usec - before.ru_stime.tv_usec)) / 1e6;

    long total = 0;
    for (int i = 0; i < updates; i++) total += counts[i];
    double *latencies = malloc(sizeof(double) * (size_t)(total > 0 ? total : 1));
    double spreads[MAX_UPDATES], firsts[MAX_UPDATES], lasts[MAX_UPDATES];
    int seen = 0, at = 0;
    printf("%-12s %6s %9s %8s %10s\n", "update", "got", "first ms", "last ms", "spread ms");
    for (int i = 0; i < updates; i++) {
        if (counts[i] == 0) continue;
        int64_t first = times[i][0], last = times[i][0];
        for (int k = 0; k < counts[i]; k++) {
            if (times[i][k] < first) first = times[i][k];
            if (times[i][k] > last) last = times[i][k];
            latencies[at++] = (times[i][k] - sent_ns[i]) / 1e6;
        }
        firsts[seen] = (first - sent_ns[i]) / 1e6;
        lasts[seen] = (last - sent_ns[i]) / 1e6;
        spreads[seen] = (last - first) / 1e6;
        printf("fanout-%03d   %6d %9.1f %8.1f %10.1f\n", i, counts[i], firsts[seen], lasts[seen], spreads[seen]);
        seen++;
    }
    long expected = (long)connections * updates;
    printf("deliveries: %ld of %ld expected (%d updates of %d seen, %d other, %d connections closed)\n",
           total, expected, seen, updates, other_updates, closed_early);
    if (seen == 0) return 2;
    qsort(latencies, (size_t)total, sizeof(double), compare_doubles);
    qsort(spreads, (size_t)seen, sizeof(double), compare_doubles);
    qsort(firsts, (size_t)seen, sizeof(double), compare_doubles);
    qsort(lasts, (size_t)seen, sizeof(double), compare_doubles);
    double p50 = percentile(latencies, (int)total, 50), p99 = percentile(latencies, (int)total, 99), max = latencies[total - 1];
    printf("end-to-end latency (POST sent -> update received): p50 %.1f ms, p99 %.1f ms, max %.1f ms\n",
           p50, p99, max);
    printf("first delivery per update: median %.1f ms, max %.1f ms; last delivery per update: median %.1f ms, max %.1f ms\n",
           percentile(firsts, seen, 50), firsts[seen - 1], percentile(lasts, seen, 50), lasts[seen - 1]);
    printf("fan-out spread (first -> last subscriber): median %.1f ms, max %.1f ms\n", percentile(spreads, seen, 50), spreads[seen - 1]);
    printf("client CPU during updates: %.2f s over %.1f s wall, %.1f us per received update frame\n",
           cpu, (now_ns() - wall) / 1e9, cpu / (double)total * 1e6);
    int ws_frame = update_bytes + (update_bytes < 126 ? 2 : 4);
    printf("update_bytes=%d ws_frame_bytes=%d latency_p50_ms=%.1f latency_p99_ms=%.1f latency_max_ms=%.1f spread_median_ms=%.1f "
           "spread_max_ms=%.1f first_median_ms=%.1f first_max_ms=%.1f last_median_ms=%.1f last_max_ms=%.1f updates_seen=%d "
           "post_span_ms=%.1f deliveries=%ld expected=%ld\n",
           update_bytes, ws_frame, p50, p99, max, percentile(spreads, seen, 50), spreads[seen - 1], percentile(firsts, seen, 50),
           firsts[seen - 1], percentile(lasts, seen, 50), lasts[seen - 1], seen, (sent_ns[updates - 1] - sent_ns[0]) / 1e6, total,
           expected);
    return total == expected ? 0 : 2;
}
