import Logging
import Synchronization

/// Copies every score the follower folds into the DynamoDB score history, beside the
/// log: the follower hands the events over (``offer(_:)``) and a writer task puts them,
/// several at a time. Puts that fail stay queued and are tried again every
/// ``retryInterval``; a put is conditional, so a score written before a failure is not
/// written twice. The queue holds at most ``capacity`` scores: while DynamoDB stays away,
/// later scores are left out of the history (counted, and warned about once per outage)
/// rather than filling the memory; the log and the boards have them all the same.
public final class ScoreHistoryRecorder: Sendable {
    public let history: DynamoDBScoreHistory
    let retryInterval: Duration
    /// Scores queued at most.
    let capacity: Int
    let metrics: PodiumMetrics
    let logger: Logger
    private let queue = Mutex(Queue())
    private let wakes: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation
    /// Puts in flight at once.
    static let concurrency = 16

    private struct Queue {
        var events: [LoggedEvent] = []
        var isFinished = false
        /// Whether scores are being left out since the queue last had room.
        var isOverflowing = false
    }

    /// Scores queued at most by default: about 30 MB.
    public static let defaultCapacity = 100_000

    public init(
        history: DynamoDBScoreHistory, retryInterval: Duration, capacity: Int = defaultCapacity, metrics: PodiumMetrics, logger: Logger
    ) {
        self.history = history
        self.retryInterval = retryInterval
        self.capacity = capacity
        self.metrics = metrics
        self.logger = logger
        (wakes, wake) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// Queues the score events among `events` (just folded, in log order), as many as
    /// the queue has room for.
    func offer(_ events: [LoggedEvent]) {
        let scores = events.filter { $0.kind == .score }
        guard !scores.isEmpty else { return }
        let (queued, leftOut, startsOverflow) = queue.withLock { queue in
            let room = max(capacity - queue.events.count, 0)
            queue.events += scores.prefix(room)
            let leftOut = scores.count - min(room, scores.count)
            let startsOverflow = leftOut > 0 && !queue.isOverflowing
            queue.isOverflowing = leftOut > 0
            return (queue.events.count, leftOut, startsOverflow)
        }
        metrics.dynamoDBHistoryPending.set(Double(queued))
        if leftOut > 0 { metrics.dynamoDBHistoryLeftOut.increment(by: Int64(leftOut)) }
        if startsOverflow {
            logger.warning(
                "the DynamoDB score history queue is full: later scores are left out of the history until it drains",
                metadata: ["capacity": "\(capacity)", "table": "\(history.table)"]
            )
        }
        wake.yield()
    }

    /// Writes what is queued each time events come, retrying failures every retry
    /// interval, until ``finish()``; then tries once more what is left.
    func writeUntilFinished() async {
        for await _ in wakes {
            while await !writeQueued(), !queue.withLock({ $0.isFinished }) {
                try? await Task.sleep(for: retryInterval)
            }
        }
        await writeQueued()
    }

    func finish() {
        queue.withLock { $0.isFinished = true }
        wake.finish()
    }

    /// Puts every queued event; false if some failed (they stay queued, in order).
    @discardableResult
    private func writeQueued() async -> Bool {
        while true {
            let batch = queue.withLock { queue in Array(queue.events.prefix(Self.concurrency * 4)) }
            guard !batch.isEmpty else { return true }
            let failed = await withTaskGroup(of: Int?.self) { group in
                var failed: [Int] = []
                var next = 0
                func start(_ index: Int) {
                    group.addTask { [history] in (try? await history.record(batch[index])) == nil ? index : nil }
                }
                while next < min(batch.count, Self.concurrency) { start(next); next += 1 }
                for await result in group {
                    if let index = result { failed.append(index) }
                    if next < batch.count { start(next); next += 1 }
                }
                return failed.sorted()
            }
            let remaining = queue.withLock { queue in
                queue.events.removeFirst(batch.count)
                queue.events.insert(contentsOf: failed.map { batch[$0] }, at: 0)
                return queue.events.count
            }
            metrics.dynamoDBHistoryPending.set(Double(remaining))
            guard failed.isEmpty else {
                metrics.dynamoDBHistoryWriteErrors.increment()
                logger.warning(
                    "cannot write score history to DynamoDB; trying again",
                    metadata: ["failed": "\(failed.count)", "queued": "\(remaining)", "table": "\(history.table)"]
                )
                return false
            }
        }
    }
}
