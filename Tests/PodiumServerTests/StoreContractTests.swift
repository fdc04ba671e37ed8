import Foundation
import PodiumEngine
import Testing

@testable import PodiumServer

/// One contract, every store: what the follower, the writer and the accounts rely on.
@Suite("Store contract: memory, SQLite and PostgreSQL keep the same promises", .timeLimit(.minutes(2)))
struct StoreContractTests {
    static let stores = TestStore.Kind.allCases

    @Test("events get increasing positions that start at the log's creation time", arguments: stores)
    func positions(kind: TestStore.Kind) async throws {
        try await TestStore.with(kind) { store in
            let before = Timestamp.now() * 1000
            let outcomes = try await store.append((0..<3).map { Self.score(user: "u\($0)", score: Int64($0)) })
            let sequences = outcomes.compactMap { outcome -> Int64? in
                if case .logged(let sequence) = outcome { return sequence }
                return nil
            }
            #expect(sequences.count == 3)
            #expect(sequences == sequences.sorted() && Set(sequences).count == 3)
            #expect(sequences[0] > before - 60_000_000, "a new log numbers from its creation time, not from 1")
            let more = try await store.append([Self.score(user: "u9", score: 9)])
            guard case .logged(let next) = more.first else { throw TestFailure("not logged: \(more)") }
            #expect(next > sequences[2])
        }
    }

    @Test("a player's history is their score events in one game, newest first", arguments: stores)
    func scoreHistory(kind: TestStore.Kind) async throws {
        try await TestStore.with(kind) { store in
            var events = [Self.score(user: "ann", score: 5), Self.score(user: "bob", score: 7), Self.score(user: "ann", score: 3)]
            events.append(LoggedEvent(gameId: "g", kind: .removal, userId: "ann", achievedAt: 2_000, source: .admin))
            events.append(LoggedEvent(gameId: "other", userId: "ann", displayName: "ANN", score: 9, achievedAt: 1_009, source: .run, reference: "run-1"))
            events.append(Self.score(user: "ann", score: 8))
            _ = try await store.append(events)
            let history = try await store.scoreHistory(gameId: "g", userId: "ann", limit: 10)
            #expect(history.map(\.score) == [8, 3, 5])
            #expect(history.allSatisfy { $0.kind == .score && $0.gameId == "g" && $0.userId == "ann" })
            #expect(try await store.scoreHistory(gameId: "g", userId: "ann", limit: 2).map(\.score) == [8, 3])
            #expect(try await store.scoreHistory(gameId: "other", userId: "ann", limit: 10).map(\.reference) == ["run-1"])
            #expect(try await store.scoreHistory(gameId: "g", userId: "nobody", limit: 10).isEmpty)
        }
    }

