import GRDB
import Synchronization

/// Group commit for the small writes of concurrent requests (run tokens, accounts, flags,
/// admin changes): writes that arrive while a transaction is being committed wait and are
/// then committed together, each in its own savepoint, so a burst pays one fsync instead
/// of one each. A caller is answered only once the transaction holding its write
/// committed; a write that throws rolls back its own savepoint and fails alone.
final class GroupedWrites: Sendable {
    private struct State {
        var pending: [any PendingWrite] = []
        var isDraining = false
    }

    private let pool: DatabasePool
    private let state = Mutex(State())

    init(pool: DatabasePool) {
        self.pool = pool
    }

    /// Runs `updates` in the next group transaction and returns its result once committed.
    /// - Throws: the error `updates` threw, or the error that kept the group from committing.
    func write<T: Sendable>(_ updates: @Sendable @escaping (Database) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let write = Pending(updates: updates, continuation: continuation)
            let startsDraining = state.withLock { state -> Bool in
                state.pending.append(write)
                defer { state.isDraining = true }
                return !state.isDraining
            }
            if startsDraining { Task { await self.drain() } }
        }
    }

    /// Commits the queued writes group by group until none are left.
    private func drain() async {
        while true {
            let group = state.withLock { state -> [any PendingWrite] in
                defer { state.pending.removeAll(keepingCapacity: true) }
                if state.pending.isEmpty { state.isDraining = false }
                return state.pending
            }
            if group.isEmpty { return }
            do {
                try await pool.write { db in
                    for write in group { write.run(in: db) }
                }
                for write in group { write.answer(commitError: nil) }
            } catch {
                // The transaction failed (a full disk, a read-only file): nothing of the
                // group is durable, whatever its savepoints said.
                for write in group { write.answer(commitError: error) }
            }
        }
    }
}

private protocol PendingWrite: Sendable {
    /// Runs the write's statements in its own savepoint and keeps their outcome.
    func run(in db: Database)
    /// Answers the caller once the group's transaction committed (nil) or failed.
    func answer(commitError: (any Error)?)
}

private final class Pending<T: Sendable>: PendingWrite {
    let updates: @Sendable (Database) throws -> T
    let continuation: CheckedContinuation<T, any Error>
    let outcome = Mutex<Result<T, any Error>?>(nil)

    init(updates: @escaping @Sendable (Database) throws -> T, continuation: CheckedContinuation<T, any Error>) {
        self.updates = updates
        self.continuation = continuation
    }

    func run(in db: Database) {
        let result = Result<T, any Error> {
            var value: T?
            try db.inSavepoint {
                value = try updates(db)
                return .commit
            }
            guard let value else { throw DatabaseError(message: "a grouped write returned nothing") }
            return value
        }
        outcome.withLock { $0 = result }
    }

    func answer(commitError: (any Error)?) {
        if let commitError {
            continuation.resume(throwing: commitError)
        } else if let result = outcome.withLock({ $0 }) {
            continuation.resume(with: result)
        } else {
            continuation.resume(throwing: DatabaseError(message: "a grouped write did not run"))
        }
    }
}
