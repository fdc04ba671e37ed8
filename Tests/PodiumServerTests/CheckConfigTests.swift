import Foundation
import Testing

/// `podium check-config` lists every problem of a registry with its line, and `serve`
/// refuses such a registry naming them all.
@Suite("check-config: every problem of a games registry, with its place", .timeLimit(.minutes(2)))
struct CheckConfigTests {
    /// Three games with problems on known lines, one good game between them.
    static let broken = """
        {
          "defaultGame": "missing",
          "games": [
            {"id": "good", "name": "Good"},
            {"id": "Bad Id", "name": "Bad"},
            {"id": "quests", "name": "Quests", "operator": "incr",
             "actions": [{"id": "login", "points": 0}]},
            {"id": "good", "name": "Again"},
            {"id": "typed", "name": "Typed", "topN": "ten"}
          ]
        }
        """

    static func write(_ text: String, in directory: TemporaryDirectory) throws -> String {
        let file = directory.url.appendingPathComponent("games.json")
        try Data(text.utf8).write(to: file)
        return file.path
    }

    /// Runs `podium check-config` on `file`: it fails, and prints each of `expected` as a line.
    static func expectProblems(in file: String, _ expected: [String]) async throws {
        let run = try await PodiumRun.run(["check-config", "--games", file])
        #expect(run.status == 1, "\(run.output)")
        let lines = run.standardOutput.split(separator: "\n").map(String.init)
        for line in expected {
            #expect(lines.contains(line), "missing '\(line)' in:\n\(run.standardOutput)")
        }
    }

    @Test func everyProblemIsPrintedWithItsLine() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let file = try Self.write(Self.broken, in: directory)
        try await Self.expectProblems(in: file, [
            "\(file):5: games[1]: game 'Bad Id': id 'Bad Id' must be 1-64 lower-case letters, digits or dashes",
            "\(file):6: games[2]: game 'quests': action 'login' needs an id of letters, digits, dashes, dots or underscores and positive points",
            "\(file):8: games[3].id: game 'good' is defined twice",
            "\(file):9: games[4].topN: expected Int",
            "\(file):2: defaultGame: defaultGame 'missing' is not one of the games",
            "5 problem(s) in \(file)",
        ])
    }

    /// A misspelt field would otherwise fall back to its default unseen (no `maxScore`, no
    /// cheat check); a word outside a field's choices names the choices.
    @Test func unknownFieldsAndChoicesAreNamed() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let file = try Self.write(
            """
            {
              "games": [
                {"id": "runs", "name": "Runs", "max_score": 5000,
                 "periods": ["all-time", {"name": "raid", "everyDays": 7, "from": "2026-12-07T18:00:00Z", "until": "never"}]},
                {"id": "points", "name": "Points", "operator": "max",
                 "actions": [{"id": "win", "points": 5, "repeat": false}]},
                {"id": "times", "name": "Times", "sortOrder": "ascending"}
              ],
              "defaultgame": "runs"
            }

            """, in: directory)
        try await Self.expectProblems(in: file, [
            "\(file):3: games[0].max_score: unknown field 'max_score' (did you mean 'maxScore'?)",
            "\(file):4: games[0].periods[1].until: unknown field 'until'",
            "\(file):5: games[1].operator: expected best, incr or set, not 'max'",
            "\(file):6: games[1].actions[0].repeat: unknown field 'repeat'",
            "\(file):7: games[2].sortOrder: expected desc or asc, not 'ascending'",
            "\(file):9: defaultgame: unknown field 'defaultgame' (did you mean 'defaultGame'?)",
            "6 problem(s) in \(file)",
        ])
    }

    @Test func syntaxErrorsAreReportedAndGoodFilesPass() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let file = try Self.write("{\n  \"games\": [\n    {\"id\": \"a\",, }\n  ]\n}\n", in: directory)
        let broken = try await PodiumRun.run(["check-config", "--games", file])
        #expect(broken.status == 1, "\(broken.output)")
        #expect(broken.standardOutput.hasPrefix("\(file):3: not JSON"), "\(broken.output)")

        let good = try Self.write(#"{"games":[{"id":"a","name":"A"},{"id":"b","name":"B","operator":"incr"}]}"#, in: directory)
        let passed = try await PodiumRun.run(["check-config", "--games", good])
        #expect(passed.status == 0, "\(passed.output)")
        #expect(passed.standardOutput.contains("2 games, no problems"), "\(passed.output)")

        let builtIn = try await PodiumRun.run(["check-config"])
        #expect(builtIn.status == 0, "the sample registry: \(builtIn.output)")
    }

    @Test func serveRefusesABrokenRegistryNamingEveryProblem() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let file = try Self.write(Self.broken, in: directory)
        let run = try await PodiumRun.run(["serve", "--port", "0", "--storage", "memory", "--games", file])
        #expect(run.status == 64, "\(run.output)")
        #expect(run.output.contains("has 5 problem(s)"), "\(run.output)")
        #expect(run.output.contains("\(file):8: games[3].id: game 'good' is defined twice"), "\(run.output)")
        #expect(!run.output.contains("Usage:"), "a refusal is not a usage error: \(run.output)")
    }
}
