import Foundation
import HummingbirdBcrypt
import Logging
import NIOPosix

/// The admin accounts named by the configuration. They are the only accounts with the
/// admin role; a named account that does not exist yet is created at start-up with the
/// configured admin password, so nobody can register the name first.
enum AdminAccounts {
    /// Creates the missing admin accounts, sets the roles, and returns the admins' ids.
    static func prepare(
        usernames: Set<String>, password: String?, bcryptCost: UInt8, store: any AccountStore, logger: Logger
    ) async throws -> Set<String> {
        if let password, !UserRecord.isValid(password: password) {
            throw ConfigurationError("the admin password (PODIUM_ADMIN_PASSWORD) must be 8-128 characters")
        }
        for username in usernames.sorted() {
            if let existing = try await store.user(username: username) {
                if existing.role != .admin {
                    logger.warning(
                        "an existing account is named an admin: check that it is yours",
                        metadata: ["username": "\(existing.username)", "createdAt": "\(Timestamp.format(existing.createdAt))"]
                    )
                }
                continue
            }
            guard let password else {
                logger.warning(
                    "admin user has no account: set PODIUM_ADMIN_PASSWORD (--admin-password) to create it",
                    metadata: ["username": "\(username)"]
                )
                continue
            }
            let hash = try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(password, cost: bcryptCost) }
            let admin = UserRecord(
                id: UUID().uuidString.lowercased(), username: username, passwordHash: hash, displayName: username, countryCode: nil,
                role: .admin, createdAt: Timestamp.now()
            )
            _ = try await store.createUser(admin)
            logger.info("created the admin account", metadata: ["username": "\(username)"])
        }
        return try await store.setAdmins(usernames: usernames)
    }
}
