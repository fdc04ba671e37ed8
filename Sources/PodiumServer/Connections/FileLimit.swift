import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The process's limit of open files against the connection caps: every connection is a
/// file descriptor, so the HTTP and WebSocket caps together must stay below the limit, with
/// room for the store, the log and the event loops.
enum FileLimit {
    /// Descriptors kept for everything but client connections.
    static let reserve = 128

    /// What the caps become under a limit.
    struct Fit: Equatable {
        /// The soft limit to set (raised towards the hard limit when the caps need it).
        var softLimit: Int
        var webSockets: Int
        var http: Int
    }

    /// Raises the soft limit as far as the caps need and the hard limit allows; when even
    /// the hard limit is too low, shrinks the caps to fit, HTTP to at most half of what is
    /// left.
    static func fit(webSockets: Int, http: Int, soft: Int, hard: Int) -> Fit {
        let needed = webSockets + http + reserve
        let limit = max(soft, min(needed, hard))
        guard needed > limit else { return Fit(softLimit: limit, webSockets: webSockets, http: http) }
        let available = max(limit - reserve, 2)
        let fittedHTTP = min(http, max(available / 2, 1))
        return Fit(softLimit: limit, webSockets: min(webSockets, max(available - fittedHTTP, 1)), http: fittedHTTP)
    }

    /// The process's soft and hard limits.
    static func current() -> (soft: Int, hard: Int) {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return (.max, .max) }
        return (Int(clamping: limit.rlim_cur), Int(clamping: limit.rlim_max))
    }

    /// Sets the soft limit; false when the system refuses.
    static func setSoftLimit(_ soft: Int) -> Bool {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return false }
        limit.rlim_cur = rlim_t(soft)
        return setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0
    }
}

extension ServerConfiguration {
    /// Fits the HTTP and WebSocket caps under the open-file limit (raising the soft limit
    /// if it can), logging what it changed.
    mutating func fitConnectionCaps(logger: Logger) {
        let (soft, hard) = FileLimit.current()
        var fit = FileLimit.fit(webSockets: live.maxConnections, http: http.maxConnections, soft: soft, hard: hard)
        if fit.softLimit > soft, !FileLimit.setSoftLimit(fit.softLimit) {
            logger.warning("cannot raise the open-file limit", metadata: ["limit": "\(soft)", "wanted": "\(fit.softLimit)"])
            fit = FileLimit.fit(webSockets: live.maxConnections, http: http.maxConnections, soft: soft, hard: soft)
        }
        if fit.webSockets != live.maxConnections || fit.http != http.maxConnections {
            logger.warning(
                "the open-file limit is too low for the connection caps: lowering them",
                metadata: [
                    "file_limit": "\(fit.softLimit)", "max_connections": "\(fit.webSockets)", "max_http_connections": "\(fit.http)",
                ]
            )
            live.maxConnections = fit.webSockets
            http.maxConnections = fit.http
        }
    }
}
