import Foundation

/// One run of the real `podium` binary to its end (`check-config`, `backup`, `export`, …).
enum PodiumRun {
    /// Runs `podium arguments…` in `directory` (default: a new temporary one) and waits
    /// up to 60 s for it to exit.
    static func run(
        _ arguments: [String], environment: [String: String] = [:], binary: URL = ServerProcess.binary, in directory: URL? = nil
    ) async throws -> ScriptRun {
        let scratch = try TemporaryDirectory()
        defer { scratch.remove() }
        return try await ScriptRun.run(
            binary.path, arguments, environment: environment, directory: (directory ?? scratch.url).path, timeout: .seconds(60)
        )
    }
}
