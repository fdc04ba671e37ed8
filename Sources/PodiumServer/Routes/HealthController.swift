import Hummingbird
import Synchronization

/// Whether start-up (loading boards, replaying the log) has finished.
public final class Readiness: Sendable {
    private let ready = Atomic<Bool>(false)

    public init() {}

    public var isReady: Bool { ready.load(ordering: .acquiring) }

    public func markReady() { ready.store(true, ordering: .releasing) }
}

/// `GET /health` (the process runs) and `GET /ready` (boards are loaded).
struct HealthController {
    let readiness: Readiness

    func addRoutes(to router: Router<PodiumRequestContext>) {
        router.get("health") { _, _ in
            Response.json(ByteBuffer(string: #"{"status":"ok"}"#))
        }
        router.get("ready") { _, _ in
            guard readiness.isReady else {
                throw APIError(.serviceUnavailable, code: "NOT_READY", message: "Boards are still loading.", retryAfter: 1)
            }
            return Response.json(ByteBuffer(string: #"{"status":"ready"}"#))
        }
    }
}
