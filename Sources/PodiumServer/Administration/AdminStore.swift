/// A news item shown on the home page.
public struct Announcement: Sendable, Equatable {
    public var id: String
    public var title: String
    public var body: String
    /// Milliseconds since 1970.
    public var createdAt: Int64
    public var updatedAt: Int64
}

/// What the admin console changes: game definitions, announcements, bans.
public protocol AdminStore: Sendable {
    /// Games created or edited through the admin API (they override the registry file).
    func storedGames() async throws -> [Game]
    func saveGame(_ game: Game) async throws
    /// Announcements, newest first.
    func announcements() async throws -> [Announcement]
    func saveAnnouncement(_ announcement: Announcement) async throws
    /// Deletes an announcement; false if there was none.
    func deleteAnnouncement(id: String) async throws -> Bool
    /// Marks a user banned; false if there is no such user.
    func banUser(id: String, at time: Int64) async throws -> Bool
    /// Ids of banned users.
    func bannedUserIds() async throws -> Set<String>
}
