import Synchronization

/// Which finished requests get an access log line. Writes (any method but GET and HEAD)
/// and errors (status 400 or more) always do; reads (GET and HEAD answered below 400,
/// WebSocket upgrades included) one in ``readSampling``, none at 0. Metrics count every
/// request either way.
final class AccessLog: Sendable {
    /// One read in this many is logged; 1 logs every read, 0 none.
    let readSampling: Int
    private let reads = Atomic<Int>(0)

    /// Logs every request.
    static let everything = AccessLog(readSampling: 1)

    init(readSampling: Int) {
        self.readSampling = readSampling
    }

    /// Whether the request that ended with `status` gets its line.
    func logs(method: String, status: Int) -> Bool {
        guard status < 400, method == "GET" || method == "HEAD" else { return true }
        switch readSampling {
        case 0: return false
        case 1: return true
        default: return reads.add(1, ordering: .relaxed).newValue % readSampling == 0
        }
    }
}
