import Synchronization

/// A store that keeps the log in memory: for tests and demos (`--storage memory`).
/// Everything is lost when the process ends.
public final class MemoryEventStore: EventStore {
    private struct State {
        var events: [LoggedEvent] = []
        var references: [String: Int] = [:]
        var snapshots: [String: BoardSnapshot] = [:]
    }

    private let state = Mutex(State())

    public init() {}

    public func commit(_ events: [LoggedEvent]) async throws -> [CommitOutcome] {
        state.withLock { state in
            events.map { event in
                let key = event.reference.map { "\(event.gameId)\u{0}\(event.userId)\u{0}\($0)" }
                if let key, let index = state.references[key] { return .duplicate(state.events[index]) }
                var logged = event
                logged.sequence = Int64(state.events.count + 1)
                state.events.append(logged)
                if let key { state.references[key] = state.events.count - 1 }
                return .logged(logged.sequence)
            }
        }
    }

    public func readEvents(after sequence: Int64, chunkSize: Int, _ body: @Sendable ([LoggedEvent]) throws -> Void) async throws {
        let events = state.withLock { Array($0.events.dropFirst(Int(max(0, sequence)))) }
        var start = 0
        while start < events.count {
            try body(Array(events[start..<min(events.count, start + chunkSize)]))
            start += chunkSize
        }
    }

    public func snapshots() async throws -> [BoardSnapshot] {
        state.withLock { Array($0.snapshots.values) }
    }

    public func saveSnapshots(_ snapshots: [BoardSnapshot]) async throws {
        state.withLock { state in
            for snapshot in snapshots { state.snapshots[snapshot.gameId] = snapshot }
        }
    }
}
