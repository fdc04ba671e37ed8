import Foundation
import Synchronization

/// Which finished requests get an access log line. Writes (any method but GET and HEAD)
/// and errors (status 400 or more) always do. Reads (GET and HEAD answered below 400,
/// WebSocket upgrades included) do up to ``readsInFull`` a second; past that one in
/// ``readSampling`` does, none at 0. Metrics count every request either way.
///
/// The default logs every read of a quiet server and a 1 % sample of a busy one: a line
/// costs about as much as answering a cached first page.
final class AccessLog: Sendable {
    /// Past the reads logged in full each second, one read in this many is logged; 0 none.
    let readSampling: Int
    /// Reads logged in full each second before the sampling applies.
    let readsInFull: Int
    private let clock: @Sendable () -> Int
    /// The second whose reads ``readsThisSecond`` counts.
    private let second = Atomic<Int>(-1)
    private let readsThisSecond = Atomic<Int>(0)

    /// Logs every request.
    static let everything = AccessLog(readSampling: 1)
    /// Every read up to 100 a second, then one in 100.
    static let standard = AccessLog(readSampling: 100, readsInFull: 100)

    /// - Parameter clock: the current second (tests set theirs).
    init(readSampling: Int, readsInFull: Int = 0, clock: @escaping @Sendable () -> Int = { time(nil) }) {
        self.readSampling = readSampling
        self.readsInFull = readsInFull
        self.clock = clock
    }

    /// Whether the request that ended with `status` gets its line.
    func logs(method: String, status: Int) -> Bool {
        guard status < 400, method == "GET" || method == "HEAD" else { return true }
        if readSampling == 1 { return true }
        let now = clock()
        let known = second.load(ordering: .relaxed)
        // The first read of a new second starts its count; a race at the boundary only
        // moves a line or two between seconds.
        if known != now, second.compareExchange(expected: known, desired: now, ordering: .relaxed).exchanged {
            readsThisSecond.store(0, ordering: .relaxed)
        }
        let read = readsThisSecond.add(1, ordering: .relaxed).newValue
        if read <= readsInFull { return true }
        return readSampling > 0 && (read - readsInFull) % readSampling == 0
    }
}
