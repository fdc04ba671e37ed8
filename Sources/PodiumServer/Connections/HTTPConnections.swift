import Logging
import Prometheus
import Synchronization

/// The server's open HTTP connections, against their cap. A connection takes a slot when
/// it is accepted and gives it back when it closes or becomes a WebSocket (which the hub
/// counts instead), so HTTP and WebSocket connections together never exceed the sum of
/// the two caps.
final class HTTPConnections: Sendable {
    let limits: HTTPConnectionLimits
    let metrics: PodiumMetrics
    let logger: Logger
    private let open = Atomic<Int>(0)
    /// Whether the last connection was refused: the warning is logged once per episode.
    private let refusing = Atomic<Bool>(false)

    init(limits: HTTPConnectionLimits, metrics: PodiumMetrics, logger: Logger) {
        self.limits = limits
        self.metrics = metrics
        self.logger = logger
    }

    /// Open HTTP connections.
    var count: Int { open.load(ordering: .relaxed) }

    /// Takes a slot for a new connection; false when every slot is taken.
    func admit() -> Bool {
        guard open.wrappingAdd(1, ordering: .relaxed).newValue <= limits.maxConnections else {
            open.wrappingSubtract(1, ordering: .relaxed)
            metrics.httpConnectionsRefused.increment()
            if !refusing.exchange(true, ordering: .relaxed) {
                logger.warning("too many open HTTP connections: refusing new ones", metadata: ["limit": "\(limits.maxConnections)"])
            }
            return false
        }
        refusing.store(false, ordering: .relaxed)
        metrics.httpConnections.increment()
        return true
    }

    /// Gives back the slot of a connection that closed or was upgraded.
    func release() {
        open.wrappingSubtract(1, ordering: .relaxed)
        metrics.httpConnections.decrement()
    }
}
