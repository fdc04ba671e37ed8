import Logging
import NIOCore
import PodiumEngine
import ServiceLifecycle
import Synchronization

/// The queue and group commit of the log: commits accepted events to the store in groups
/// and answers each submitter once this instance's ``LogFollower`` has applied it.
///
/// Submitters queue their event and wait. The writer takes everything queued, checks each
/// score against the current boards, commits the batch in one transaction (one fsync for
/// the group) and hands the batch to the follower; the next batch is committed while the
/// follower applies this one. An answer therefore means "committed and applied here", and
/// its standing is read after that. When the store cannot write, the whole batch answers
/// `STORAGE_UNAVAILABLE` and nothing is applied; the next batch tries again, so writes
/// resume by themselves when the store recovers.
public final class LogWriter: Service, Sendable {
    /// What a submission did.
    public struct Result: Sendable {
        /// Whether the event changed its board (false for a duplicate).
        public var changedBoard: Bool
        /// The player's standing after the event.
        public var standing: PlayerStanding?
        public var outcome: CommitOutcome
    }

    /// One submission: an event and its submitter, or a batch answered as a whole.
    private struct Write {
        enum Reply {
            case one(CheckedContinuation<Result, any Error>)
            /// A batch's submitter, told how many of its events were logged.
            case all(CheckedContinuation<Int, any Error>)

            func fail(_ error: any Error) {
                switch self {
                case .one(let continuation): continuation.resume(throwing: error)
                case .all(let continuation): continuation.resume(throwing: error)
                }
            }
        }

        var events: [LoggedEvent]
        var reply: Reply
    }

    private struct Queue {
        var writes: [Write] = []
        var isClosed = false
    }

    let store: any PodiumStore
    let follower: LogFollower
    let leaderboards: LeaderboardService
    let metrics: PodiumMetrics
    let logger: Logger
    private let queue = WaitableState(Queue())

    public init(store: any PodiumStore, follower: LogFollower, leaderboards: LeaderboardService, metrics: PodiumMetrics, logger: Logger) {
        self.store = store
        self.follower = follower
        self.leaderboards = leaderboards
        self.metrics = metrics
        self.logger = logger
    }

    /// Commits one event and answers once it is durable and applied by this instance.
    /// - Throws: ``StoreError`` when the store cannot write (or the writer has stopped), the
    ///   engine's ``BoardError`` when the event does not fit the board; the edge answers
    ///   them 503 and 400.
    public func submit(_ event: LoggedEvent) async throws -> Result {
        try await withCheckedThrowingContinuation { continuation in
            enqueue([event], .one(continuation))
        }
    }

    /// Commits `events` in one group, all or none, and answers once all are durable and
    /// applied by this instance, with how many were logged (duplicates are not): an
    /// import's rows, without a standing per event.
    /// - Throws: as ``submit(_:)``; an event that does not fit its board fails the batch.
    public func submitAll(_ events: [LoggedEvent]) async throws -> Int {
        try await withCheckedThrowingContinuation { continuation in
            enqueue(events, .all(continuation))
        }
    }

    private func enqueue(_ events: [LoggedEvent], _ reply: Write.Reply) {
        let now = leaderboards.clock.now()
        let events = events.map { event in
            var event = event
            event.origin = follower.origin
            event.acceptedAt = now
            return event
        }
        let accepted = queue.update { queue -> Bool in
            guard !queue.isClosed else { return false }
            queue.writes.append(Write(events: events, reply: reply))
            return true
        }
        if !accepted { reply.fail(StoreError.unavailable("the writer has stopped: the server is shutting down")) }
    }

    // MARK: Service

    /// Commits once the boards are restored, until graceful shutdown (or cancellation); then
    /// commits what is queued.
    public func run() async throws {
        await follower.waitUntilRestored()
        await withGracefulShutdownHandler {
            await withTaskCancellationHandler {
                await self.commitUntilClosed()
            } onCancel: {
                self.close()
            }
        } onGracefulShutdown: {
            self.close()
        }
    }

    /// Takes no more writes and wakes the committer to drain the queue.
    private func close() {
        queue.update { $0.isClosed = true }
    }

    /// Everything queued, waiting if nothing is; empty once closed and drained.
    private func nextWrites() async -> [Write] {
        await queue.next { queue -> [Write]? in
            if !queue.writes.isEmpty {
                defer { queue.writes.removeAll(keepingCapacity: true) }
                return queue.writes
            }
            return queue.isClosed ? [] : nil
        }
    }

    private func commitUntilClosed() async {
        while true {
            let writes = await nextWrites()
            if writes.isEmpty { return }
            await commit(writes)
        }
    }

