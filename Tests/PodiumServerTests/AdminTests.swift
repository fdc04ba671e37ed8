import Foundation
import HTTPTypes
import Testing

@testable import PodiumServer

@Suite("Admin API: games, announcements, moderation", .timeLimit(.minutes(2)))
struct AdminTests {
    static let newGame = #"{"id":"puzzle","name":"Puzzle","sortOrder":"asc","operator":"best","maxScore":600000,"topN":5,"actions":[]}"#

    /// Every route the router has under /api/admin, whatever its handler does: 401 without
    /// a token, 403 with a player's, past the guard with an admin's.
    @Test func everyAdminRouteNeedsTheAdminRole() async throws {
        try await TestServer.run { server in
            let player = try await server.register("player")
            let admin = try await server.signInAsAdmin()
            let routes = server.podium.makeRouter().routes.filter { $0.path.description.hasPrefix("/api/admin") }
            #expect(routes.count >= 9, "the admin routes: \(routes.map(\.path.description))")
            for route in routes {
                let path = route.path.description.replacing(/\{[^}]+\}|:[A-Za-z]+/, with: "arcade")
                let method = HTTPRequest.Method(route.method.rawValue)!
                let body = method == .get || method == .delete ? nil : "{}"
                let anonymous = try await server.request(method, path, json: body)
                #expect(anonymous.status == .unauthorized, "\(route.method) \(path) without a token")
                let asPlayer = try await server.request(method, path, json: body, token: player)
                #expect(asPlayer.status == .forbidden, "\(route.method) \(path) with a player's token")
                let asAdmin = try await server.request(method, path, json: body, token: admin)
                #expect(asAdmin.status != .unauthorized && asAdmin.status != .forbidden, "\(route.method) \(path) as admin: \(asAdmin.status)")
            }
        }
    }

    @Test func adminNamesCannotBeClaimedAndRolesFollowTheConfiguration() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var carolId = ""
        var oldAdmin = ""
        try await TestServer.run(in: directory) { server in
            for name in ["admin", "ADMIN"] {
                let claim = try await server.request(
                    .post, "/api/auth/register",
                    json: #"{"username":"\#(name)","password":"claiming it first","displayName":"Mallory","countryCode":"GB"}"#
                )
                #expect(claim.status == .conflict, "\(name) is the configured admin's")
            }
            oldAdmin = try await server.signInAsAdmin()
            #expect(try await server.request(.get, "/api/admin/flags", token: oldAdmin).status == .ok)
            let carol = try await server.register("carol")
            carolId = try JSON.object(try await server.request(.get, "/api/me", token: carol).body)[string: "userId"] ?? ""
            // A token made with the server's secret that claims the admin role for a player.
            let claimed = try await TokenService(secret: TestServer.jwtSecret, lifetime: 900).issue(
                for: UserRecord(id: carolId, username: "carol", passwordHash: nil, displayName: "Carol", countryCode: nil, role: .admin, createdAt: 0)
            )
            #expect(try await server.request(.get, "/api/admin/flags", token: claimed).status == .forbidden, "the role comes from the server")
        }
        try await TestServer.run(in: directory, configure: { $0.adminUsers = ["carol"]; $0.adminPassword = nil }) { server in
            #expect(try await server.request(.get, "/api/admin/flags", token: oldAdmin).status == .forbidden, "no longer an admin")
            let login = try await server.request(.post, "/api/auth/login", json: #"{"username":"carol","password":"correct horse battery"}"#)
            let carol = try JSON.object(login.body)[string: "accessToken"] ?? ""
            #expect(try await server.request(.get, "/api/admin/flags", token: carol).status == .ok, "carol was named an admin")
            #expect(try JSON.object(try await server.request(.get, "/api/me", token: carol).body)[string: "role"] == "admin")
        }
    }

    @Test func gamesCreatedAndEditedPersistAndRefold() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try await TestServer.run(in: directory) { server in
            let admin = try await server.signInAsAdmin()
            #expect(try await server.request(.post, "/api/admin/games", json: Self.newGame, token: admin).status == .created)
            #expect(try await server.request(.post, "/api/admin/games", json: Self.newGame, token: admin).status == .conflict)
            let invalid = try await server.request(.post, "/api/admin/games", json: #"{"id":"Bad Id","name":"x"}"#, token: admin)
            #expect(invalid.status == .badRequest)
            try await server.ingest(game: "puzzle", user: "slow", score: 90_000)
            try await server.ingest(game: "puzzle", user: "fast", score: 30_000)
            let page = try JSON.object(try await server.request(.get, "/api/leaderboards/puzzle").body)
            #expect(page[array: "entries"]?.compactMap { $0[string: "userId"] } == ["fast", "slow"])
            let flipped = Self.newGame.replacingOccurrences(of: #""asc""#, with: #""desc""#)
            #expect(try await server.request(.put, "/api/admin/games/puzzle", json: flipped, token: admin).status == .ok)
            let refolded = try JSON.object(try await server.request(.get, "/api/leaderboards/puzzle").body)
            #expect(refolded[array: "entries"]?.compactMap { $0[string: "userId"] } == ["slow", "fast"], "refolded under the new order")
        }
        try await TestServer.run(in: directory) { server in
            let game = try JSON.object(try await server.request(.get, "/api/games/puzzle").body)
            #expect(game[string: "sortOrder"] == "desc", "the edited game survives a restart")
            let page = try JSON.object(try await server.request(.get, "/api/leaderboards/puzzle").body)
            #expect(page[array: "entries"]?.compactMap { $0[string: "userId"] } == ["slow", "fast"])
        }
    }

    @Test func announcementsCRUD() async throws {
        try await TestServer.run { server in
            let admin = try await server.signInAsAdmin()
            let created = try await server.request(.post, "/api/admin/announcements", json: #"{"title":"Season 1","body":"Starts now"}"#, token: admin)
            #expect(created.status == .created)
            let id = try #require(try JSON.object(created.body)[string: "id"])
            #expect(try await server.request(.put, "/api/admin/announcements/\(id)", json: #"{"title":"Season 1!","body":"Go"}"#, token: admin).status == .ok)
            let list = try JSON.object(try await server.request(.get, "/api/announcements").body)[array: "announcements"] ?? []
            #expect(list.map { $0[string: "title"] } == ["Season 1!"])
            #expect(try await server.request(.delete, "/api/admin/announcements/\(id)", token: admin).status == .noContent)
            #expect(try await server.request(.delete, "/api/admin/announcements/\(id)", token: admin).status == .notFound)
            let empty = try await server.request(.post, "/api/admin/announcements", json: #"{"title":"  ","body":""}"#, token: admin)
            #expect(empty.status == .badRequest)
        }
    }

    @Test func removingAPlayerUpdatesLiveBoards() async throws {
        try await TestServer.run(configure: { $0.live.coalescingInterval = .milliseconds(20) }) { server in
            let admin = try await server.signInAsAdmin()
            try await server.ingest(user: "cheater", score: 999_999)
            try await server.ingest(user: "honest", score: 10)
            let client = try await LiveClient.connect(port: server.port)
            defer { client.close() }
            client.send(#"{"type":"subscribe","gameId":"arcade","scopes":["global"]}"#)
            _ = try await client.nextMessage()
            #expect(try await server.request(.delete, "/api/admin/players/arcade/cheater", token: admin).status == .ok)
            let update = try await client.nextMessage()
            #expect(update[object: "payload"]?[array: "entries"]?.compactMap { $0[string: "userId"] } == ["honest"])
            #expect(try await server.request(.delete, "/api/admin/players/arcade/cheater", token: admin).status == .notFound)
        }
    }

    @Test func bannedUsersLoseTheirEntriesAndCannotSubmit() async throws {
        try await TestServer.run { server in
            let admin = try await server.signInAsAdmin()
            let token = try await server.register("mallory")
            let userId = try #require(try JSON.object(try await server.request(.get, "/api/me", token: token).body)[string: "userId"])
            #expect(try await server.request(.post, "/api/actions/complete", json: #"{"actionId":"login"}"#, token: token).status == .ok)
            #expect(try await server.request(.post, "/api/admin/users/\(userId)/ban", token: admin).status == .ok)
            #expect(try await server.request(.get, "/api/leaderboards/quests/players/\(userId)").status == .notFound)
            let refused = try await server.request(.post, "/api/actions/complete", json: #"{"actionId":"login"}"#, token: token)
            #expect(refused.status == .forbidden)
            let login = try await server.request(.post, "/api/auth/login", json: #"{"username":"mallory","password":"correct horse battery"}"#)
            #expect(login.status == .forbidden)
        }
    }

    /// Games, announcements and bans are log events: a restart folds them back whether it
    /// starts from snapshots or replays the whole log.
    @Test(arguments: [true, false])
    func adminStateIsFoldedFromTheLog(keepingSnapshots: Bool) async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var malloryId = ""
        try await TestServer.run(in: directory) { server in
            let admin = try await server.signInAsAdmin()
            let mallory = try await server.register("mallory")
            malloryId = try #require(try JSON.object(try await server.request(.get, "/api/me", token: mallory).body)[string: "userId"])
            #expect(try await server.request(.post, "/api/actions/complete", json: #"{"actionId":"login"}"#, token: mallory).status == .ok)
            #expect(try await server.request(.post, "/api/admin/games", json: Self.newGame, token: admin).status == .created)
            try await server.ingest(game: "puzzle", user: malloryId, score: 500)
            try await server.ingest(game: "puzzle", user: "honest", score: 900)
            let news = try await server.request(.post, "/api/admin/announcements", json: #"{"title":"News","body":"b"}"#, token: admin)
            let gone = try await server.request(.post, "/api/admin/announcements", json: #"{"title":"Gone","body":"b"}"#, token: admin)
            #expect(news.status == .created && gone.status == .created)
            let goneId = try #require(try JSON.object(gone.body)[string: "id"])
            #expect(try await server.request(.delete, "/api/admin/announcements/\(goneId)", token: admin).status == .noContent)
            #expect(try await server.request(.post, "/api/admin/users/\(malloryId)/ban", token: admin).status == .ok)
        }
        let store = try SQLiteStore(path: directory.url.appendingPathComponent("podium.sqlite").path)
        let kinds = try await store.allEvents().map(\.kind).filter(\.isAdministrative)
        #expect(kinds == [.gameDefinition, .announcement, .announcement, .announcementRemoval, .ban])
        if !keepingSnapshots { try await store.pool.write { try $0.execute(sql: "DELETE FROM board_snapshots") } }
        try await TestServer.run(in: directory) { server in
            #expect(try await server.request(.get, "/api/games/puzzle").status == .ok)
            let list = try JSON.object(try await server.request(.get, "/api/announcements").body)[array: "announcements"] ?? []
            #expect(list.map { $0[string: "title"] } == ["News"])
            let page = try JSON.object(try await server.request(.get, "/api/leaderboards/puzzle").body)
            #expect(page[array: "entries"]?.compactMap { $0[string: "userId"] } == ["honest"], "the ban removed the later score too")
            #expect(try await server.request(.get, "/api/leaderboards/quests/players/\(malloryId)").status == .notFound)
            let login = try await server.request(.post, "/api/auth/login", json: #"{"username":"mallory","password":"correct horse battery"}"#)
            #expect(login.status == .forbidden, "still banned")
        }
    }

    @Test func configTellsPagesTheMode() async throws {
        try await TestServer.run(configure: { $0.isProduction = true }) { server in
            let config = try JSON.object(try await server.request(.get, "/api/config").body)
            #expect(config["production"] as? Bool == true)
        }
        await #expect(throws: ConfigurationError.self) {
            try await TestServer.run(configure: { $0.isProduction = true; $0.jwtSecret = "short" }) { _ in }
        }
    }
}
