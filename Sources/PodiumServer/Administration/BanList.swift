import Synchronization

/// The banned users, folded from the log, so every submission can be checked without a
/// query and every instance refuses the same users.
public final class BanList: Sendable {
    private let ids = Mutex<Set<String>>([])

    public init() {}

    func ban(_ userId: String) { ids.withLock { _ = $0.insert(userId) } }

    func isBanned(_ userId: String) -> Bool { ids.withLock { $0.contains(userId) } }

    /// Refuses a banned user with 403 `BANNED`.
    func check(_ identity: Identity) throws(APIError) {
        if isBanned(identity.userId) { throw APIError(.banned, "This account is banned.") }
    }
}
