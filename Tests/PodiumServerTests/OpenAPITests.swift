import Foundation
import HTTPTypes
import Testing

@testable import PodiumServer

/// Keeps docs/openapi.yaml true: every route the router registers is documented, and
/// every documented operation is routed on a running server.
@Suite("OpenAPI document", .timeLimit(.minutes(2)))
struct OpenAPITests {
    /// The repository's root: two folders up from this file (Tests/PodiumServerTests).
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let documentPath = repositoryRoot.appendingPathComponent("docs/openapi.yaml").path

    static let methods: Set<String> = ["get", "put", "post", "delete", "patch", "head", "options", "trace"]

    /// One operation of the document.
    struct Operation: Hashable, CustomStringConvertible {
        var method: String
        var path: String
        var description: String { "\(method.uppercased()) \(path)" }
    }

    /// The operations under `paths:`, read from the document's regular shape: a path at
    /// two spaces (`  /api/games/{gameId}:`), its methods at four (`    get:`).
    static func documentedOperations() throws -> [Operation] {
        let text = try String(contentsOfFile: documentPath, encoding: .utf8)
        var operations: [Operation] = []
        var inPaths = false
        var currentPath: String?
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine
            if line.trimmingCharacters(in: .whitespaces).isEmpty || line.trimmingCharacters(in: .whitespaces).hasPrefix("#") { continue }
            if !line.hasPrefix(" ") {
                inPaths = line.trimmingCharacters(in: .whitespaces) == "paths:"
                currentPath = nil
                continue
            }
            guard inPaths else { continue }
            let indent = line.prefix { $0 == " " }.count
            let content = line.dropFirst(indent).trimmingCharacters(in: .whitespaces)
            guard content.hasSuffix(":") else { continue }
            var key = String(content.dropLast()).trimmingCharacters(in: .whitespaces)
            if key.count >= 2, let first = key.first, first == "\"" || first == "'", key.last == first {
                key = String(key.dropFirst().dropLast())
            }
            if indent == 2 {
                currentPath = key.hasPrefix("/") ? key : nil
            } else if indent == 4, let path = currentPath, methods.contains(key) {
                operations.append(Operation(method: key, path: path))
            }
        }
        return operations
    }

    /// A server whose OpenAPI document and pages are this checkout's.
    static func run(_ body: (TestServer) async throws -> Void) async throws {
        try await TestServer.run(configure: {
            $0.openAPIFile = documentPath
            $0.publicDirectory = repositoryRoot.appendingPathComponent("Public").path
        }, body)
    }

    @Test func documentParses() throws {
        let operations = try Self.documentedOperations()
        #expect(operations.count >= 30, "read \(operations.count) operations from \(Self.documentPath)")
        #expect(Set(operations).count == operations.count, "an operation is documented twice")
    }

    @Test func everyRegisteredRouteIsDocumented() async throws {
        let documented = Set(try Self.documentedOperations())
        try await Self.run { server in
            let routes = server.podium.makeRouter().routes
            #expect(routes.count >= 30, "the router lists \(routes.count) routes")
            for route in routes {
                let operation = Operation(method: route.method.rawValue.lowercased(), path: route.path.description)
                if !documented.contains(operation) { Issue.record("\(operation) is registered but not in docs/openapi.yaml") }
            }
        }
    }

    @Test func everyDocumentedOperationIsRouted() async throws {
        let operations = try Self.documentedOperations()
        try await Self.run { server in
            // The answer of a path no route serves, to compare with.
            let unrouted = try await server.request(.get, "/no/such/route/at/all")
            #expect(unrouted.status == .notFound)
            let unroutedError = try JSON.object(unrouted.body)[object: "error"]
            #expect(unroutedError?[string: "code"] == "NOT_FOUND")
            #expect(unroutedError?[string: "message"] == "No such route.")

            // Real values for the path parameters: a game, a player on its board, an announcement.
            let adminToken = try await server.signInAsAdmin()
            _ = try await server.register("walker")
            try await server.ingest(game: "arcade", user: "u1", country: "GB", score: 42)
            let created = try await server.request(.post, "/api/admin/announcements", json: #"{"title":"Hello","body":"World"}"#, token: adminToken)
            #expect(created.status == .created, "\(created.body)")
            let announcementId = try JSON.object(created.body)[string: "id"] ?? "missing"
            let values = ["gameId": "arcade", "userId": "u1", "id": announcementId, "actionId": "daily-login.00"]

            for operation in operations {
                var path = operation.path
                for (name, value) in values { path = path.replacingOccurrences(of: "{\(name)}", with: value) }
                #expect(!path.contains("{"), "no value for a parameter of \(operation)")
                guard let method = HTTPRequest.Method(operation.method.uppercased()) else {
                    Issue.record("unknown method in \(operation)")
                    continue
                }
                let sendsBody = method == .post || method == .put || method == .patch
                let response = try await server.request(method, path, json: sendsBody ? "{}" : nil, token: adminToken)
                let error = (try? JSON.object(response.body))?[object: "error"]
                let noRoute = response.status == .notFound && error?[string: "code"] == "NOT_FOUND" && error?[string: "message"] == "No such route."
                if noRoute { Issue.record("\(operation) (\(method) \(path)) answered 404 No such route: \(response.body)") }
                if response.status == .methodNotAllowed { Issue.record("\(operation) (\(method) \(path)) answered 405: \(response.body)") }
                if response.status.code >= 500 { Issue.record("\(operation) (\(method) \(path)) answered \(response.status): \(response.body)") }
            }
        }
    }

    @Test func documentIsServed() async throws {
        try await Self.run { server in
            let response = try await server.request(.get, "/openapi.yaml")
            #expect(response.status == .ok)
            #expect(response.headers[.contentType]?.hasPrefix("application/yaml") == true)
            let document = try String(contentsOfFile: Self.documentPath, encoding: .utf8)
            #expect(response.body == document)
        }
    }
}
