import Synchronization

/// A store that keeps the log in memory: for tests and demos (`--storage memory`).
/// Everything is lost when the process ends.
public final class MemoryStore: PodiumStore {
    private struct State {
        /// The sequence before the first event (``firstSequenceOfNewLog()``).
        var base: Int64
        var events: [LoggedEvent] = []
        var references: [String: Int] = [:]
        var snapshots: [String: BoardSnapshot] = [:]
        var users: [String: UserRecord] = [:]
        var userIdsByName: [String: String] = [:]
        var sessions: [String: RunSession] = [:]
        var flags: [FlaggedSubmission] = []
    }

    private let state = Mutex(State(base: firstSequenceOfNewLog()))
    private let rateLimits = SlidingWindowLog()

    public init() {}

    public var isShared: Bool { false }

    public func append(_ events: [LoggedEvent]) async throws -> [CommitOutcome] {
        let now = Timestamp.now()
        return state.withLock { state in
            events.map { event in
                let key = event.reference.map { "\(event.gameId)\u{0}\(event.userId)\u{0}\($0)" }
                if let key, let index = state.references[key] { return .duplicate(state.events[index]) }
                if let tokenHash = event.sessionTokenHash {
                    guard let session = state.sessions[tokenHash], session.consumedAt == nil, session.expiresAt > now else {
                        return .sessionRejected
                    }
                    state.sessions[tokenHash]?.consumedAt = now
                }
                var logged = event
                logged.sequence = state.base + Int64(state.events.count + 1)
                state.events.append(logged)
                if let key { state.references[key] = state.events.count - 1 }
                return .logged(logged.sequence)
            }
        }
    }

    public func events(after sequence: Int64, limit: Int) async throws -> [LoggedEvent] {
        state.withLock { state in
            let start = Int(min(max(0, sequence - state.base), Int64(state.events.count)))
            return Array(state.events[start..<min(state.events.count, start + limit)])
        }
    }

    public func administrativeEvents(through sequence: Int64) async throws -> [LoggedEvent] {
        state.withLock { state in state.events.filter { $0.kind.isAdministrative && $0.sequence <= sequence } }
    }

    public func scoreHistory(gameId: String, userId: String, limit: Int) async throws -> [LoggedEvent] {
        state.withLock { state in
            Array(state.events.reversed().lazy.filter { $0.kind == .score && $0.gameId == gameId && $0.userId == userId }.prefix(limit))
        }
    }

    public func followAppends(_ body: @escaping @Sendable () -> Void) async throws {}

    public func admit(_ key: String, limit: Int, window: Int64, now: Int64) async throws -> RateDecision {
        rateLimits.admit(key, limit: limit, window: window, now: now)
    }

    public func snapshots() async throws -> [BoardSnapshot] {
        state.withLock { Array($0.snapshots.values) }
    }

    public func createUser(_ user: UserRecord) async throws -> Bool {
        state.withLock { state in
            let name = user.username.lowercased()
            guard state.userIdsByName[name] == nil else { return false }
            state.userIdsByName[name] = user.id
            state.users[user.id] = user
            return true
        }
    }

    public func user(username: String) async throws -> UserRecord? {
        state.withLock { state in state.userIdsByName[username.lowercased()].flatMap { state.users[$0] } }
    }

    public func user(id: String) async throws -> UserRecord? {
        state.withLock { $0.users[id] }
    }

    public func setAdmins(usernames: Set<String>) async throws -> Set<String> {
        let names = Set(usernames.map { $0.lowercased() })
        return state.withLock { state in
            for (id, user) in state.users {
                state.users[id]?.role = names.contains(user.username.lowercased()) ? .admin : .player
            }
            return Set(state.users.values.filter { $0.role == .admin }.map(\.id))
        }
    }

    public func deleteSessions(expiredBefore time: Int64) async throws -> Int {
        state.withLock { state in
            let before = state.sessions.count
            state.sessions = state.sessions.filter { $0.value.expiresAt >= time }
            return before - state.sessions.count
        }
    }

    public func createSession(_ session: RunSession) async throws -> Bool {
        state.withLock { state in
            guard state.users[session.userId] != nil else { return false }
            state.sessions[session.tokenHash] = session
            return true
        }
    }

    public func session(tokenHash: String) async throws -> RunSession? {
        state.withLock { $0.sessions[tokenHash] }
    }

    public func recordFlag(_ flag: FlaggedSubmission) async throws {
        state.withLock { $0.flags.append(flag) }
    }

    public func flags(limit: Int) async throws -> [FlaggedSubmission] {
        state.withLock { Array($0.flags.suffix(limit).reversed()) }
    }

    public func saveSnapshots(_ snapshots: [BoardSnapshot]) async throws {
        state.withLock { state in
            for snapshot in snapshots where snapshot.sequence >= state.snapshots[snapshot.gameId]?.sequence ?? 0 {
                state.snapshots[snapshot.gameId] = snapshot
            }
        }
    }

    public func deleteSnapshots(_ boardIds: [String]) async throws {
        state.withLock { state in for id in boardIds { state.snapshots[id] = nil } }
    }
}
