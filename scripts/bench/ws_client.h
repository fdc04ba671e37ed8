// What the WebSocket benchmark clients (fanout_client.c, scaleout_client.c) share: loopback
// sockets, masked client frames, reading the server's frames, and percentiles. Header only:
// each client is one `cc` of its .c file.
#pragma once
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

static int64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static void die(const char *what) {
    perror(what);
    exit(1);
}

// A blocking TCP connection to 127.0.0.1:port, Nagle off.
static int connect_loopback(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) die("socket");
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&address, sizeof address) < 0) die("connect");
    return fd;
}

// Sends all of data (retrying on EINTR and EAGAIN); -1 when the connection fails.
static int write_all(int fd, const void *data, size_t length) {
    const char *p = data;
    while (length > 0) {
        ssize_t n = send(fd, p, length, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN) continue;
            return -1;
        }
        p += n;
        length -= (size_t)n;
    }
    return 0;
}

// A masked client frame (mask 0: the payload goes out as is); payloads up to 125 bytes.
static void send_frame(int fd, int opcode, const char *payload, size_t length) {
    char frame[256];
    if (length > 125) length = 125;
    frame[0] = (char)(0x80 | opcode);
    frame[1] = (char)(0x80 | length);
    memset(frame + 2, 0, 4);
    memcpy(frame + 6, payload, length);
    write_all(fd, frame, 6 + length);
}

// The server frame starting at buf[at] of the `used` bytes read: its opcode and payload,
// and the offset after it; 0 while it has not all arrived. A frame larger than the
// buffer's `capacity` ends the program (the benchmarks' messages are small).
static int next_frame(const char *buf, int at, int used, int capacity, int *opcode, const char **payload, size_t *length) {
    if (used - at < 2) return 0;
    const unsigned char *p = (const unsigned char *)buf + at;
    size_t size = p[1] & 0x7F, header = 2;
    if (size == 126) {
        if (used - at < 4) return 0;
        size = (size_t)p[2] << 8 | p[3];
        header = 4;
    } else if (size == 127) {
        if (used - at < 10) return 0;
        size = 0;
        for (int k = 2; k < 10; k++) size = size << 8 | p[k];
        header = 10;
    }
    if (header + size > (size_t)capacity) {
        fprintf(stderr, "a %zu-byte frame does not fit the %d-byte buffer\n", size, capacity);
        exit(1);
    }
    if ((size_t)(used - at) < header + size) return 0;
    *opcode = p[0] & 0x0F;
    *payload = (const char *)p + header;
    *length = size;
    return at + (int)(header + size);
}

static int compare_doubles(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

// The p-th percentile (0-100) of n sorted values.
static double percentile(const double *sorted, int n, double p) {
    int index = (int)(p / 100 * (n - 1) + 0.5);
    return sorted[index < n ? index : n - 1];
}
