import Prometheus
import Synchronization

/// Every metric Podium exports at `GET /metrics`, in one Prometheus registry per server.
public final class PodiumMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()

    static let latencyBuckets: [Duration] = [
        .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
        .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
        .seconds(1), .seconds(2.5),
    ]

    /// The fan-out includes the coalescing wait (100 ms by default): finer buckets just above it.
    static let fanOutBuckets: [Duration] = (latencyBuckets + [105, 110, 120, 150, 200].map { .milliseconds($0) }).sorted()

    let webSocketConnections: Gauge
    let httpConnections: Gauge
    let httpConnectionsRefused: Counter
    let webSocketMessages: Counter
    let updatesCoalesced: Counter
    let slowClientsDropped: Counter
    let fanOutDuration: DurationHistogram
    let commitDuration: DurationHistogram
    let commitGroupSize: ValueHistogram
    let restoreSeconds: Gauge
    let followerReadErrors: Counter
    let dynamoDBBoardsWritten: Counter
    let dynamoDBWriteErrors: Counter
    let dynamoDBPendingBoards: Gauge
    let dynamoDBHistoryWriteErrors: Counter
    let dynamoDBHistoryPending: Gauge
    let dynamoDBHistoryLeftOut: Counter
    let firstPagesFromTheEventLoop: Counter
    /// The labelled series already made, so a request finds its own with one lookup.
    private let requestSeries = LabelledSeries<RequestLabels, RequestSeries>()
    private let submissionSeries = LabelledSeries<[String], Counter>()
    private let appliedSeries = LabelledSeries<String, Counter>()

    private struct RequestLabels: Hashable {
        var method: String
        var route: String
        var status: Int
    }

    public init() {
        webSocketConnections = registry.makeGauge(
            descriptor: .init(namespace: "podium", subsystem: "ws", metricName: "connections", unitName: "", helpText: "Open WebSocket connections.")
        )
        httpConnections = registry.makeGauge(
            descriptor: .init(namespace: "podium", subsystem: "http", metricName: "connections", unitName: "", helpText: "Open HTTP connections (not upgraded to WebSocket).")
        )
        httpConnectionsRefused = registry.makeCounter(
            descriptor: .init(
                namespace: "podium", subsystem: "http", metricName: "connections_refused", unitName: "total",
                helpText: "Connections answered 503 at once because the HTTP connections were at their cap."
            )
        )
        webSocketMessages = registry.makeCounter(
            descriptor: .init(namespace: "podium", subsystem: "ws", metricName: "messages_sent", unitName: "total", helpText: "Messages written to WebSocket clients: ready, states, updates, errors and pongs.")
        )
        updatesCoalesced = registry.makeCounter(
            descriptor: .init(
                namespace: "podium", subsystem: "ws", metricName: "updates_coalesced", unitName: "total",
                helpText: "Board changes merged into an update already pending."
            )
        )
        slowClientsDropped = registry.makeCounter(
            descriptor: .init(
                namespace: "podium", subsystem: "ws", metricName: "slow_clients_dropped", unitName: "total",
                helpText: "Connections closed because they stopped reading while messages piled up."
            )
        )
        fanOutDuration = registry.makeDurationHistogram(
            descriptor: .init(
                namespace: "podium", subsystem: "ws", metricName: "fanout_duration", unitName: "seconds",
                helpText: "Time from the first board change of an update to its write on the last subscriber's socket (coalescing included)."
            ),
            buckets: Self.fanOutBuckets
        )
        commitDuration = registry.makeDurationHistogram(
            descriptor: .init(namespace: "podium", subsystem: "store", metricName: "commit_duration", unitName: "seconds", helpText: "Duration of one group commit."),
            buckets: Self.latencyBuckets
        )
        commitGroupSize = registry.makeValueHistogram(
            descriptor: .init(namespace: "podium", subsystem: "store", metricName: "commit_group_size", unitName: "events", helpText: "Events per group commit."),
            buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024]
        )
        restoreSeconds = registry.makeGauge(
            descriptor: .init(namespace: "podium", subsystem: "store", metricName: "restore_duration", unitName: "seconds", helpText: "Start-up restore: snapshots plus replay.")
        )
        firstPagesFromTheEventLoop = registry.makeCounter(
            descriptor: .init(namespace: "podium", subsystem: "http", metricName: "first_pages_on_event_loop", unitName: "total", helpText: "First pages answered from the page cache on the event loop, before the router.")
        )
        followerReadErrors = registry.makeCounter(
            descriptor: .init(namespace: "podium", subsystem: "log", metricName: "read_errors", unitName: "total", helpText: "Failed reads of the log by this instance's follower.")
        )
        dynamoDBBoardsWritten = registry.makeCounter(
            descriptor: .init(namespace: "podium", subsystem: "dynamodb", metricName: "boards_written", unitName: "total", helpText: "Boards written to DynamoDB (snapshot and top-N items).")
        )
        dynamoDBWriteErrors = registry.makeCounter(
            descriptor: .init(namespace: "podium", subsystem: "dynamodb", metricName: "write_errors", unitName: "total", helpText: "Flushes to DynamoDB that failed after their retries; the boards are written at the next flush.")
        )
        dynamoDBHistoryWriteErrors = registry.makeCounter(
            descriptor: .init(namespace: "podium", subsystem: "dynamodb", metricName: "history_write_errors", unitName: "total", helpText: "Rounds of score history writes to DynamoDB in which some failed; they are tried again.")
        )
        dynamoDBHistoryPending = registry.makeGauge(
            descriptor: .init(namespace: "podium", subsystem: "dynamodb", metricName: "history_pending", unitName: "", helpText: "Accepted scores not yet written to the DynamoDB score history.")
        )
        dynamoDBHistoryLeftOut = registry.makeCounter(
            descriptor: .init(
                namespace: "podium", subsystem: "dynamodb", metricName: "history_left_out", unitName: "total",
                helpText: "Accepted scores left out of the DynamoDB score history because its queue was full."
            )
        )
        dynamoDBPendingBoards = registry.makeGauge(
            descriptor: .init(namespace: "podium", subsystem: "dynamodb", metricName: "pending_boards", unitName: "", helpText: "Boards changed since their last write to DynamoDB and not yet written.")
        )
    }

    /// The series of the HTTP requests of `method` on `route` answered with `status`.
    func requestSeries(method: String, route: String, status: Int) -> RequestSeries {
        requestSeries.series(for: RequestLabels(method: method, route: route, status: status)) {
            RequestSeries(
                requests: registry.makeCounter(
                    descriptor: .init(namespace: "podium", subsystem: "http", metricName: "requests", unitName: "total", helpText: "HTTP requests by route and status."),
                    labels: [("method", method), ("route", route), ("status", String(status))]
                ),
                duration: registry.makeDurationHistogram(
                    descriptor: .init(namespace: "podium", subsystem: "http", metricName: "request_duration", unitName: "seconds", helpText: "HTTP request duration by route."),
                    labels: [("method", method), ("route", route)],
                    buckets: Self.latencyBuckets
                )
            )
        }
    }

    /// Counts one HTTP request.
    func recordRequest(method: String, route: String, status: Int, duration: Duration) {
        requestSeries(method: method, route: route, status: status).record(duration)
    }

    /// Counts a score submission (run, action or ingest) by outcome: `accepted` or an error code.
    func recordSubmission(route: String, outcome: String) {
        submissionSeries.series(for: [route, outcome]) {
            registry.makeCounter(
                descriptor: .init(
                    namespace: "podium", subsystem: "scores", metricName: "submissions", unitName: "total",
                    helpText: "Score submissions by route and outcome (accepted or the error code)."
                ),
                labels: [("route", route), ("outcome", outcome)]
            )
        }.increment()
    }

    /// Counts events applied to a game's board.
    func recordApplied(gameId: String, count: Int) {
        appliedSeries.series(for: gameId) {
            registry.makeCounter(
                descriptor: .init(namespace: "podium", subsystem: "scores", metricName: "events_applied", unitName: "total", helpText: "Score events applied, per game."),
                labels: [("game", gameId)]
            )
        }.increment(by: Int64(count))
    }
}

/// The series of one metric made so far, by their label values: the registry is asked
/// once per label set, later calls find the series with one dictionary lookup.
/// The count and durations of one kind of HTTP request (method, route, status); a
/// handler that answers only one kind keeps its series instead of looking it up each time.
struct RequestSeries: Sendable {
    let requests: Counter
    let duration: DurationHistogram

    func record(_ duration: Duration) {
        requests.increment()
        self.duration.record(duration)
    }
}

private final class LabelledSeries<Labels: Hashable & Sendable, Series: Sendable>: Sendable {
    private let made = Mutex<[Labels: Series]>([:])

    func series(for labels: Labels, make: () -> Series) -> Series {
        made.withLock { made in
            if let known = made[labels] { return known }
            let series = make()
            made[labels] = series
            return series
        }
    }
}
