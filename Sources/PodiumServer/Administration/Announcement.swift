import Synchronization

/// A news item shown on the home page.
public struct Announcement: Codable, Sendable, Equatable {
    public var id: String
    public var title: String
    public var body: String
    /// Milliseconds since 1970.
    public var createdAt: Int64
    public var updatedAt: Int64
}

/// The announcements, folded from the log by the follower: every instance shows the same.
public final class Announcements: Sendable {
    private let byId = Mutex<[String: Announcement]>([:])

    public init() {}

    /// Newest first.
    var all: [Announcement] {
        byId.withLock { $0.values.sorted { ($0.createdAt, $0.id) > ($1.createdAt, $1.id) } }
    }

    func announcement(id: String) -> Announcement? { byId.withLock { $0[id] } }

    func save(_ announcement: Announcement) { byId.withLock { $0[announcement.id] = announcement } }

    func remove(id: String) { byId.withLock { _ = $0.removeValue(forKey: id) } }
}