    /// Checks and commits one group, hands it to the follower and registers each
    /// submitter's answer.
    private func commit(_ writes: [Write]) async {
        var accepted: [Write] = []
        var pendingTotals: [String: Int64] = [:]
        for write in writes {
            do {
                if write.events.count == 1 {
                    // A refused event leaves the totals as they were.
                    try check(write.events[0], pendingTotals: &pendingTotals)
                } else {
                    // A batch is checked whole: its totals count only if every event passes.
                    var totals = pendingTotals
                    for event in write.events { try check(event, pendingTotals: &totals) }
                    pendingTotals = totals
                }
                accepted.append(write)
            } catch {
                write.reply.fail(error)
            }
        }
        let events = accepted.flatMap(\.events)
        guard !events.isEmpty else {
            for write in accepted { if case .all(let continuation) = write.reply { continuation.resume(returning: 0) } }
            return
        }
        let outcomes: [CommitOutcome]
        let commitStart = ContinuousClock.now
        do {
            outcomes = try await store.append(events)
            metrics.commitDuration.record(.now - commitStart)
            metrics.commitGroupSize.record(Double(events.count))
        } catch {
            logger.error("the store cannot write; answering 503", metadata: ["error": "\(error)", "batch": "\(events.count)"])
            for write in accepted { write.reply.fail(StoreError.unavailable("\(error)")) }
            return
        }
        var committed: [LoggedEvent] = []
        for (event, outcome) in zip(events, outcomes) {
            if case .logged(let sequence) = outcome {
                var event = event
                event.sequence = sequence
                committed.append(event)
            }
        }
        if store.isShared { follower.wake() } else { follower.offer(committed) }
        var offset = 0
        for write in accepted {
            let own = outcomes[offset..<offset + write.events.count]
            offset += write.events.count
            switch write.reply {
            case .one(let continuation):
                answer(write.events[0], own.first!, continuation)
            case .all(let continuation):
                // The follower applies in log order: once the batch's last position is
                // applied, all of it is.
                let target = own.map(\.position).max() ?? 0
                let logged = own.filter(\.isLogged).count
                follower.answer(LogFollower.Answer(target: max(target, follower.appliedSequence), ownSequence: nil) { _ in
                    continuation.resume(returning: logged)
                })
            }
        }
    }

    /// Answers one submission once the follower has applied it, with its standing then.
    private func answer(_ event: LoggedEvent, _ outcome: CommitOutcome, _ continuation: CheckedContinuation<Result, any Error>) {
        let (gameId, userId) = (event.gameId, event.userId)
        let ownSequence: Int64? = if case .logged(let sequence) = outcome { sequence } else { nil }
        follower.answer(
            LogFollower.Answer(target: max(outcome.position, follower.appliedSequence), ownSequence: ownSequence) { [leaderboards] changed in
                let standing = try? leaderboards.gameBoard(gameId).standing(of: userId)
                continuation.resume(returning: Result(changedBoard: changed, standing: standing ?? nil, outcome: outcome))
            }
        )
    }

    /// Refuses a score the board would refuse, before it is logged: above the game's
    /// maximum, or an `incr` total that would overflow (counting earlier events of the
    /// same group). Boards may lag other instances' commits; the fold refuses the same
    /// events on every instance, so a late refusal changes nothing anywhere.
    private func check(_ event: LoggedEvent, pendingTotals: inout [String: Int64]) throws {
        guard event.kind == .score else { return }
        let gameBoard = try leaderboards.gameBoard(event.gameId)
        let game = gameBoard.game
        if let maxScore = game.maxScore, event.score > maxScore {
            throw BoardError.scoreOutOfRange(score: event.score, maxScore: maxScore)
        }
        guard game.scoreOperator == .incr else { return }
        let key = event.gameId + "\u{0}" + event.userId
        let current = pendingTotals[key] ?? gameBoard.standing(of: event.userId)?.entry.score ?? 0
        let (total, overflow) = current.addingReportingOverflow(event.score)
        if overflow { throw BoardError.scoreOverflow(current: current, increment: event.score) }
        pendingTotals[key] = total
    }
}

extension CommitOutcome {
    /// The log position an answer to this outcome waits for: the event's, or the original's
    /// of a duplicate (0 when nothing was logged).
    fileprivate var position: Int64 {
        switch self {
        case .logged(let sequence): sequence
        case .duplicate(let original): original.sequence
        case .sessionRejected: 0
        }
    }

    fileprivate var isLogged: Bool {
        if case .logged = self { true } else { false }
    }
}

extension LogWriter.Result {
    /// `{"ok":true,"runId"?,"applied","duplicate"?,"standing"}`: the answer of a
    /// submission. A run already logged under its runId says `duplicate: true`.
    func encoded(gameId: String, runId: String? = nil) -> ByteBuffer {
        var json = JSONWriter(capacity: 512)
        json.beginObject()
        json.field("ok", true)
        if let runId { json.field("runId", runId) }
        json.field("applied", changedBoard)
        if case .duplicate = outcome { json.field("duplicate", true) }
        if let standing {
            json.key("standing")
            standing.write(to: &json, gameId: gameId)
        }
        json.endObject()
        return json.buffer
    }
}
