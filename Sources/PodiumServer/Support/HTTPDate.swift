import Foundation
import Synchronization

/// The `Date` header value of the current second (RFC 9110 IMF-fixdate), formatted once a
/// second rather than once a response.
enum HTTPDate {
    private static let cache = Mutex<(second: Int, text: String)>((-1, ""))

    static func now() -> String {
        var seconds = time_t()
        time(&seconds)
        return cache.withLock { cache in
            if cache.second != Int(seconds) { cache = (Int(seconds), format(seconds)) }
            return cache.text
        }
    }

    private static func format(_ seconds: time_t) -> String {
        var seconds = seconds
        var parts = tm()
        gmtime_r(&seconds, &parts)
        var buffer = [CChar](repeating: 0, count: 40)
        let length = strftime(&buffer, buffer.count, "%a, %d %b %Y %H:%M:%S GMT", &parts)
        return String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
