/// Where a player's past scores are read.
public protocol ScoreHistorySource: Sendable {
    /// The player's history: the score events of `userId` in `gameId`, newest first, at
    /// most `limit`.
    func scoreHistory(gameId: String, userId: String, limit: Int) async throws -> [LoggedEvent]
}

/// The append-only log that every board and all admin state are folded from; its score
/// events are the players' histories.
public protocol LogStore: ScoreHistorySource {
    /// Whether other processes append to the same log (a shared database). A store only
    /// this process writes hands its commits straight to the follower instead of having
    /// them read back.
    var isShared: Bool { get }

    /// Appends `events` in one transaction, in order, each at a sequence above every
    /// earlier commit's. Events with a reference already logged for the same game and user
    /// are not logged again (their outcome is the earlier event); a run session is
    /// consumed in the same transaction, once.
    /// - Throws: ``StoreError/unavailable(_:)``; then nothing of the batch is logged.
    func append(_ events: [LoggedEvent]) async throws -> [CommitOutcome]

    /// Up to `limit` events after `sequence`, in sequence order. No event can later appear
    /// below the last one returned: a follower that reads on from there misses nothing.
    func events(after sequence: Int64, limit: Int) async throws -> [LoggedEvent]

    /// The administrative events (``LoggedEvent/Kind/isAdministrative``) up to and
    /// including `sequence`, in order: what a restore folds before it loads snapshots.
    func administrativeEvents(through sequence: Int64) async throws -> [LoggedEvent]

    /// Wakes `body` each time another instance may have appended (for a shared log), until
    /// the task is cancelled. Stores only this process writes return at once.
    func followAppends(_ body: @escaping @Sendable () -> Void) async throws
}

/// Encoded boards at a log position, so a restart replays only the log after them.
public protocol SnapshotStore: Sendable {
    /// The latest snapshot of each game.
    func snapshots() async throws -> [BoardSnapshot]

    /// Replaces the snapshots of the given games by these, unless a newer one is stored.
    func saveSnapshots(_ snapshots: [BoardSnapshot]) async throws

    /// Deletes the snapshots of boards that are gone (archives dropped beyond a game's
    /// `keepArchives`), by ``BoardSnapshot/gameId``.
    func deleteSnapshots(_ boardIds: [String]) async throws
}

/// Accounts, run sessions and flags: kept in the same store as the log, so a run token is
/// consumed in the same transaction that logs its score.
public protocol AccountStore: Sendable {
    /// Creates a user; false if the username is taken.
    func createUser(_ user: UserRecord) async throws -> Bool
    func user(username: String) async throws -> UserRecord?
    func user(id: String) async throws -> UserRecord?
    /// Gives the admin role to exactly the accounts named in `usernames` (any case) and
    /// takes it from every other; returns the admins' ids.
    func setAdmins(usernames: Set<String>) async throws -> Set<String>
    /// Stores a run session; false if its user does not exist.
    func createSession(_ session: RunSession) async throws -> Bool
    /// Deletes the run sessions that expired before `time` (milliseconds since 1970);
    /// returns how many.
    func deleteSessions(expiredBefore time: Int64) async throws -> Int
    func session(tokenHash: String) async throws -> RunSession?
    func recordFlag(_ flag: FlaggedSubmission) async throws
    /// The most recent flags, newest first.
    func flags(limit: Int) async throws -> [FlaggedSubmission]
}

/// Counts for the rate limits, shared by every instance that shares the store.
public protocol RateLimitStore: Sendable {
    /// Admits one request of `key` at `now` (milliseconds since 1970) if fewer than `limit`
    /// were admitted in the `window` milliseconds before; else says how long until one is.
    func admit(_ key: String, limit: Int, window: Int64, now: Int64) async throws -> RateDecision
}

/// What a rate limit said.
public enum RateDecision: Sendable, Equatable {
    case admitted
    /// Refused; the next request is admitted after this many milliseconds.
    case refused(retryAfter: Int64)
}

/// The live connections of a fleet, so that a per-user cap holds over every instance
/// (only a shared store has one).
public protocol LiveConnectionDirectory: Sendable {
    /// Records `connection` and returns the same user's connections anywhere in the fleet
    /// beyond the newest `limit`, which it forgets; their instances must close them.
    func register(_ connection: LiveConnectionRecord, keepingNewest limit: Int) async throws -> [LiveConnectionRecord]
    func unregister(_ connection: LiveConnectionRecord) async throws
    /// Asks the instance holding `connection` to close it.
    func requestClose(of connection: LiveConnectionRecord) async throws
    /// Calls `body` with the id of each connection of `instance` that another instance asks
    /// to close, until the task is cancelled.
    func followCloseRequests(for instance: String, _ body: @escaping @Sendable (Int) -> Void) async throws
    /// Lists `instance` as alive at `now`; forgets the connections of instances silent since
    /// `staleBefore` (killed without a goodbye).
    func heartbeat(_ instance: String, now: Int64, staleBefore: Int64) async throws
    /// Forgets `instance` and all its connections (at shutdown).
    func retire(_ instance: String) async throws
}

/// One live connection of a signed-in user, on one instance.
public struct LiveConnectionRecord: Sendable, Equatable {
    public var instance: String
    public var id: Int
    public var userId: String
    /// Milliseconds since 1970.
    public var openedAt: Int64
}

/// Everything Podium keeps.
public typealias PodiumStore = LogStore & SnapshotStore & AccountStore & RateLimitStore

/// One game's encoded board at one log position.
public struct BoardSnapshot: Sendable, Equatable {
    public var gameId: String
    /// The last log sequence folded into `data`.
    public var sequence: Int64
    /// The ranking rules the board was folded under (``Game/rulesFingerprint``); a
    /// snapshot taken under other rules is ignored and the log replayed instead.
    public var rules: String
    public var data: [UInt8]

    public init(gameId: String, sequence: Int64, rules: String, data: [UInt8]) {
        self.gameId = gameId
        self.sequence = sequence
        self.rules = rules
        self.data = data
    }
}

/// Where a new log starts numbering: its creation time in microseconds. A board's version
/// is its position in its log, so positions of a log that replaced another (a memory
/// store after a restart, a new database file) stay above the old log's and a client
/// resuming with an old version is never taken to hold the new board.
func firstSequenceOfNewLog() -> Int64 {
    Timestamp.now() * 1000
}
