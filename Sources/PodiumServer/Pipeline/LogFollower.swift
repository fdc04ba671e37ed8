import Logging
import PodiumEngine
import ServiceLifecycle
import Synchronization

/// The only way into the boards: reads the store's log in order and folds every event into
/// the boards, the ban list, the games and the announcements, then publishes the changes
/// to the live hub. Every instance runs one, so every instance folds the same log into the
/// same state.
///
/// A store only this process writes hands its commits over (``offer(_:)``) instead of
/// having them read back; a shared store is read after each notification of another
/// instance's commit and every ``Configuration/pollInterval``, so a lost notification
/// costs latency, never an event. Submitters are answered once the follower has applied
/// their events (``answer(_:)``).
public final class LogFollower: Service, Sendable {
    public struct Configuration: Sendable {
        /// How often boards are snapshotted (also at shutdown).
        public var snapshotInterval = Duration.seconds(10)
        /// Events read per query, at start-up and when catching up.
        public var readLimit = 10_000
        /// How often a shared log is read even when no notification came.
        public var pollInterval = Duration.milliseconds(500)
        /// How often the clock is checked for a period boundary (period boards' subscribers
        /// get the new, empty period within this of its start).
        public var periodCheckInterval = Duration.milliseconds(250)
        /// How often changed boards are flushed to the ``SnapshotReplica`` (spec 000: 10 s).
        public var replicaFlushInterval = Duration.seconds(10)

        public init() {}
    }

    /// A submitter waiting for the follower to reach its event.
    struct Answer: Sendable {
        /// The log position the answer must see.
        var target: Int64
        /// The submitter's own event, if it was logged (not a duplicate).
        var ownSequence: Int64?
        /// Called once the follower has applied `target`, with whether the own event changed its board.
        var complete: @Sendable (_ changedBoard: Bool) -> Void
    }

    struct State {
        var applied: Int64 = 0
        var isRestored = false
        var restoreWaiters: [CheckedContinuation<Void, Never>] = []
        /// Commits of this process not yet folded, in log order (unshared stores only).
        var offered: [LoggedEvent] = []
        var answers: [Answer] = []
        /// For this instance's events already applied: whether each changed its board.
        var results: [Int64: Bool] = [:]
        var wakeRequested = false
        var snapshotDue = false
        var replicaFlushDue = false
        var isClosed = false
    }

    /// This process's id in the log (``LoggedEvent/origin``).
    public let origin: String
    let store: any PodiumStore
    /// The boards' second copy in DynamoDB, if configured.
    let replica: SnapshotReplica?
    /// The copy of every score in DynamoDB's score history, if configured.
    let scoreHistory: ScoreHistoryRecorder?
    let leaderboards: LeaderboardService
    let hub: LiveHub
    let bans: BanList
    let announcements: Announcements
    let readiness: Readiness
    let metrics: PodiumMetrics
    let configuration: Configuration
    let logger: Logger
    let state = WaitableState(State())
    /// The sequence of the last snapshot written.
    let snapshotSequence = Atomic<Int64>(0)
    /// The boards the store holds snapshots of, as far as this instance knows: those found
    /// at the restore, then those it wrote. A board no longer among the boards (a dropped
    /// archive) has its snapshot deleted at the next snapshot.
    let snapshottedBoards = Mutex<Set<String>>([])

    /// - Parameter origin: this process's id in the log.
    public init(
        origin: String, store: any PodiumStore, replica: SnapshotReplica? = nil, scoreHistory: ScoreHistoryRecorder? = nil, leaderboards: LeaderboardService, hub: LiveHub, bans: BanList, announcements: Announcements,
        readiness: Readiness, metrics: PodiumMetrics, configuration: Configuration = .init(), logger: Logger
    ) {
        self.origin = origin
        self.store = store
        self.replica = replica
        self.scoreHistory = scoreHistory
        self.leaderboards = leaderboards
        self.hub = hub
        self.bans = bans
        self.announcements = announcements
        self.readiness = readiness
        self.metrics = metrics
        self.configuration = configuration
        self.logger = logger
    }

    /// The last log sequence folded into the boards.
    public var appliedSequence: Int64 { state.withLock { $0.applied } }

    /// Returns once the boards are restored (right away after that).
    func waitUntilRestored() async {
        await withCheckedContinuation { continuation in
            let restored = state.withLock { state -> Bool in
                if !state.isRestored { state.restoreWaiters.append(continuation) }
                return state.isRestored
            }
            if restored { continuation.resume() }
        }
    }

    /// Hands over events this process just committed to an unshared store, in log order.
    func offer(_ events: [LoggedEvent]) {
        guard !events.isEmpty else { return }
        state.update { state in
            state.offered += events
            state.wakeRequested = true
        }
    }

    /// Asks for the log to be read again (another instance may have appended).
    func wake() {
        state.update { $0.wakeRequested = true }
    }

    /// Calls `answer.complete` once the follower has applied `answer.target`.
    func answer(_ answer: Answer) {
        let changed = state.withLock { state -> Bool? in
            guard state.applied >= answer.target else {
                state.answers.append(answer)
                return nil
            }
            return answer.ownSequence.flatMap { state.results.removeValue(forKey: $0) } ?? false
        }
        if let changed { answer.complete(changed) }
    }

    // MARK: Service

