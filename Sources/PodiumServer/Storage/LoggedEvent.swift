import PodiumEngine

/// Where an accepted score came from.
public enum EventSource: String, Sendable, Codable {
    /// A trusted game server (`POST /score`).
    case ingest
    /// A player's run (`POST /api/scores/submit`).
    case run
    /// A completed action (`POST /api/actions/complete`).
    case action
    /// A moderator (removals).
    case admin
}

/// One entry of the append-only log. Boards are a pure fold of these, in sequence order.
public struct LoggedEvent: Sendable, Equatable {
    public enum Kind: Int, Sendable {
        /// A score for a player, combined by the game's operator.
        case score = 0
        /// A player's removal from the board (moderation).
        case removal = 1
    }

    /// Position in the log, assigned at commit; 0 before.
    public var sequence: Int64
    public var gameId: String
    public var kind: Kind
    public var userId: String
    public var displayName: String
    public var countryCode: CountryCode?
    public var score: Int64
    /// Milliseconds since 1970 at which the score was achieved.
    public var achievedAt: Int64
    public var source: EventSource
    /// The run id or action id the event answers; unique per game and user when set, so a
    /// replayed submission cannot be logged twice.
    public var reference: String?
    /// The run session this event consumes (the SHA-256 of its token), in the same
    /// transaction that logs it.
    public var sessionTokenHash: String?

    public init(
        sequence: Int64 = 0, gameId: String, kind: Kind = .score, userId: String, displayName: String = "",
        countryCode: CountryCode? = nil, score: Int64 = 0, achievedAt: Int64, source: EventSource, reference: String? = nil,
        sessionTokenHash: String? = nil
    ) {
        self.sequence = sequence
        self.gameId = gameId
        self.kind = kind
        self.userId = userId
        self.displayName = displayName
        self.countryCode = countryCode
        self.score = score
        self.achievedAt = achievedAt
        self.source = source
        self.reference = reference
        self.sessionTokenHash = sessionTokenHash
    }

    /// The engine's form of a score event.
    var scoreEvent: ScoreEvent {
        ScoreEvent(userId: userId, displayName: displayName, countryCode: countryCode, score: score, achievedAt: achievedAt)
    }

    /// Applies this event to `board`. Events were checked before they were logged, so a
    /// refusal here (which replay would repeat identically) leaves the board unchanged.
    func apply(to board: Board) -> BoardChange? {
        switch kind {
        case .score: try? board.apply(scoreEvent)
        case .removal: board.remove(userId: userId)
        }
    }
}

/// One game's encoded board at one log position.
public struct BoardSnapshot: Sendable {
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

/// What committing one event did.
public enum CommitOutcome: Sendable, Equatable {
    /// Logged at this sequence.
    case logged(Int64)
    /// An event with the same game, user and reference was logged before; here it is.
    case duplicate(LoggedEvent)
    /// The event's run session is consumed or expired; nothing was logged.
    case sessionRejected
}

/// Why the store could not do what was asked.
public enum StoreError: Error, CustomStringConvertible {
    /// The store cannot write now (read-only file, full disk, locked database).
    case unavailable(String)

    public var description: String {
        switch self {
        case .unavailable(let reason): "the store cannot write: \(reason)"
        }
    }
}
