import Foundation

/// One run of the real `podium` binary to its end (`check-config`, `backup`, `export`, …).
struct PodiumRun: Sendable {
    var status: Int32
    var standardOutput: String
    var standardError: String
    var output: String { standardOutput + standardError }

    /// Runs `podium arguments…` in `directory` (default: a new temporary one) and waits
    /// up to 60 s for it to exit.
    static func run(
        _ arguments: [String], environment: [String: String] = [:], binary: URL = ServerProcess.binary, in directory: URL? = nil
    ) async throws -> PodiumRun {
        let scratch = try TemporaryDirectory()
        defer { scratch.remove() }
        let outFile = scratch.url.appendingPathComponent("stdout")
        let errFile = scratch.url.appendingPathComponent("stderr")
        let process = try ChildProcess(
            binary.path, arguments, environment: ProcessInfo.processInfo.environment.merging(environment) { $1 },
            directory: (directory ?? scratch.url).path, output: .files(standardOutput: outFile.path, standardError: errFile.path)
        )
        let deadline = ContinuousClock.now + .seconds(60)
        while process.isRunning {
            if ContinuousClock.now > deadline {
                process.send(SIGTERM)
                throw TestFailure("podium \(arguments.joined(separator: " ")) did not finish within 60 s")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        return PodiumRun(
            status: process.terminationStatus,
            standardOutput: (try? String(contentsOf: outFile, encoding: .utf8)) ?? "",
            standardError: (try? String(contentsOf: errFile, encoding: .utf8)) ?? ""
        )
    }
}
