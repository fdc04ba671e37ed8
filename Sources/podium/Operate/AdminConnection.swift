import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore

/// How `podium export` and `podium import` reach a running server: its URL and an admin
/// account, from flags or the same environment variables as `podium serve`.
struct AdminConnection: ParsableArguments {
    @Option(help: "The running server. Env: PODIUM_URL. Default http://127.0.0.1:4000.")
    var server: String?

    @Option(help: "An admin account's username. Env: PODIUM_ADMIN_USER, or the first of PODIUM_ADMIN_USERS.")
    var adminUser: String?

    @Option(help: "Its password. Env: PODIUM_ADMIN_PASSWORD.")
    var adminPassword: String?

    /// An answer of the server.
    struct Answer {
        var status: Int
        var body: ByteBuffer
        var text: String { String(buffer: body) }
    }

    /// Signs in, runs `body` with a client and the access token, and shuts the client down.
    func withSession<T>(_ body: (Session) async throws -> T) async throws -> T {
        let environment = ProcessInfo.processInfo.environment
        let base = (server ?? environment["PODIUM_URL"] ?? "http://127.0.0.1:4000").trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        let firstAdmin = environment["PODIUM_ADMIN_USERS"]?.split(separator: ",").first.map { $0.trimmingCharacters(in: .whitespaces) }
        guard let username = adminUser ?? environment["PODIUM_ADMIN_USER"] ?? firstAdmin else {
            throw ValidationError("name an admin account: --admin-user or PODIUM_ADMIN_USER.")
        }
        guard let password = adminPassword ?? environment["PODIUM_ADMIN_PASSWORD"] else {
            throw ValidationError("give the admin account's password: --admin-password or PODIUM_ADMIN_PASSWORD.")
        }
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            var session = Session(client: client, base: base, token: "")
            let credentials = try JSONSerialization.data(withJSONObject: ["username": username, "password": password])
            let login = try await session.send("POST", "/api/auth/login", body: ByteBuffer(bytes: credentials), contentType: "application/json")
            guard login.status == 200,
                let object = try? JSONSerialization.jsonObject(with: Data(buffer: login.body)) as? [String: Any],
                let token = object["accessToken"] as? String
            else { throw Failure("signing in as \(username) at \(base) failed", login) }
            session.token = token
            let result = try await body(session)
            try await client.shutdown()
            return result
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    struct Session {
        let client: HTTPClient
        let base: String
        var token: String

        func send(_ method: String, _ path: String, body: ByteBuffer? = nil, contentType: String? = nil) async throws -> Answer {
            var request = HTTPClientRequest(url: base + path)
            request.method = .init(rawValue: method)
            if !token.isEmpty { request.headers.add(name: "authorization", value: "Bearer \(token)") }
            if let contentType { request.headers.add(name: "content-type", value: contentType) }
            if let body { request.body = .bytes(body) }
            let response: HTTPClientResponse
            do {
                response = try await client.execute(request, timeout: .seconds(600))
            } catch {
                throw ExitCode.failure("cannot reach \(base) (is the server running? --server or PODIUM_URL names it): \(error)")
            }
            return Answer(status: Int(response.status.code), body: try await response.body.collect(upTo: 1 << 31))
        }
    }

    /// A refusal of the server, with its error message.
    struct Failure: Error, CustomStringConvertible {
        let description: String

        init(_ what: String, _ answer: Answer) {
            let error = (try? JSONSerialization.jsonObject(with: Data(buffer: answer.body)) as? [String: Any])?["error"] as? [String: Any]
            let detail = error.map { "\($0["code"] ?? "?"): \($0["message"] ?? "")" } ?? answer.text
            description = "\(what) (HTTP \(answer.status)): \(detail)"
        }
    }
}
