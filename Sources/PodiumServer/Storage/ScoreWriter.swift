import Logging
import NIOCore
import PodiumEngine
import ServiceLifecycle
import Synchronization

/// The single writer of the boards: commits accepted scores to the store in groups, then
/// applies them to the boards in log order and publishes the changes.
///
/// Submitters queue their event and wait. The writer takes everything queued, checks each
/// event against the current boards, commits the batch in one transaction (one fsync for
/// the group), applies the committed events in sequence order, and answers every
/// submitter. An answer therefore means "committed". When the store cannot write, the
/// whole batch answers `STORAGE_UNAVAILABLE` and nothing is applied; the next batch tries
/// again, so writes resume by themselves when the store recovers.
public final class ScoreWriter: Service, Sendable {
    public struct Configuration: Sendable {
        /// How often boards are snapshotted (also at shutdown).
        public var snapshotInterval = Duration.seconds(60)
        /// Events replayed per chunk at start-up.
        public var replayChunkSize = 50_000

        public init() {}
    }

    /// What a submission did.
    public struct Result: Sendable {
        /// The change to the board; nil for a duplicate or an event that changed nothing.
        public var change: BoardChange?
        /// The player's standing after the event.
        public var standing: PlayerStanding?
        public var outcome: CommitOutcome
    }

    private enum Item {
        case write(LoggedEvent, CheckedContinuation<Result, any Error>)
        case reconfigure(Game, CheckedContinuation<Void, any Error>)
        case snapshot
    }

    private struct Queue {
        var items: [Item] = []
        var waiter: CheckedContinuation<Void, Never>?
        var isClosed = false
    }

    let store: any EventStore
    let leaderboards: LeaderboardService
    let hub: LiveHub
    let readiness: Readiness
    let metrics: PodiumMetrics
    let configuration: Configuration
    let logger: Logger
    private let queue = Mutex(Queue())
    fileprivate let lastSequence = Atomic<Int64>(0)
    private let snapshotSequence = Atomic<Int64>(0)

    public init(
        store: any EventStore, leaderboards: LeaderboardService, hub: LiveHub, readiness: Readiness, metrics: PodiumMetrics,
        configuration: Configuration = .init(), logger: Logger
    ) {
        self.metrics = metrics
        self.store = store
        self.leaderboards = leaderboards
        self.hub = hub
        self.readiness = readiness
        self.configuration = configuration
        self.logger = logger
    }

    /// The last log sequence applied to the boards.
    public var appliedSequence: Int64 { lastSequence.load(ordering: .acquiring) }

    /// Commits one event and answers once it is durable and applied.
    /// - Throws: ``APIError`` `STORAGE_UNAVAILABLE` (503) when the store cannot write, or the
    ///   engine's refusal (400) when the event does not fit the board.
    public func submit(_ event: LoggedEvent) async throws -> Result {
        try await withCheckedThrowingContinuation { continuation in
            if !enqueueUnlessClosed(.write(event, continuation)) {
                continuation.resume(throwing: APIError.storageUnavailable("The server is shutting down."))
            }
        }
    }

