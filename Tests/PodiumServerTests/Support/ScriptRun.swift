import Foundation

/// One run of a program to its end (a script, `psql`, `cp`, a `podium` command), its
/// standard output and error kept in files until it exits. It is a ``ChildProcess``:
/// spawned with `posix_spawn` and reaped by us alone (Foundation's `Process` reaps its
/// children on its own thread, and can miss the exit of a script whose children outlive it,
/// `pg_ctl start`), waited for without holding a thread the tests' tasks need.
struct ScriptRun: Sendable {
    var status: Int32
    var standardOutput: String
    var standardError: String
    var output: String { standardOutput + standardError }

    /// Runs `executable arguments…` with `environment` over the test's own, in `directory`
    /// (default: the test's), stopping it with SIGTERM and failing after `timeout` if one is given.
    static func run(
        _ executable: String, _ arguments: [String], environment: [String: String] = [:], directory: String? = nil,
        timeout: Duration? = nil
    ) async throws -> ScriptRun {
        let scratch = try TemporaryDirectory()
        defer { scratch.remove() }
        let outPath = scratch.url.appendingPathComponent("stdout").path
        let errPath = scratch.url.appendingPathComponent("stderr").path
        let child = try ChildProcess(
            executable, arguments, environment: ProcessInfo.processInfo.environment.merging(environment) { $1 }, directory: directory,
            output: .files(standardOutput: outPath, standardError: errPath)
        )
        guard await child.waitUntilExit(within: timeout) else {
            child.send(SIGTERM)
            throw TestFailure("\(executable) \(arguments.joined(separator: " ")) did not finish within \(timeout!)")
        }
        return ScriptRun(
            status: child.terminationStatus,
            standardOutput: (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "",
            standardError: (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        )
    }
}
