# What the benchmark scripts share (sourced by scripts/bench-*; run from the repository root).

# A port nobody listens on (127.0.0.1), below the ephemeral range (32768 and up), so the
# benchmarks' own outgoing connections never take it.
free_port() {
    local port
    for _ in $(seq 100); do
        port=$((20000 + RANDOM % 12000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return; fi
    done
    echo "no free port" >&2; return 1
}
now_ns() { date +%s%N; }
ms_since() { echo $(( ($(now_ns) - $1) / 1000000 )); }
