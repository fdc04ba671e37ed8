import PodiumServer
import Testing

/// A store of one kind, fresh for one test.
enum TestStore {
    enum Kind: String, CaseIterable, CustomTestStringConvertible, Sendable {
        case memory, sqlite

        var testDescription: String { rawValue }
    }

    static func with(_ kind: Kind, _ body: (any PodiumStore) async throws -> Void) async throws {
        switch kind {
        case .memory:
            try await body(MemoryStore())
        case .sqlite:
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            try await body(try SQLiteStore(path: directory.url.appendingPathComponent("podium.sqlite").path))
        }
    }
}

extension LogStore {
    /// The whole log, read in pages.
    func allEvents() async throws -> [LoggedEvent] {
        var events: [LoggedEvent] = []
        while true {
            let page = try await self.events(after: events.last?.sequence ?? 0, limit: 1000)
            if page.isEmpty { return events }
            events += page
        }
    }
}
