import Logging
import ServiceLifecycle

/// Runs a service whose graceful shutdown waits on its clients (the HTTP server waits for
/// the requests in flight) and cancels it once the shutdown has taken `limit`: a client
/// that never finishes its request cannot keep the process alive.
struct ShutdownDeadline<Wrapped: Service>: Service {
    let wrapped: Wrapped
    let limit: Duration
    let logger: Logger

    func run() async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await wrapped.run() }
            group.addTask { [limit, logger] in
                try await gracefulShutdown()
                try await Task.sleep(for: limit)
                logger.warning("requests still open after the shutdown grace period: closing their connections", metadata: ["grace": "\(limit)"])
            }
            // Whichever ends first ends the other: the service, or the grace period.
            try await group.next()
            group.cancelAll()
        }
    }
}
