import Foundation

/// One run of a script to its end, spawned with `posix_spawn` and reaped with `waitpid`.
///
/// Foundation's `Process` reaps its children on its own thread: a `waitpid` of ours can
/// then find no child, and its `waitUntilExit` can miss the exit of a script whose children
/// outlive it (`pg_ctl start`). A child spawned here is ours alone to reap. The wait runs
/// on a thread of its own, never on the few threads that run the tests' tasks.
struct ScriptRun: Sendable {
    var status: Int32
    var standardOutput: String
    var standardError: String

    static func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) async throws -> ScriptRun {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Result { try runBlocking(executable, arguments, environment: environment) })
            }
        }
    }

    private static func runBlocking(_ executable: String, _ arguments: [String], environment: [String: String]) throws -> ScriptRun {
        let scratch = try TemporaryDirectory()
        defer { scratch.remove() }
        let outPath = scratch.url.appendingPathComponent("stdout").path
        let errPath = scratch.url.appendingPathComponent("stderr").path

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)

        let merged = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = merged.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, nil, argv, envp)
        guard spawned == 0 else { throw TestFailure("cannot start \(executable): errno \(spawned)") }

        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 {
            guard errno == EINTR else { throw TestFailure("waitpid for \(executable) failed: errno \(errno)") }
        }
        return ScriptRun(
            status: status,
            standardOutput: (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "",
            standardError: (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        )
    }
}
