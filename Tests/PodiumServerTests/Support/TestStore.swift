import Foundation
import Logging
@testable import PodiumServer
import Testing

/// A store of one kind, fresh for one test.
enum TestStore {
    enum Kind: String, CaseIterable, CustomTestStringConvertible, Sendable {
        case memory, sqlite, postgres

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
        case .postgres:
            try await TestPostgres.withDatabase { url in
                let store = try await PostgresStore.open(url: url, logger: TestPostgres.logger)
                do {
                    try await body(store)
                } catch {
                    await store.close()
                    throw error
                }
                await store.close()
            }
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

/// The PostgreSQL server of the test run (`scripts/postgres-server start`, which the test
/// command runs), with one new database per test.
enum TestPostgres {
    static let logger: Logger = {
        var logger = Logger(label: "podium-test-postgres")
        logger.logLevel = .warning
        return logger
    }()

    /// The server's URL from `PODIUM_TEST_POSTGRES_URL`.
    static func serverURL() throws -> String {
        guard let url = ProcessInfo.processInfo.environment["PODIUM_TEST_POSTGRES_URL"], !url.isEmpty else {
            throw TestFailure("PODIUM_TEST_POSTGRES_URL is not set: run scripts/test, or eval \"$(scripts/postgres-server start)\" first")
        }
        return url
    }

    /// Runs `body` with the URL of a new, empty database on `server` (the test run's by
    /// default), dropped afterwards.
    static func withDatabase(on server: String? = nil, _ body: (String) async throws -> Void) async throws {
        let server = try server ?? serverURL()
        let name = "podium_test_\(UUID().uuidString.prefix(8).lowercased())"
        try await psql(server, "CREATE DATABASE \(name)")
        var components = URLComponents(string: server)!
        components.path = "/" + name
        do {
            try await body(components.string!)
        } catch {
            try? await psql(server, "DROP DATABASE \(name) WITH (FORCE)")
            throw error
        }
        try await psql(server, "DROP DATABASE \(name) WITH (FORCE)")
    }

    /// A PostgreSQL server of this test's own, which it may stop and start.
    struct PrivateServer {
        let url: String
        let directory: String

        /// Stops the server, keeping its data: the database goes away.
        func down() async throws { try await TestPostgres.script("down", environment: ["PODIUM_TEST_POSTGRES_DIR": directory]) }

        /// Starts it again on the same port.
        func up() async throws { try await TestPostgres.script("up", environment: ["PODIUM_TEST_POSTGRES_DIR": directory]) }
    }

    /// Runs `body` with a new server of its own (`scripts/postgres-server start`), removed afterwards.
    static func withPrivateServer(_ body: (PrivateServer) async throws -> Void) async throws {
        let exports = try await script("start")
        func value(_ name: String) throws -> String {
            guard let range = exports.range(of: name + "=") else { throw TestFailure("no \(name) in \(exports)") }
            return String(exports[range.upperBound...].prefix { !$0.isWhitespace })
        }
        let server = PrivateServer(url: try value("PODIUM_TEST_POSTGRES_URL"), directory: try value("PODIUM_TEST_POSTGRES_DIR"))
        do {
            try await body(server)
        } catch {
            try? await script("stop", environment: ["PODIUM_TEST_POSTGRES_DIR": server.directory])
            throw error
        }
        try await script("stop", environment: ["PODIUM_TEST_POSTGRES_DIR": server.directory])
    }

    /// Runs `scripts/postgres-server command` and returns what it printed.
    @discardableResult
    static func script(_ command: String, environment: [String: String] = [:]) async throws -> String {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let run = try await ScriptRun.run(root.appendingPathComponent("scripts/postgres-server").path, [command], environment: environment)
        guard run.status == 0 else {
            throw TestFailure("scripts/postgres-server \(command) failed (wait status \(run.status)): \(run.standardError)")
        }
        return run.standardOutput
    }

    /// Runs one statement with psql.
    static func psql(_ url: String, _ statement: String) async throws {
        let run = try await ScriptRun.run("/usr/bin/psql", [url, "-v", "ON_ERROR_STOP=1", "-q", "-c", statement])
        guard run.status == 0 else { throw TestFailure("psql failed: \(statement): \(run.standardError)") }
    }
}