    /// Adds or redefines a game: its board is refolded from the log under the new rules,
    /// between two commits, and its subscribers get the new state.
    public func reconfigure(_ game: Game) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            if !enqueueUnlessClosed(.reconfigure(game, continuation)) {
                continuation.resume(throwing: APIError.storageUnavailable("The server is shutting down."))
            }
        }
    }

    /// Queues `item` and wakes the writer; false once the writer is closed.
    private func enqueueUnlessClosed(_ item: Item) -> Bool {
        let (accepted, waiter) = queue.withLock { queue -> (Bool, CheckedContinuation<Void, Never>?) in
            guard !queue.isClosed else { return (false, nil) }
            queue.items.append(item)
            defer { queue.waiter = nil }
            return (true, queue.waiter)
        }
        waiter?.resume()
        return accepted
    }

    // MARK: Service

    /// Restores the boards, marks the server ready, then commits until graceful shutdown,
    /// drains what is queued and writes a final snapshot.
    public func run() async throws {
        try await restore()
        readiness.markReady()
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                group.addTask {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: self.configuration.snapshotInterval)
                        if !Task.isCancelled { _ = self.enqueueUnlessClosed(.snapshot) }
                    }
                }
                await self.processUntilClosed()
                group.cancelAll()
            }
        } onGracefulShutdown: {
            self.close()
        }
        await writeSnapshots()
    }

    private func close() {
        let waiter = queue.withLock { queue -> CheckedContinuation<Void, Never>? in
            queue.isClosed = true
            defer { queue.waiter = nil }
            return queue.waiter
        }
        waiter?.resume()
    }

    /// Everything queued, waiting if nothing is; empty once closed and drained.
    private func nextItems() async -> [Item] {
        while true {
            let items = queue.withLock { queue -> [Item]? in
                if !queue.items.isEmpty {
                    defer { queue.items.removeAll(keepingCapacity: true) }
                    return queue.items
                }
                return queue.isClosed ? [] : nil
            }
            if let items { return items }
            await withCheckedContinuation { continuation in
                let resumeNow = queue.withLock { queue -> Bool in
                    if !queue.items.isEmpty || queue.isClosed { return true }
                    queue.waiter = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        }
    }

    private func processUntilClosed() async {
        while true {
            let items = await nextItems()
            if items.isEmpty { return }
            var writes: [(LoggedEvent, CheckedContinuation<Result, any Error>)] = []
            var wantsSnapshot = false
            for item in items {
                switch item {
                case .write(let event, let continuation):
                    writes.append((event, continuation))
                case .reconfigure(let game, let continuation):
                    if !writes.isEmpty { await commit(writes) }
                    writes.removeAll()
                    do {
                        try await refold(game)
                        continuation.resume()
                    } catch {
                        continuation.resume(throwing: error)
                    }
                case .snapshot:
                    wantsSnapshot = true
                }
            }
            if !writes.isEmpty { await commit(writes) }
            if wantsSnapshot { await writeSnapshots() }
        }
    }

    /// Checks, commits, applies and answers one group of submissions.
    private func commit(_ writes: [(LoggedEvent, CheckedContinuation<Result, any Error>)]) async {
        var accepted: [(LoggedEvent, CheckedContinuation<Result, any Error>)] = []
        var pendingTotals: [String: Int64] = [:]
        for (event, continuation) in writes {
            do {
                try check(event, pendingTotals: &pendingTotals)
                accepted.append((event, continuation))
            } catch {
                continuation.resume(throwing: error)
            }
        }
        guard !accepted.isEmpty else { return }
        let outcomes: [CommitOutcome]
        let commitStart = ContinuousClock.now
        do {
            outcomes = try await store.commit(accepted.map(\.0))
            metrics.commitDuration.record(.now - commitStart)
            metrics.commitGroupSize.record(Double(accepted.count))
        } catch {
            logger.error("the store cannot write; answering 503", metadata: ["error": "\(error)", "batch": "\(accepted.count)"])
            for (_, continuation) in accepted { continuation.resume(throwing: APIError.storageUnavailable("Scores cannot be saved right now.")) }
            return
        }
        let now = Timestamp.now()
        for ((event, continuation), outcome) in zip(accepted, outcomes) {
            guard let gameBoard = try? leaderboards.gameBoard(event.gameId) else { continue }
            var change: BoardChange?
            if case .logged(let sequence) = outcome {
                var logged = event
                logged.sequence = sequence
                change = gameBoard.apply(logged, now: now)
                lastSequence.store(sequence, ordering: .releasing)
                metrics.recordApplied(gameId: event.gameId, count: 1)
                if let change { hub.publish(gameId: event.gameId, change: change) }
            }
            continuation.resume(returning: Result(change: change, standing: gameBoard.standing(of: event.userId), outcome: outcome))
        }
    }

    /// Refuses an event the board would refuse, before it is logged: a score above the
    /// game's maximum, or an `incr` total that would overflow (counting earlier events of
    /// the same group).
    private func check(_ event: LoggedEvent, pendingTotals: inout [String: Int64]) throws {
        guard event.kind == .score else { return }
        let gameBoard = try leaderboards.gameBoard(event.gameId)
        let game = gameBoard.game
        if let maxScore = game.maxScore, event.score > maxScore {
            throw APIError(BoardError.scoreOutOfRange(score: event.score, maxScore: maxScore))
        }
        guard game.scoreOperator == .incr else { return }
        let key = event.gameId + "\u{0}" + event.userId
        let current = pendingTotals[key] ?? gameBoard.standing(of: event.userId)?.entry.score ?? 0
        let (total, overflow) = current.addingReportingOverflow(event.score)
        if overflow { throw APIError(BoardError.scoreOverflow(current: current, increment: event.score)) }
        pendingTotals[key] = total
    }

    /// Rebuilds one game's board from the whole log under `game`'s rules.
    private func refold(_ game: Game) async throws {
        let collected = EventBuffer()
        try await store.readEvents(after: 0, chunkSize: configuration.replayChunkSize) { events in
            collected.append(events.filter { $0.gameId == game.id })
        }
        let board = Board(configuration: game.boardConfiguration)
        for event in collected.events { _ = event.apply(to: board) }
        leaderboards.upsertGame(game, board: board)
        snapshotSequence.store(0, ordering: .releasing)
        hub.publishEverything(gameId: game.id)
    }

    // MARK: Snapshots and restore

    /// Snapshots every board if the log moved since the last snapshot.
    func writeSnapshots() async {
        let sequence = appliedSequence
        guard sequence > snapshotSequence.load(ordering: .acquiring) else { return }
        let start = ContinuousClock.now
        let snapshots = leaderboards.games.compactMap { game -> BoardSnapshot? in
            guard let gameBoard = try? leaderboards.gameBoard(game.id) else { return nil }
            return BoardSnapshot(gameId: game.id, sequence: sequence, rules: game.rulesFingerprint, data: gameBoard.snapshot())
        }
        do {
            try await store.saveSnapshots(snapshots)
            snapshotSequence.store(sequence, ordering: .releasing)
            logger.info("boards snapshotted", metadata: ["sequence": "\(sequence)", "duration": "\(ContinuousClock.now - start)"])
        } catch {
            logger.error("cannot write snapshots", metadata: ["error": "\(error)"])
        }
    }

    /// Loads each game's latest snapshot taken under its current rules, then replays the
    /// log after it.
    func restore() async throws {
        let start = ContinuousClock.now
        var foldedUpTo: [String: Int64] = [:]
        for snapshot in try await store.snapshots() {
            guard let gameBoard = try? leaderboards.gameBoard(snapshot.gameId) else { continue }
            guard snapshot.rules == gameBoard.game.rulesFingerprint else {
                logger.warning("ignoring a snapshot taken under other rules", metadata: ["game": "\(snapshot.gameId)"])
                continue
            }
            do {
                try leaderboards.replaceBoard(
                    of: snapshot.gameId, with: try Board(configuration: gameBoard.game.boardConfiguration, snapshot: snapshot.data)
                )
                foldedUpTo[snapshot.gameId] = snapshot.sequence
            } catch {
                logger.warning("ignoring a damaged snapshot", metadata: ["game": "\(snapshot.gameId)", "error": "\(error)"])
            }
        }
        let games = leaderboards.games.map(\.id)
        let replayFrom = games.map { foldedUpTo[$0] ?? 0 }.min() ?? 0
        let snapshotSequence = games.map { foldedUpTo[$0] ?? 0 }.max() ?? 0
        self.snapshotSequence.store(games.allSatisfy { foldedUpTo[$0] == snapshotSequence } ? snapshotSequence : 0, ordering: .releasing)
        let folded = foldedUpTo
        lastSequence.store(snapshotSequence, ordering: .releasing)
        let now = Timestamp.now()
        let replayed = try await replay(after: replayFrom, skippingFoldedUpTo: folded, now: now)
        let restoreDuration = ContinuousClock.now - start
        metrics.restoreSeconds.set(Double(restoreDuration.components.seconds) + Double(restoreDuration.components.attoseconds) / 1e18)
        logger.info(
            "boards restored",
            metadata: [
                "snapshots": "\(foldedUpTo.count)", "replayed": "\(replayed)",
                "sequence": "\(appliedSequence)", "duration": "\(ContinuousClock.now - start)",
            ]
        )
    }
}

extension ScoreWriter {
    /// Applies every logged event after `sequence` that a game's snapshot does not already
    /// hold; returns how many events were read.
    private func replay(after sequence: Int64, skippingFoldedUpTo folded: [String: Int64], now: Int64) async throws -> Int {
        let progress = Atomic<Int>(0)
        try await store.readEvents(after: sequence, chunkSize: configuration.replayChunkSize) { events in
            for event in events where event.sequence > folded[event.gameId] ?? 0 {
                _ = (try? self.leaderboards.gameBoard(event.gameId))?.apply(event, now: now)
            }
            if let last = events.last { self.lastSequence.store(last.sequence, ordering: .releasing) }
            let replayed = progress.add(events.count, ordering: .relaxed).newValue
            if replayed % 1_000_000 < events.count {
                self.logger.info("replaying the score log", metadata: ["events": "\(replayed)"])
            }
        }
        return progress.load(ordering: .relaxed)
    }
}

extension ScoreWriter.Result {
    /// `{"ok":true,"runId"?,"applied","duplicate"?,"standing"}`: the answer of a
    /// submission. A run already logged under its runId says `duplicate: true`.
    func encoded(gameId: String, runId: String? = nil) -> ByteBuffer {
        var json = JSONWriter(capacity: 512)
        json.beginObject()
        json.field("ok", true)
        if let runId { json.field("runId", runId) }
        json.field("applied", change != nil)
        if case .duplicate = outcome { json.field("duplicate", true) }
        if let standing {
            json.key("standing")
            standing.write(to: &json, gameId: gameId)
        }
        json.endObject()
        return json.buffer
    }
}

extension APIError {
    static func storageUnavailable(_ message: String) -> APIError {
        APIError(.serviceUnavailable, code: "STORAGE_UNAVAILABLE", message: message, retryAfter: 1)
    }
}

/// Events gathered across the chunks of a log read.
final class EventBuffer: Sendable {
    private let buffer = Mutex<[LoggedEvent]>([])

    func append(_ events: [LoggedEvent]) { buffer.withLock { $0 += events } }

    var events: [LoggedEvent] { buffer.withLock { $0 } }
}
