import Logging
import ServiceLifecycle
import Synchronization

/// Holds the per-user connection cap over a whole fleet: every signed-in live connection
/// is listed in the shared store, and opening one more anywhere closes the user's oldest
/// wherever it is (here at once, on another instance through the store's close request).
///
/// Changes are sent to the store one at a time in the order they happened, so a connection
/// closed right after it opened is never left listed. The instance renews a heartbeat;
/// the connections of an instance that stops renewing it (killed) are forgotten.
final class FleetConnections: Service, Sendable {
    /// How often the heartbeat is renewed.
    static let heartbeatInterval = Duration.seconds(10)
    /// An instance silent this long is taken for dead (milliseconds).
    static let staleAfter: Int64 = 30_000

    private enum Change {
        case opened(LiveConnectionRecord)
        case closed(LiveConnectionRecord)
    }

    let directory: any LiveConnectionDirectory
    let instance: String
    let limit: Int
    let logger: Logger
    /// Closes a connection of this instance by id.
    private let closeLocal = Mutex<(@Sendable (Int) -> Void)?>(nil)
    private let changes: AsyncStream<Change>
    private let changeContinuation: AsyncStream<Change>.Continuation

    init(directory: any LiveConnectionDirectory, instance: String, limit: Int, logger: Logger) {
        self.directory = directory
        self.instance = instance
        self.limit = limit
        self.logger = logger
        (changes, changeContinuation) = AsyncStream.makeStream(of: Change.self)
    }

    /// How this instance closes one of its connections when the fleet's cap asks.
    func onCloseRequest(_ close: @escaping @Sendable (Int) -> Void) { closeLocal.withLock { $0 = close } }

    func opened(id: Int, userId: String) {
        changeContinuation.yield(.opened(LiveConnectionRecord(instance: instance, id: id, userId: userId, openedAt: Timestamp.now())))
    }

    func closed(id: Int, userId: String) {
        changeContinuation.yield(.closed(LiveConnectionRecord(instance: instance, id: id, userId: userId, openedAt: 0)))
    }

    // MARK: Service

    /// Applies the changes, renews the heartbeat and follows close requests until graceful
    /// shutdown; then retires this instance from the directory.
    func run() async throws {
        await withDiscardingTaskGroup { group in
            group.addTask { await self.heartbeatUntilCancelled() }
            group.addTask { await self.followCloseRequestsUntilCancelled() }
            for await change in changes.cancelOnGracefulShutdown() { await apply(change) }
            group.cancelAll()
        }
        do {
            try await directory.retire(instance)
        } catch {
            logger.warning("cannot retire this instance's live connections", metadata: ["error": "\(error)"])
        }
    }

    private func apply(_ change: Change) async {
        do {
            switch change {
            case .opened(let connection):
                for surplus in try await directory.register(connection, keepingNewest: limit) {
                    if surplus.instance == instance {
                        closeLocal.withLock { $0 }?(surplus.id)
                    } else {
                        try await directory.requestClose(of: surplus)
                    }
                }
            case .closed(let connection):
                try await directory.unregister(connection)
            }
        } catch {
            logger.warning("cannot update the fleet's live connections", metadata: ["error": "\(error)"])
        }
    }

    private func heartbeatUntilCancelled() async {
        repeat {
            let now = Timestamp.now()
            do {
                try await directory.heartbeat(instance, now: now, staleBefore: now - Self.staleAfter)
            } catch {
                logger.warning("cannot renew this instance's heartbeat", metadata: ["error": "\(error)"])
            }
        } while (try? await Task.sleep(for: Self.heartbeatInterval)) != nil
    }

    private func followCloseRequestsUntilCancelled() async {
        while !Task.isCancelled {
            do {
                try await directory.followCloseRequests(for: instance) { [weak self] id in self?.closeLocal.withLock { $0 }?(id) }
            } catch {
                logger.debug("close requests interrupted", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: .seconds(1))
        }
    }
}