    @Test("a log read in pages returns every event once, in order, with its fields", arguments: stores)
    func readsInPages(kind: TestStore.Kind) async throws {
        try await TestStore.with(kind) { store in
            var written: [LoggedEvent] = []
            for batch in 0..<5 {
                var events = (0..<7).map { Self.score(user: "p\(batch)-\($0)", score: Int64(batch * 10 + $0)) }
                events[0].countryCode = CountryCode("GB")
                events[1].kind = .removal
                events[2] = .administrative(.gameDefinition, gameId: "g2", payload: #"{"id":"g2","name":"G"}"#)
                events[2].origin = "instance-a"
                let outcomes = try await store.append(events)
                for (event, outcome) in zip(events, outcomes) {
                    guard case .logged(let sequence) = outcome else { throw TestFailure("not logged: \(outcome)") }
                    var logged = event
                    logged.sequence = sequence
                    written.append(logged)
                }
            }
            var read: [LoggedEvent] = []
            var after: Int64 = 0
            while true {
                let page = try await store.events(after: after, limit: 4)
                guard let last = page.last else { break }
                #expect(page.count <= 4)
                read += page
                after = last.sequence
            }
            #expect(read == written)
            let administrative = try await store.administrativeEvents(through: written[16].sequence)
            #expect(administrative.map(\.sequence) == [written[2].sequence, written[9].sequence, written[16].sequence])
            #expect(administrative.first?.payload == #"{"id":"g2","name":"G"}"# && administrative.first?.origin == "instance-a")
        }
    }

    @Test("a reference is logged once per game and user", arguments: stores)
    func referencesAreUnique(kind: TestStore.Kind) async throws {
        try await TestStore.with(kind) { store in
            let event = LoggedEvent(gameId: "g", userId: "u", score: 1, achievedAt: 0, source: .run, reference: "run-1")
            let first = try await store.append([event, event])
            guard case .logged(let sequence) = first[0], case .duplicate(let original) = first[1] else {
                throw TestFailure("expected logged then duplicate, got \(first)")
            }
            #expect(original.sequence == sequence)
            let again = try await store.append([event])
            #expect(again == [.duplicate(original)])
            var otherUser = event
            otherUser.userId = "v"
            guard case .logged = try await store.append([otherUser])[0] else { throw TestFailure("another user's run is new") }
        }
    }

    @Test("a run session is consumed once, and not after it expired", arguments: stores)
    func sessionsAreConsumedOnce(kind: TestStore.Kind) async throws {
        try await TestStore.with(kind) { store in
            _ = try await store.createUser(Self.user("ann"))
            let now = Timestamp.now()
            #expect(try await store.createSession(RunSession(tokenHash: "live", userId: "ann", gameId: "g", issuedAt: now, expiresAt: now + 60_000)))
            #expect(try await store.createSession(RunSession(tokenHash: "dead", userId: "ann", gameId: "g", issuedAt: 0, expiresAt: now - 1)))
            var first = Self.score(user: "ann", score: 5)
            first.sessionTokenHash = "live"
            first.reference = "run:a"
            var second = first
            second.reference = "run:b"
            var expired = first
            expired.sessionTokenHash = "dead"
            expired.reference = "run:c"
            let outcomes = try await store.append([first, second, expired])
            guard case .logged = outcomes[0] else { throw TestFailure("first use logged: \(outcomes)") }
            #expect(outcomes[1] == .sessionRejected && outcomes[2] == .sessionRejected)
            #expect(try await store.session(tokenHash: "live")?.consumedAt != nil)
        }
    }

    @Test("snapshots: the latest per game, never replaced by an older one; deleted by board", arguments: stores)
    func snapshots(kind: TestStore.Kind) async throws {
        try await TestStore.with(kind) { store in
            try await store.saveSnapshots([
                BoardSnapshot(gameId: "a", sequence: 10, rules: "r", data: [1, 2]), BoardSnapshot(gameId: "b", sequence: 10, rules: "r", data: [3]),
            ])
            try await store.saveSnapshots([BoardSnapshot(gameId: "a", sequence: 20, rules: "r2", data: [4])])
            try await store.saveSnapshots([BoardSnapshot(gameId: "b", sequence: 5, rules: "old", data: [9])])
            let byGame = Dictionary(uniqueKeysWithValues: try await store.snapshots().map { ($0.gameId, $0) })
            #expect(byGame["a"] == BoardSnapshot(gameId: "a", sequence: 20, rules: "r2", data: [4]))
            #expect(byGame["b"] == BoardSnapshot(gameId: "b", sequence: 10, rules: "r", data: [3]))
            try await store.saveSnapshots([BoardSnapshot(gameId: "a@2026-12-01", sequence: 20, rules: "r2", data: [5])])
            try await store.deleteSnapshots(["a@2026-12-01", "b", "never-stored"])
            #expect(try await store.snapshots().map(\.gameId) == ["a"])
        }
    }

    @Test("accounts: unique names in any case, admins set exactly, expired sessions deleted", arguments: stores)
    func accounts(kind: TestStore.Kind) async throws {
        try await TestStore.with(kind) { store in
            for name in ["Ann", "bob"] { #expect(try await store.createUser(Self.user(name, role: .admin))) }
            #expect(try await store.createUser(Self.user("ANN", id: "other")) == false, "usernames are unique in any case")
            #expect(try await store.user(username: "ann")?.id == "ann")
            #expect(try await store.setAdmins(usernames: ["ann"]) == ["ann"], "names match in any case; bob is no longer an admin")
            #expect(try await store.user(id: "bob")?.role == .player)
            for (hash, expiry) in [("old", Int64(1_000)), ("fresh", Int64(5_000))] {
                #expect(try await store.createSession(RunSession(tokenHash: hash, userId: "ann", gameId: "g", issuedAt: 0, expiresAt: expiry)))
            }
            let stranger = RunSession(tokenHash: "x", userId: "nobody", gameId: "g", issuedAt: 0, expiresAt: 5_000)
            #expect(try await store.createSession(stranger) == false, "no session for a user who does not exist")
            #expect(try await store.deleteSessions(expiredBefore: 2_000) == 1)
            #expect(try await store.session(tokenHash: "old") == nil)
            #expect(try await store.session(tokenHash: "fresh") != nil)
            for index in 0..<3 {
                try await store.recordFlag(FlaggedSubmission(userId: "ann", gameId: "g", score: Int64(index), reason: "r\(index)", flaggedAt: Int64(index)))
            }
            #expect(try await store.flags(limit: 2).map(\.score) == [2, 1], "newest first")
        }
    }

    @Test("rate limits admit at most the limit in any window, and say when the next one is", arguments: stores)
    func rateLimits(kind: TestStore.Kind) async throws {
        try await TestStore.with(kind) { store in
            let start: Int64 = 1_000_000
            // A bucket refilled every 6 s would admit 19 in this minute; the window admits 10.
            for second in 0..<10 {
                #expect(try await store.admit("u", limit: 10, window: 60_000, now: start + Int64(second) * 1000) == .admitted)
            }
            for second in [10, 30, 59] {
                let decision = try await store.admit("u", limit: 10, window: 60_000, now: start + Int64(second) * 1000)
                #expect(decision == .refused(retryAfter: 60_000 - Int64(second) * 1000), "the first admission leaves the window at 60 s")
            }
            #expect(try await store.admit("u", limit: 10, window: 60_000, now: start + 60_000) == .admitted)
            #expect(try await store.admit("u", limit: 10, window: 60_000, now: start + 60_500) == .refused(retryAfter: 500))
            #expect(try await store.admit("v", limit: 10, window: 60_000, now: start + 60_500) == .admitted, "keys count apart")
        }
    }

    static func score(user: String, score: Int64) -> LoggedEvent {
        LoggedEvent(gameId: "g", userId: user, displayName: user.uppercased(), score: score, achievedAt: 1_000 + score, source: .ingest)
    }

    static func user(_ name: String, id: String? = nil, role: UserRecord.Role = .player) -> UserRecord {
        UserRecord(id: id ?? name.lowercased(), username: name, passwordHash: nil, displayName: name, countryCode: nil, role: role, createdAt: 0)
    }
}
