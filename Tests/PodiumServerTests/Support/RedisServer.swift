import Foundation

/// A throwaway Redis server (Debian's `redis-server`, installed by scripts/test) on a Unix
/// socket in a test's folder: no port to collide with, nothing saved, stopped by its test.
struct RedisServer: Sendable {
    static let server = "/usr/bin/redis-server"
    static let cli = "/usr/bin/redis-cli"

    let process: ChildProcess
    /// The socket the server answers on (`redis-cli -s`).
    let socket: String

    /// Starts a server in `directory` and waits until it answers.
    static func start(in directory: TemporaryDirectory) async throws -> RedisServer {
        guard FileManager.default.isExecutableFile(atPath: server), FileManager.default.isExecutableFile(atPath: cli) else {
            throw TestFailure("\(server) and \(cli) are needed (Debian's redis-server; scripts/install-dependencies installs it)")
        }
        let socket = directory.url.appendingPathComponent("redis.sock").path
        let process = try ChildProcess(
            server, ["--port", "0", "--unixsocket", socket, "--save", "", "--appendonly", "no", "--dir", directory.url.path],
            environment: ProcessInfo.processInfo.environment, output: .null
        )
        let redis = RedisServer(process: process, socket: socket)
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            if let answer = try? await redis.command(["PING"]), answer == "PONG" { return redis }
            try await Task.sleep(for: .milliseconds(50))
        }
        redis.stop()
        throw TestFailure("redis-server did not answer on \(socket) within 10 s")
    }

    /// Runs one command with `redis-cli --raw` and returns what it printed, trimmed.
    func command(_ arguments: [String]) async throws -> String {
        let run = try await ScriptRun.run(Self.cli, ["-s", socket, "--raw"] + arguments, timeout: .seconds(10))
        guard run.status == 0 else { throw TestFailure("redis-cli \(arguments.joined(separator: " ")): \(run.output)") }
        return run.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Stops the server (at once, so a test's `defer` can call it: its exit is reaped with
    /// the test process's other children).
    func stop() { process.send(SIGTERM) }
}
