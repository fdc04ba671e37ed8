import Foundation
import Testing

@testable import PodiumServer

/// The parts of spec 000's contract beyond Podium's own API: the WebSocket at the root
/// (`REALTIME_WS_URL=ws://localhost:4000`), an optional `countryCode` for the local scope,
/// `TOP_N` and the 10-second snapshot flush.
@Suite("Spec 000 (realtime service): its client works unchanged", .timeLimit(.minutes(2)))
struct Spec000RealtimeServiceTests {
    static let subscribeLocal = #"{"type":"subscribe","gameId":"arcade","scopes":["global","local"]}"#

    @Test func theSocketAnswersAtTheRootAndLocalFallsBackToTheDefaultCountry() async throws {
        try await ContractServer.run { server in
            try await server.ingest(user: "gb1", country: "GB", score: 10)
            try await server.ingest(user: "de1", country: "DE", score: 20)
            let root = try await LiveClient.open(port: server.port, path: "/")
            defer { root.close() }
            #expect(try await root.nextMessage()[string: "type"] == "ready")
            root.send(Self.subscribeLocal)
            _ = try await root.nextMessage()
            let local = try #require(try await root.nextMessage()[object: "payload"])
            #expect(local[string: "scope"] == "local" && local[string: "countryCode"] == "GB")
            #expect(Standing.of(local[array: "entries"]) == [Standing("gb1", 10)])
            // The player's known country comes first: a signed-in German player sees Germany.
            let hans = try await server.player("hans", country: "DE")
            let signedIn = try await LiveClient.connect(port: server.port, query: "?token=\(hans.token)")
            defer { signedIn.close() }
            signedIn.send(Self.subscribeLocal)
            _ = try await signedIn.nextMessage()
            #expect(try await signedIn.nextMessage()[object: "payload"]?[string: "countryCode"] == "DE")
            // An anonymous follower of a player on the board: that player's country.
            let follower = try await LiveClient.connect(port: server.port)
            defer { follower.close() }
            follower.send(#"{"type":"subscribe","gameId":"arcade","scopes":["local","personal"],"userId":"de1"}"#)
            #expect(try await follower.nextMessage()[object: "payload"]?[string: "countryCode"] == "DE")
        }
    }

    @Test func defaultCountryAndTopNAreConfigurable() async throws {
        try await ContractServer.run(configure: { configuration in
            _ = configuration.live.setDefaultCountryCode("fr")
            configuration.defaultTopN = 50
        }) { server in
            let client = try await LiveClient.connect(port: server.port)
            defer { client.close() }
            client.send(#"{"type":"subscribe","gameId":"arcade","scopes":["local"]}"#)
            #expect(try await client.nextMessage()[object: "payload"]?[string: "countryCode"] == "FR")
            // arcade sets no topN; quest sets 10.
            #expect(try JSON.object(try await server.request(.get, "/api/games/arcade").body)[int: "topN"] == 50)
            #expect(try JSON.object(try await server.request(.get, "/api/games/quest").body)[int: "topN"] == 10)
        }
        var configuration = LiveHub.Configuration()
        let accepted = configuration.setDefaultCountryCode("XX")
        #expect(!accepted)
    }

    @Test func snapshotsFlushEveryTenSecondsByDefault() {
        #expect(LogFollower.Configuration().snapshotInterval == .seconds(10))
    }
}
