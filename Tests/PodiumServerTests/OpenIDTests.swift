import CryptoExtras
import Foundation
import Hummingbird
import JWTKit
import Logging
import ServiceLifecycle
import Synchronization
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

    /// The issuer's published key set, which a test may rotate, and how often it was fetched.
    final class PublishedKeys: Sendable {
        private let keys = Mutex<[String]>([])
        let fetches = Atomic<Int>(0)

        func publish(_ key: ES256PrivateKey, kid: String) {
            let (x, y) = key.publicKey.parameters!
            keys.withLock { $0.append(#"{"kty":"EC","crv":"P-256","kid":"\#(kid)","alg":"ES256","use":"sig","x":"\#(x)","y":"\#(y)"}"#) }
        }

        func publish(_ key: JWTKit.Insecure.RSA.PrivateKey, kid: String) throws {
            let (modulus, exponent) = try key.publicKey.getKeyPrimitives()
            let n = modulus.base64URLEncoded, e = exponent.base64URLEncoded
            keys.withLock { $0.append(#"{"kty":"RSA","kid":"\#(kid)","alg":"RS256","use":"sig","n":"\#(n)","e":"\#(e)"}"#) }
        }

        func withdrawAll() { keys.withLock { $0.removeAll() } }

        var document: String {
            fetches.add(1, ordering: .relaxed)
            return #"{"keys":[\#(keys.withLock { $0.joined(separator: ",") })]}"#
        }
    }

    /// Serves `published` on a free port while `body` runs.
    static func withJWKS(_ published: PublishedKeys, _ body: (String) async throws -> Void) async throws {
        let router = Router()
        router.get("certs") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: published.document)))
        }
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

    static func claims(subject: String, audience: String, expires: Date) -> IDToken {
        IDToken(iss: .init(value: issuer), sub: .init(value: subject), aud: .init(value: [audience]), exp: .init(value: expires), name: "Grace")
    }

    static func sign(_ key: ES256PrivateKey, kid: String, subject: String = "1234567890", audience: String = clientId, expires: Date = Date().addingTimeInterval(600)) async throws -> String {
        let keys = JWTKeyCollection()
        await keys.add(ecdsa: key, kid: JWKIdentifier(string: kid))
        return try await keys.sign(claims(subject: subject, audience: audience, expires: expires), kid: JWKIdentifier(string: kid))
    }

    static func sign(_ key: JWTKit.Insecure.RSA.PrivateKey, kid: String, subject: String = "1234567890") async throws -> String {
        let keys = JWTKeyCollection()
        await keys.add(rsa: key, digestAlgorithm: .sha256, kid: JWKIdentifier(string: kid))
        return try await keys.sign(claims(subject: subject, audience: clientId, expires: Date().addingTimeInterval(600)), kid: JWKIdentifier(string: kid))
    }

    static func openID(_ jwksURL: String, refetchInterval: Duration = .seconds(10)) -> (inout ServerConfiguration) -> Void {
        { $0.openID = .init(issuer: issuer, audience: clientId, jwksURL: jwksURL, refetchInterval: refetchInterval) }
    }

    @Test func idTokensFromTheIssuersKeysSignIn() async throws {
        let key = ES256PrivateKey()
        let rsaKey = try JWTKit.Insecure.RSA.PrivateKey(backing: _RSA.Signing.PrivateKey(keySize: .bits2048))
        let published = PublishedKeys()
        published.publish(key, kid: "k1")
        try published.publish(rsaKey, kid: "r1")
        try await Self.withJWKS(published) { jwksURL in
            try await TestServer.run(configure: Self.openID(jwksURL)) { server in
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

                let rsaToken = try await Self.sign(rsaKey, kid: "r1", subject: "42")
                let rsaMe = try await server.request(.get, "/api/me", token: rsaToken)
                #expect(rsaMe.status == .ok)
                #expect(try JSON.object(rsaMe.body)[string: "userId"] == "oidc:accounts.google.com:42")
                #expect(published.fetches.load(ordering: .relaxed) == 1, "the keys are cached")
            }
        }
    }

    @Test func rotatedKeysAreFetchedWhenATokenNamesThem() async throws {
        let (old, new) = (ES256PrivateKey(), ES256PrivateKey())
        let published = PublishedKeys()
        published.publish(old, kid: "2026-10")
        try await Self.withJWKS(published) { jwksURL in
            try await TestServer.run(configure: Self.openID(jwksURL, refetchInterval: .zero)) { server in
                #expect(try await server.request(.get, "/api/me", token: try await Self.sign(old, kid: "2026-10")).status == .ok)
                published.withdrawAll()
                published.publish(new, kid: "2026-11")
                let me = try await server.request(.get, "/api/me", token: try await Self.sign(new, kid: "2026-11"))
                #expect(me.status == .ok, "the new key was fetched")
                #expect(try JSON.object(me.body)[string: "userId"] == "oidc:accounts.google.com:1234567890", "the same user")
                #expect(published.fetches.load(ordering: .relaxed) == 2)
            }
        }
    }

    @Test func anUnreachableIssuerAnswers503NotASignOut() async throws {
        let unreachable = "http://127.0.0.1:9/certs"  // the discard port: nothing listens
        try await TestServer.run(configure: Self.openID(unreachable)) { server in
            let token = try await Self.sign(ES256PrivateKey(), kid: "k1")
            let response = try await server.request(.get, "/api/me", token: token)
            #expect(response.status == .serviceUnavailable)
            #expect(Self.code(response) == "ISSUER_UNAVAILABLE")
            #expect(response.headers[.retryAfter] != nil)
        }
    }

    static func code(_ response: HTTP.Response) -> String? {
        try? JSON.object(response.body)[object: "error"]?[string: "code"]
    }

    @Test func idTokensFromUnknownKeysOrForOtherAppsAreRefused() async throws {
        let key = ES256PrivateKey()
        let published = PublishedKeys()
        published.publish(key, kid: "k1")
        try await Self.withJWKS(published) { jwksURL in
            try await TestServer.run(configure: Self.openID(jwksURL)) { server in
                let stranger = try await Self.sign(ES256PrivateKey(), kid: "k1")
                #expect(try await server.request(.get, "/api/me", token: stranger).status == .unauthorized)
                for attempt in 0..<5 {
                    let unknownKid = try await Self.sign(ES256PrivateKey(), kid: "unknown-\(attempt)")
                    #expect(try await server.request(.get, "/api/me", token: unknownKid).status == .unauthorized)
                }
                #expect(published.fetches.load(ordering: .relaxed) <= 2, "unknown keys do not make a fetch each")
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
