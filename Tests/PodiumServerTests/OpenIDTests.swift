import Foundation
import Hummingbird
import JWTKit
import Logging
import ServiceLifecycle
import Testing

@testable import PodiumServer

@Suite("OpenID sign-in against a local JWKS endpoint", .timeLimit(.minutes(2)))
struct OpenIDTests {
    static let issuer = "https://accounts.google.com"
    static let clientId = "podium-test-client.apps.googleusercontent.com"

    struct IDToken: JWTPayload {
        var iss: IssuerClaim
        var sub: SubjectClaim
        var aud: AudienceClaim
        var exp: ExpirationClaim
        var name: String?

        func verify(using algorithm: some JWTAlgorithm) async throws {}
    }

    /// Serves `{"keys":[…]}` for `key` on a free port while `body` runs.
    static func withJWKS(_ key: ES256PrivateKey, kid: String, _ body: (String) async throws -> Void) async throws {
        let (x, y) = key.publicKey.parameters!
        let jwks = #"{"keys":[{"kty":"EC","crv":"P-256","kid":"\#(kid)","alg":"ES256","use":"sig","x":"\#(x)","y":"\#(y)"}]}"#
        let router = Router()
        router.get("certs") { _, _ in Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: jwks))) }
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { continuation.yield($0.localAddress?.port ?? 0) }, logger: Logger(label: "jwks")
        )
        let group = ServiceGroup(configuration: .init(services: [app], logger: Logger(label: "jwks")))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var iterator = ports.makeAsyncIterator()
            let port = await iterator.next()!
            do {
                try await body("http://127.0.0.1:\(port)/certs")
            } catch {
                await group.triggerGracefulShutdown()
                throw error
            }
            await group.triggerGracefulShutdown()
        }
    }

    static func sign(_ key: ES256PrivateKey, kid: String, subject: String = "1234567890", audience: String = clientId, expires: Date = Date().addingTimeInterval(600)) async throws -> String {
        let keys = JWTKeyCollection()
        await keys.add(ecdsa: key, kid: JWKIdentifier(string: kid))
        return try await keys.sign(
            IDToken(iss: .init(value: issuer), sub: .init(value: subject), aud: .init(value: [audience]), exp: .init(value: expires), name: "Grace"),
            kid: JWKIdentifier(string: kid)
        )
    }

    @Test func idTokensFromTheIssuersKeysSignIn() async throws {
        let key = ES256PrivateKey()
        try await Self.withJWKS(key, kid: "k1") { jwksURL in
            try await TestServer.run(configure: { $0.openID = .init(issuer: Self.issuer, audience: Self.clientId, jwksURL: jwksURL) }) { server in
                let token = try await Self.sign(key, kid: "k1")
                let me = try await server.request(.get, "/api/me", token: token)
                #expect(me.status == .ok)
                let body = try JSON.object(me.body)
                #expect(body[string: "userId"] == "oidc:accounts.google.com:1234567890")
                #expect(body[string: "displayName"] == "Grace")
                let session = try await server.startRun(token: token)
                let submit = try await server.request(
                    .post, "/api/scores/submit", json: #"{"gameId":"arcade","score":77,"runId":"g1","sessionToken":"\#(session)"}"#, token: token
                )
                #expect(submit.status == .ok)
            }
        }
    }

    @Test func idTokensFromUnknownKeysOrForOtherAppsAreRefused() async throws {
        let key = ES256PrivateKey()
        try await Self.withJWKS(key, kid: "k1") { jwksURL in
            try await TestServer.run(configure: { $0.openID = .init(issuer: Self.issuer, audience: Self.clientId, jwksURL: jwksURL) }) { server in
                let stranger = try await Self.sign(ES256PrivateKey(), kid: "k1")
                #expect(try await server.request(.get, "/api/me", token: stranger).status == .unauthorized)
                let unknownKid = try await Self.sign(ES256PrivateKey(), kid: "rotated")
                #expect(try await server.request(.get, "/api/me", token: unknownKid).status == .unauthorized)
                let otherApp = try await Self.sign(key, kid: "k1", audience: "someone-else")
                #expect(try await server.request(.get, "/api/me", token: otherApp).status == .unauthorized)
                let expired = try await Self.sign(key, kid: "k1", expires: Date().addingTimeInterval(-60))
                let response = try await server.request(.get, "/api/me", token: expired)
                #expect(response.status == .unauthorized)
                #expect(try JSON.object(response.body)[object: "error"]?[string: "code"] == "TOKEN_EXPIRED")
            }
        }
    }
}
