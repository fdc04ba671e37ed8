#!/usr/bin/env python3
"""WebSocket fan-out load client of scripts/bench-fanout (picows + uvloop, one process).

Opens N connections to /ws, subscribes each to one game's global top N and waits for
its leaderboard:state; reads the server's RSS before and after (memory per connection);
then submits U scores through POST /score, one every INTERVAL seconds, each a new leader
(so each changes the top 10), and records every leaderboard:update each connection
receives. A delivery's latency is its receive time minus the send time of the POST whose
player leads that update (the update's version is the board version of that score).
Prints per-delivery latency p50/p99/max, per-update spread (first to last subscriber),
and key=value lines for the script.
"""
import argparse
import asyncio
import json
import os
import resource
import statistics
import sys
import time

import uvloop
from picows import WSListener, WSMsgType, ws_connect

UPDATE = b'"type":"leaderboard:update"'
STATE = b'"type":"leaderboard:state"'
deliveries = []          # (receive ns, version, leader userId bytes)
first_payload = {}       # version -> payload bytes (first delivery)
subscribed = 0
all_subscribed = None
closed_early = 0
subscribe_message = b""


def version_and_leader(data):
    i = data.find(b'"version":') + 10
    j = i
    while 48 <= data[j] <= 57:
        j += 1
    k = data.find(b'"userId":"') + 10
    return int(data[i:j]), data[k:data.find(b'"', k)]


class Client(WSListener):
    def __init__(self):
        self.has_state = False

    def on_ws_connected(self, transport):
        transport.send(WSMsgType.TEXT, subscribe_message)

    def on_ws_frame(self, transport, frame):
        if frame.msg_type != WSMsgType.TEXT:
            return
        t = time.time_ns()
        data = frame.get_payload_as_bytes()
        head = data[:40]
        if UPDATE in head:
            version, leader = version_and_leader(data)
            deliveries.append((t, version, leader))
            if version not in first_payload:
                first_payload[version] = data
        elif STATE in head and not self.has_state:
            global subscribed
            self.has_state = True
            subscribed += 1
            if subscribed == target and not all_subscribed.done():
                all_subscribed.set_result(t)

    def on_ws_disconnected(self, transport):
        global closed_early
        if not stopping:
            closed_early += 1


stopping = False
target = 0


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class Http:
    """One keep-alive HTTP/1.1 connection for POST /score."""

    async def open(self, host, port):
        self.reader, self.writer = await asyncio.open_connection(host, port)

    async def post(self, path, body):
        head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n").encode()
        sent = time.time_ns()
        self.writer.write(head + body)
        status = await self.reader.readline()
        length = 0
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
        answer = await self.reader.readexactly(length)
        return sent, time.time_ns(), status.decode().split()[1], answer


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def parse_rfc3339_ms(text):
    # 2026-11-23T10:00:00.125Z
    from datetime import datetime, timezone
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc).timestamp() * 1000


