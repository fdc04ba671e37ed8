/// The wall clock the server reads for the time it accepts a score and for the current
/// period of a game's period boards. Tests set their own, to cross a boundary at will.
public struct WallClock: Sendable {
    /// Milliseconds since 1970 (UTC).
    public let now: @Sendable () -> Int64

    public init(_ now: @escaping @Sendable () -> Int64) {
        self.now = now
    }

    /// The system's clock.
    public static let system = WallClock { Timestamp.now() }
}
