import Foundation
import Synchronization

/// The real `podium` binary (built by `swift build`) running as a child process.
final class ServerProcess: Sendable {
    let process: ChildProcess
    let port: Int
    private let output: Output

    /// What the process wrote to standard output and error, as it arrives (through a pipe
    /// kept open as long as the output is).
    final class Output: Sendable {
        let text = Mutex("")
        let pipe = Pipe()
    }

    /// The debug binary next to the test bundle.
    static var binary: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(".build/debug/podium")
    }

    /// Starts `podium serve` on a free port and waits until it answers `/ready`; `binary`
    /// (a copy of the built one) runs in `directory` when given.
    static func start(
        arguments: [String], environment: [String: String] = [:], binary: URL = binary, directory: URL? = nil
    ) async throws -> ServerProcess {
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw TestFailure("\(binary.path) is missing: run `swift build --build-tests` first")
        }
        let output = Output()
        output.pipe.fileHandleForReading.readabilityHandler = { handle in
            let text = String(decoding: handle.availableData, as: UTF8.self)
            output.text.withLock { $0 += text }
        }
        let process = try ChildProcess(
            binary.path, ["serve", "--port", "0"] + arguments, environment: ProcessInfo.processInfo.environment.merging(environment) { $1 },
            directory: directory?.path, output: .pipe(output.pipe)
        )
        do {
            let deadline = ContinuousClock.now + .seconds(60)
            while ContinuousClock.now < deadline {
                let log = output.text.withLock { $0 }
                if let range = log.range(of: #"127\.0\.0\.1:(\d+)"#, options: .regularExpression) {
                    let port = Int(log[range].split(separator: ":").last!)!
                    let server = ServerProcess(process: process, port: port, output: output)
                    try await server.waitUntilReady()
                    return server
                }
                if !process.isRunning { throw TestFailure("podium exited: \(log)") }
                try await Task.sleep(for: .milliseconds(50))
            }
            throw TestFailure("podium did not start: \(output.text.withLock { $0 })")
        } catch {
            // Also when the test is cancelled: no server outlives its test.
            if process.isRunning { process.send(SIGKILL) }
            throw error
        }
    }

    private init(process: ChildProcess, port: Int, output: Output) {
        self.process = process
        self.port = port
        self.output = output
    }

    private func waitUntilReady() async throws {
        for _ in 0..<600 {
            if let response = try? await HTTP.request(port: port, .get, "/ready"), response.status == .ok { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TestFailure("podium never became ready")
    }

    /// Everything the process has written so far.
    var outputText: String { output.text.withLock { $0 } }

    /// Waits up to `timeout` for `text` to appear in the process's output; looks at least once.
    func output(contains text: String, within timeout: Duration = .seconds(2)) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        repeat {
            if output.text.withLock({ $0.contains(text) }) { return true }
            try? await Task.sleep(for: .milliseconds(20))
        } while ContinuousClock.now < deadline
        return false
    }

    /// Sends a signal (SIGKILL, SIGTERM) and waits for the process to end.
    func stop(signal: Int32) async -> Int32 {
        process.send(signal)
        await process.waitUntilExit()
        return process.terminationStatus
    }
}