async def main():
    global subscribe_message, all_subscribed, target, stopping
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=4000)
    ap.add_argument("--game", default="bench")
    ap.add_argument("--connections", type=int, default=10000)
    ap.add_argument("--updates", type=int, default=20)
    ap.add_argument("--interval", type=float, default=0.5)
    ap.add_argument("--concurrency", type=int, default=200, help="connections opening at once")
    ap.add_argument("--server-pid", type=int, default=0)
    ap.add_argument("--base-score", type=int, default=10_000_000)
    args = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    target = args.connections
    loop = asyncio.get_running_loop()
    all_subscribed = loop.create_future()
    subscribe_message = json.dumps({"type": "subscribe", "gameId": args.game, "scopes": ["global"]}).encode()
    url = f"ws://{args.host}:{args.port}/ws"

    if args.server_pid:
        rss_idle = rss_kb(args.server_pid)
        print(f"server RSS, no connections: {rss_idle} KB")

    transports = []
    semaphore = asyncio.Semaphore(args.concurrency)
    failures = 0

    async def connect_one():
        nonlocal failures
        async with semaphore:
            for attempt in range(5):
                try:
                    transport, _ = await ws_connect(Client, url, websocket_handshake_timeout=30)
                    transports.append(transport)
                    return
                except Exception as error:  # noqa: BLE001 (report, retry)
                    if attempt == 4:
                        failures += 1
                        print(f"connect failed: {error!r}", file=sys.stderr)
                    await asyncio.sleep(0.2)

    started = time.time_ns()
    await asyncio.gather(*(connect_one() for _ in range(args.connections)))
    connected = time.time_ns()
    print(f"opened {len(transports)} connections in {(connected - started) / 1e9:.1f} s ({failures} failed)")
    if failures:
        target = len(transports)
        if subscribed >= target and not all_subscribed.done():
            all_subscribed.set_result(time.time_ns())
    await asyncio.wait_for(all_subscribed, 60)
    print(f"all {target} subscribed (leaderboard:state received) {(all_subscribed.result() - started) / 1e9:.1f} s after the first connect")

    if args.server_pid:
        await asyncio.sleep(2)
        rss_subscribed = rss_kb(args.server_pid)
        per = (rss_subscribed - rss_idle) / target
        print(f"server RSS, {target} idle subscribed connections: {rss_subscribed} KB")
        print(f"memory per connection: {per:.1f} KB")
        print(f"rss_idle_kb={rss_idle} rss_subscribed_kb={rss_subscribed} kb_per_connection={per:.2f}")

    http = Http()
    await http.open(args.host, args.port)
    sends = {}        # leader userId -> (send ns, answer ns)
    cpu0, wall0 = time.process_time(), time.time_ns()
    for i in range(args.updates):
        tick = loop.time()
        user = f"fanout-{i:03d}"
        body = json.dumps({"gameId": args.game, "userId": user, "displayName": f"Fan {i}", "countryCode": "GB",
                           "score": args.base_score + 1000 * (i + 1), "achievedAt": "2026-11-23T10:00:00Z"}).encode()
        sent, answered, status, answer = await http.post("/score", body)
        if status != "200":
            print(f"POST /score answered {status}: {answer[:200]!r}", file=sys.stderr)
        sends[user.encode()] = (sent, answered)
        await asyncio.sleep(max(0.0, tick + args.interval - loop.time()))
    # wait for the last update to reach everyone (or 10 s)
    last_user = f"fanout-{args.updates - 1:03d}".encode()
    deadline = loop.time() + 10
    while loop.time() < deadline and sum(1 for d in deliveries[-target:] if d[2] == last_user) < target:
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.3)
    cpu1, wall1 = time.process_time(), time.time_ns()

    by_leader = {}
    for t, version, leader in deliveries:
        by_leader.setdefault(leader, []).append((t, version))
    latencies, spreads, lasts, firsts, rows = [], [], [], [], []
    unexpected = 0
    for leader, got in by_leader.items():
        if leader not in sends:
            unexpected += len(got)
            continue
        sent, answered = sends[leader]
        times = sorted(t for t, _ in got)
        version = got[0][1]
        lat = [(t - sent) / 1e6 for t in times]
        latencies.extend(lat)
        spread = (times[-1] - times[0]) / 1e6
        spreads.append(spread)
        firsts.append(lat[0])
        lasts.append(lat[-1])
        payload = first_payload.get(version, b"")
        try:
            updated_at = parse_rfc3339_ms(json.loads(payload)["payload"]["updatedAt"])
            from_change = (times[-1] / 1e6) - updated_at
        except Exception:  # noqa: BLE001
            from_change = float("nan")
        rows.append((leader.decode(), version, len(times), (answered - sent) / 1e6, lat[0], lat[-1], spread, from_change, len(payload)))
    rows.sort()
    print(f"{'update':<12} {'version':>8} {'got':>6} {'POST ms':>8} {'first ms':>9} {'last ms':>8} {'spread ms':>10} {'updatedAt->last ms':>19} {'bytes':>6}")
    for r in rows:
        print(f"{r[0]:<12} {r[1]:>8} {r[2]:>6} {r[3]:>8.1f} {r[4]:>9.1f} {r[5]:>8.1f} {r[6]:>10.1f} {r[7]:>19.1f} {r[8]:>6}")
    expected = target * args.updates
    print(f"deliveries: {len(latencies)} of {expected} expected ({len(rows)} updates of {args.updates} seen, {unexpected} other, {closed_early} connections closed)")
    if latencies:
        size = statistics.median(r[8] for r in rows)
        ws_size = size + (2 if size < 126 else 4)
        print(f"end-to-end latency (POST sent -> update received, includes the 100 ms coalescing window): "
              f"p50 {pct(latencies, 50):.1f} ms, p99 {pct(latencies, 99):.1f} ms, max {max(latencies):.1f} ms")
        print(f"first delivery per update: median {statistics.median(firsts):.1f} ms; last delivery per update: median {statistics.median(lasts):.1f} ms, max {max(lasts):.1f} ms")
        print(f"fan-out spread (first -> last subscriber): median {statistics.median(spreads):.1f} ms, max {max(spreads):.1f} ms")
        frames = len(deliveries)
        print(f"client CPU during updates: {cpu1 - cpu0:.2f} s over {(wall1 - wall0) / 1e9:.1f} s wall, "
              f"{(cpu1 - cpu0) / max(frames, 1) * 1e6:.1f} us per received update frame")
        print(f"update_bytes={int(size)} ws_frame_bytes={int(ws_size)} latency_p50_ms={pct(latencies, 50):.1f} latency_p99_ms={pct(latencies, 99):.1f} "
              f"latency_max_ms={max(latencies):.1f} spread_median_ms={statistics.median(spreads):.1f} spread_max_ms={max(spreads):.1f} "
              f"last_median_ms={statistics.median(lasts):.1f} deliveries={len(latencies)} expected={expected}")
    stopping = True
    for transport in transports:
        transport.disconnect()
    await asyncio.sleep(0.5)
    return 0 if len(latencies) == expected else 2


if __name__ == "__main__":
    uvloop.install()
    sys.exit(asyncio.run(main()))
