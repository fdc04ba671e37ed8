import Foundation
import Testing

/// A copied `podium` binary runs from any folder: pages, API document and sample games
/// travel inside it, `--version` names its build, and the start-up line says where to go.
@Suite("Install: a copied binary serves everything from any folder", .timeLimit(.minutes(2)))
struct InstallTests {
    static let repositoryRoot = OpenAPITests.repositoryRoot

    /// The built binary copied alone into a new folder, which is also where it runs.
    static func withCopiedBinary(_ body: (URL, URL) async throws -> Void) async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let copy = directory.url.appendingPathComponent("podium")
        // Copied by cp, not in this process: a child that another test spawns while this
        // process holds the copy open for writing would inherit that descriptor, and
        // starting the copy would then fail with ETXTBSY ("Text file busy").
        let run = try await ScriptRun.run("/bin/cp", [ServerProcess.binary.path, copy.path])
        guard run.status == 0 else { throw TestFailure("cp failed: \(run.standardError)") }
        try await body(copy, directory.url)
    }

    @Test func copiedBinaryServesPagesDocumentAndSampleGamesFromAnotherFolder() async throws {
        try await Self.withCopiedBinary { binary, folder in
            #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("Public").path))
            let server = try await ServerProcess.start(arguments: [], binary: binary, directory: folder)
            defer { Task { _ = await server.stop(signal: SIGTERM) } }
            let files = [
                "/": "Public/index.html", "/games/space-runner": "Public/game.html", "/admin": "Public/admin.html",
                "/openapi.yaml": "docs/openapi.yaml",
            ]
            for (path, file) in files {
                let response = try await HTTP.request(port: server.port, .get, path)
                let expected = try String(contentsOf: Self.repositoryRoot.appendingPathComponent(file), encoding: .utf8)
                #expect(response.status == .ok, "\(path): \(response.body.prefix(200))")
                #expect(response.body == expected, "\(path) is not \(file)")
            }
            let assets = try FileManager.default.contentsOfDirectory(atPath: Self.repositoryRoot.appendingPathComponent("Public/assets").path)
            #expect(assets.count >= 5)
            for asset in assets {
                let response = try await HTTP.request(port: server.port, .get, "/assets/\(asset)")
                let expected = try String(contentsOf: Self.repositoryRoot.appendingPathComponent("Public/assets/\(asset)"), encoding: .utf8)
                #expect(response.status == .ok, "/assets/\(asset)")
                #expect(response.body == expected, "/assets/\(asset) differs from the file")
                #expect(response.headers[.eTag] != nil, "/assets/\(asset) has no ETag")
            }
            #expect(try await HTTP.request(port: server.port, .get, "/assets/nothing.js").status == .notFound)
            #expect(try await HTTP.request(port: server.port, .get, "/assets/../docs/openapi.yaml").status != .ok)

            let sample = try JSONSerialization.jsonObject(
                with: Data(contentsOf: Self.repositoryRoot.appendingPathComponent("config/games.json"))
            ) as? [String: Any]
            let sampleIds = Set(((sample?["games"] as? [[String: Any]]) ?? []).compactMap { $0["id"] as? String })
            let games = try JSON.object(try await HTTP.request(port: server.port, .get, "/api/games").body)
            #expect(Set((games[array: "games"] ?? []).compactMap { $0[string: "id"] }) == sampleIds)
            #expect(!sampleIds.isEmpty)

            // The start-up line: the URL to open, the storage and where its data lives.
            let data = folder.appendingPathComponent("data/podium.sqlite").standardizedFileURL.path
            #expect(await server.output(contains: "is listening on http://127.0.0.1:\(server.port)/"), "\(server.outputText)")
            #expect(await server.output(contains: "storage=sqlite"), "\(server.outputText)")
            #expect(await server.output(contains: "data=\(data)"), "\(server.outputText)")
            #expect(FileManager.default.fileExists(atPath: data))
        }
    }

    @Test func publicDirectoryAndGamesFlagsOverrideTheBuiltInFiles() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let pages = directory.url.appendingPathComponent("site")
        try FileManager.default.createDirectory(at: pages.appendingPathComponent("assets"), withIntermediateDirectories: true)
        try Data("<p>our own home</p>".utf8).write(to: pages.appendingPathComponent("index.html"))
        try Data("export const ours = 1;".utf8).write(to: pages.appendingPathComponent("assets/live.js"))
        let games = directory.url.appendingPathComponent("games.json")
        try Data(#"{"games":[{"id":"studio-only","name":"Studio"}]}"#.utf8).write(to: games)
        let server = try await ServerProcess.start(
            arguments: ["--storage", "memory", "--public-directory", pages.path, "--games", games.path],
            directory: directory.url
        )
        defer { Task { _ = await server.stop(signal: SIGTERM) } }
        #expect(try await HTTP.request(port: server.port, .get, "/").body == "<p>our own home</p>")
        #expect(try await HTTP.request(port: server.port, .get, "/assets/live.js").body == "export const ours = 1;")
        #expect(try await HTTP.request(port: server.port, .get, "/admin").status == .notFound)
        let listed = try JSON.object(try await HTTP.request(port: server.port, .get, "/api/games").body)
        #expect((listed[array: "games"] ?? []).compactMap { $0[string: "id"] } == ["studio-only"])
        #expect(await server.output(contains: "storage=memory"))
    }

    @Test func versionNamesTheReleaseAndARealCommit() async throws {
        try await Self.withCopiedBinary { binary, _ in
            let run = try await PodiumRun.run(["--version"], binary: binary)
            #expect(run.status == 0, "\(run.output)")
            let line = run.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
            let match = try #require(line.wholeMatch(of: /podium (\d+\.\d+\.\d+) \(commit ([0-9a-f]{12})(-dirty)?\)/), "\(line)")
            let known = try await ScriptRun.run("/usr/bin/env", ["git", "-C", Self.repositoryRoot.path, "cat-file", "-e", "\(match.2)^{commit}"])
            #expect(known.status == 0, "\(match.2) is not a commit of this repository: \(known.output)")
        }
    }

    @Test func aSecondServerOnTheSameDataDirectoryIsRefused() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let first = try await ServerProcess.start(arguments: ["--data-directory", directory.url.path])
        defer { Task { _ = await first.stop(signal: SIGTERM) } }
        let second = try await PodiumRun.run(["serve", "--port", "0", "--data-directory", directory.url.path])
        #expect(second.status == 64, "\(second.output)")
        #expect(second.output.contains("another podium process is using the data directory"), "\(second.output)")
    }
}
