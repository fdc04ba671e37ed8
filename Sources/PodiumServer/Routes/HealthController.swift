import Hummingbird
import Synchronization

/// Whether start-up (loading boards, replaying the log) has finished.
public final class Readiness: Sendable {
    private let ready = Atomic<Bool>(false)

    public init() {}

    public var isReady: Bool { ready.load(ordering: .acquiring) }

    public func markReady() { ready.store(true, ordering: .releasing) }
}

/// `GET /health` (the process runs), `GET /ready` (boards are loaded) and `GET /metrics`
/// (Prometheus text format).
struct HealthController {
    let readiness: Readiness
    let metrics: PodiumMetrics

    func addRoutes(to router: Router<PodiumRequestContext>) {
        router.get("health") { _, _ in
            Response.json(ByteBuffer(string: #"{"status":"ok"}"#))
        }
        router.get("ready") { _, _ in
            guard readiness.isReady else {
                throw APIError(.notReady, "Boards are still loading.", retryAfter: 1)
            }
            return Response.json(ByteBuffer(string: #"{"status":"ready"}"#))
        }
        router.get("metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: metrics.registry.emitToBuffer()))
            )
        }
    }
}