    /// Restores the boards, marks the instance ready, then follows the log until graceful
    /// shutdown, folds what is left and writes a final snapshot (and flush to the replica).
    public func run() async throws {
        try await restore()
        rollOver()
        readiness.markReady()
        async let replicaWrites: Void = replica?.writeUntilFinished() ?? ()
        async let historyWrites: Void = scoreHistory?.writeUntilFinished() ?? ()
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                group.addTask { await self.repeatUntilCancelled(every: self.configuration.snapshotInterval) { $0.snapshotDue = true } }
                group.addTask { await self.rollOverUntilCancelled() }
                if replica != nil {
                    group.addTask { await self.repeatUntilCancelled(every: self.configuration.replicaFlushInterval) { $0.replicaFlushDue = true } }
                }
                if store.isShared {
                    group.addTask { await self.repeatUntilCancelled(every: self.configuration.pollInterval) { _ in } }
                    group.addTask { await self.followAppendsUntilCancelled() }
                }
                await withTaskCancellationHandler {
                    await self.followUntilClosed()
                } onCancel: {
                    self.close()
                }
                group.cancelAll()
            }
        } onGracefulShutdown: {
            self.close()
        }
        await catchUp()
        await writeSnapshots()
        replica?.capture(leaderboards, at: appliedSequence)
        replica?.finish()
        scoreHistory?.finish()
        await replicaWrites
        await historyWrites
    }

    /// Stops following after what is applied now; the run folds what is left and snapshots.
    private func close() {
        state.update { state in
            state.isClosed = true
            state.wakeRequested = true
        }
    }

    /// Wakes the follower every `interval`, marking `state` first.
    private func repeatUntilCancelled(every interval: Duration, _ mark: @escaping @Sendable (inout State) -> Void) async {
        while (try? await Task.sleep(for: interval)) != nil {
            state.update { state in
                mark(&state)
                state.wakeRequested = true
            }
        }
    }

    /// Starts each period board's next period when the clock reaches it.
    private func rollOverUntilCancelled() async {
        while (try? await Task.sleep(for: configuration.periodCheckInterval)) != nil { rollOver() }
    }

    /// Starts the periods that began, sends their subscribers the new, empty state, and
    /// tells the replica which archives are gone.
    private func rollOver() {
        for topic in leaderboards.rollOver() { hub.publishEverything(gameId: topic) }
        let dropped = leaderboards.takeDroppedArchives()
        if !dropped.isEmpty { replica?.delete(dropped) }
    }

    /// Turns the store's notifications into wake-ups; when they break off (a database that
    /// went away), tries again after a poll interval.
    private func followAppendsUntilCancelled() async {
        while !Task.isCancelled {
            do {
                try await store.followAppends { [weak self] in self?.wake() }
            } catch {
                logger.debug("log notifications interrupted", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: configuration.pollInterval)
        }
    }

    private func followUntilClosed() async {
        while true {
            let (closed, snapshotDue, replicaFlushDue) = await nextWake()
            await catchUp()
            if snapshotDue { await writeSnapshots() }
            if replicaFlushDue { replica?.capture(leaderboards, at: appliedSequence) }
            if closed { return }
        }
    }

    /// Waits for a wake-up; says whether the follower is closing, a snapshot is due and a
    /// flush to the replica is.
    private func nextWake() async -> (closed: Bool, snapshotDue: Bool, replicaFlushDue: Bool) {
        await state.next { state -> (closed: Bool, snapshotDue: Bool, replicaFlushDue: Bool)? in
            guard state.wakeRequested || state.isClosed else { return nil }
            state.wakeRequested = false
            defer { (state.snapshotDue, state.replicaFlushDue) = (false, false) }
            return (state.isClosed, state.snapshotDue, state.replicaFlushDue)
        }
    }

    /// Folds everything the log holds beyond what is applied: the offered commits of an
    /// unshared store, else what the store returns, until it returns nothing.
    func catchUp() async {
        while true {
            let events: [LoggedEvent]
            if store.isShared {
                do {
                    events = try await store.events(after: appliedSequence, limit: configuration.readLimit)
                } catch {
                    metrics.followerReadErrors.increment()
                    logger.warning("cannot read the log; retrying at the next wake-up", metadata: ["error": "\(error)"])
                    return
                }
            } else {
                events = state.withLock { state in
                    defer { state.offered.removeAll(keepingCapacity: true) }
                    return state.offered
                }
            }
            guard !events.isEmpty else { return }
            await fold(events)
        }
    }

    /// Folds `events` (in log order) and answers the submitters they complete.
    private func fold(_ events: [LoggedEvent]) async {
        var own: [(Int64, Bool)] = []
        var last = appliedSequence
        var folded: [LoggedEvent] = []
        for event in events where event.sequence > last {
            let changed = await fold(event, restoring: nil)
            if event.origin == origin { own.append((event.sequence, changed)) }
            last = event.sequence
            // On a shared log each instance records the scores it logged itself.
            if scoreHistory != nil, !store.isShared || event.origin == origin { folded.append(event) }
        }
        scoreHistory?.offer(folded)
        let completed = state.withLock { state -> [(Answer, Bool)] in
            state.applied = last
            for (sequence, changed) in own { state.results[sequence] = changed }
            var completed: [(Answer, Bool)] = []
            state.answers.removeAll { answer in
                guard answer.target <= state.applied else { return false }
                completed.append((answer, answer.ownSequence.flatMap { state.results.removeValue(forKey: $0) } ?? false))
                return true
            }
            // Results nobody claims (a commit whose answer was lost with its connection)
            // are dropped once far behind.
            if state.results.count > 10_000 {
                let horizon = state.applied - 10_000
                state.results = state.results.filter { $0.key > horizon }
            }
            return completed
        }
        for (answer, changed) in completed { answer.complete(changed) }
    }
}
