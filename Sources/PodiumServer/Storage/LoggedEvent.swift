import Foundation
import PodiumEngine

/// Where an event came from.
public enum EventSource: String, Sendable, Codable {
    /// A trusted game server (`POST /score`).
    case ingest
    /// A player's run (`POST /api/scores/submit`).
    case run
    /// A completed action (`POST /api/actions/complete`).
    case action
    /// A moderator (removals, bans, games, announcements).
    case admin
}

/// One entry of the append-only log. Boards, bans, game definitions and announcements
/// are a pure fold of these, in sequence order, on every instance.
public struct LoggedEvent: Sendable, Equatable {
    public enum Kind: Int, Sendable {
        /// A score for a player, combined by the game's operator.
        case score = 0
        /// A player's removal from one game's board (moderation).
        case removal = 1
        /// A ban of `userId`: refused from then on and removed from every board.
        case ban = 2
        /// A game created or redefined; `payload` is its JSON definition.
        case gameDefinition = 3
        /// An announcement created or edited; `payload` is its JSON.
        case announcement = 4
        /// The announcement whose id is `payload` deleted.
        case announcementRemoval = 5

        /// Whether the event changes what the admin console manages rather than one board.
        var isAdministrative: Bool { rawValue >= Kind.ban.rawValue }
    }

    /// Position in the log, assigned at commit; 0 before.
    public var sequence: Int64
    public var gameId: String
    public var kind: Kind
    public var userId: String
    public var displayName: String
    public var countryCode: CountryCode?
    public var score: Int64
    /// Milliseconds since 1970 at which the score was achieved (or the change made).
    public var achievedAt: Int64
    public var source: EventSource
    /// The run id or action id the event answers; unique per game and user when set, so a
    /// replayed submission cannot be logged twice.
    public var reference: String?
    /// The run session this event consumes (the SHA-256 of its token), in the same
    /// transaction that logs it.
    public var sessionTokenHash: String?
    /// The definition a game or announcement event carries.
    public var payload: String?
    /// The instance that committed the event (``LogFollower/origin``).
    public var origin: String
    /// Milliseconds since 1970 by the server's clock when the writer accepted the event:
    /// the one time that decides which period boards a score counts on, on every instance
    /// and every replay.
    public var acceptedAt: Int64

    public init(
        sequence: Int64 = 0, gameId: String, kind: Kind = .score, userId: String, displayName: String = "",
        countryCode: CountryCode? = nil, score: Int64 = 0, achievedAt: Int64, source: EventSource, reference: String? = nil,
        sessionTokenHash: String? = nil, payload: String? = nil, origin: String = "", acceptedAt: Int64 = 0
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
        self.payload = payload
        self.origin = origin
        self.acceptedAt = acceptedAt
    }

    /// The engine's form of a score event.
    var scoreEvent: ScoreEvent {
        ScoreEvent(userId: userId, displayName: displayName, countryCode: countryCode, score: score, achievedAt: achievedAt)
    }

    /// Applies a score, a removal or a ban (which removes the player from whichever board
    /// it is applied to) to `board`, whose version becomes this event's sequence if it
    /// changed. Events were checked before they were logged, so a refusal here (which every
    /// replay repeats identically) leaves the board unchanged.
    func apply(to board: Board) -> BoardChange? {
        let version = UInt64(sequence)
        switch kind {
        case .score: return try? board.apply(scoreEvent, version: version)
        case .removal, .ban: return board.remove(userId: userId, version: version)
        default: return nil
        }
    }
}

extension LoggedEvent {
    /// A moderator's event of `kind`, for `gameId` or none.
    static func administrative(
        _ kind: Kind, gameId: String = "", userId: String = "", payload: String? = nil
    ) -> LoggedEvent {
        LoggedEvent(gameId: gameId, kind: kind, userId: userId, achievedAt: Timestamp.now(), source: .admin, payload: payload)
    }

    /// The definition a `gameDefinition` event carries.
    var definedGame: Game? {
        payload.flatMap { try? JSONDecoder().decode(Game.self, from: Data($0.utf8)) }
    }

    /// The announcement an `announcement` event carries.
    var savedAnnouncement: Announcement? {
        payload.flatMap { try? JSONDecoder().decode(Announcement.self, from: Data($0.utf8)) }
    }

    /// The JSON text of a definition carried by an event.
    static func payload(_ value: some Encodable) throws -> String {
        String(decoding: try JSONEncoder().encode(value), as: UTF8.self)
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
    /// The store cannot read or write now (read-only file, full disk, locked database,
    /// a database server that went away).
    case unavailable(String)

    public var description: String {
        switch self {
        case .unavailable(let reason): "the store is unavailable: \(reason)"
        }
    }
}
