import Synchronization

/// A store that keeps the log in memory: for tests and demos (`--storage memory`).
/// Everything is lost when the process ends.
public final class MemoryEventStore: PodiumStore {
    private struct State {
        var events: [LoggedEvent] = []
        var references: [String: Int] = [:]
        var snapshots: [String: BoardSnapshot] = [:]
        var users: [String: UserRecord] = [:]
        var userIdsByName: [String: String] = [:]
        var sessions: [String: RunSession] = [:]
        var flags: [FlaggedSubmission] = []
        var games: [String: Game] = [:]
        var announcements: [String: Announcement] = [:]
        var banned: Set<String> = []
    }

    private let state = Mutex(State())

    public init() {}

    public func commit(_ events: [LoggedEvent]) async throws -> [CommitOutcome] {
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
                logged.sequence = Int64(state.events.count + 1)
                state.events.append(logged)
                if let key { state.references[key] = state.events.count - 1 }
                return .logged(logged.sequence)
            }
        }
    }

    public func readEvents(after sequence: Int64, chunkSize: Int, _ body: @Sendable ([LoggedEvent]) throws -> Void) async throws {
        let events = state.withLock { Array($0.events.dropFirst(Int(max(0, sequence)))) }
        var start = 0
        while start < events.count {
            try body(Array(events[start..<min(events.count, start + chunkSize)]))
            start += chunkSize
        }
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

    public func storedGames() async throws -> [Game] {
        state.withLock { Array($0.games.values) }
    }

    public func saveGame(_ game: Game) async throws {
        state.withLock { $0.games[game.id] = game }
    }

    public func announcements() async throws -> [Announcement] {
        state.withLock { $0.announcements.values.sorted { ($0.createdAt, $0.id) > ($1.createdAt, $1.id) } }
    }

    public func saveAnnouncement(_ announcement: Announcement) async throws {
        state.withLock { $0.announcements[announcement.id] = announcement }
    }

    public func deleteAnnouncement(id: String) async throws -> Bool {
        state.withLock { $0.announcements.removeValue(forKey: id) != nil }
    }

    public func banUser(id: String, at time: Int64) async throws -> Bool {
        state.withLock { state in
            guard state.users[id] != nil else { return false }
            state.banned.insert(id)
            return true
        }
    }

    public func bannedUserIds() async throws -> Set<String> {
        state.withLock { $0.banned }
    }

    public func saveSnapshots(_ snapshots: [BoardSnapshot]) async throws {
        state.withLock { state in
            for snapshot in snapshots { state.snapshots[snapshot.gameId] = snapshot }
        }
    }
}
