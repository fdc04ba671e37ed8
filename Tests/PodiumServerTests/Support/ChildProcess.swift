import Foundation
import Synchronization

/// A child process spawned with `posix_spawn`, in place of Foundation's `Process` for the
/// children the tests start (``ServerProcess``, ``ScriptRun``): on Linux,
/// Swift 6.3.1's `Process.run()` now and then crashes the test process with an over-read
/// while it lists `/proc/self/fd` (swift-corelibs-foundation#5472, fixed after 6.3.1).
/// Like `Process`, the child gets only standard input, output and error of the test's
/// descriptors, and runs in `directory` when given.
final class ChildProcess: Sendable {
    /// Where the child's standard output and error go (standard input is `/dev/null`).
    enum Output {
        case null
        /// Both into this pipe (its writing end is closed here once the child has it; keep
        /// the pipe, whose reading end closes with it).
        case pipe(Pipe)
        case files(standardOutput: String, standardError: String)
    }

    let pid: pid_t
    /// The child's exit status once reaped.
    private let status = Mutex<Int32?>(nil)

    init(_ executable: String, _ arguments: [String], environment: [String: String], directory: String? = nil, output: Output) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        switch output {
        case .null:
            posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
            posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        case .pipe(let pipe):
            posix_spawn_file_actions_adddup2(&actions, pipe.fileHandleForWriting.fileDescriptor, 1)
            posix_spawn_file_actions_adddup2(&actions, pipe.fileHandleForWriting.fileDescriptor, 2)
        case .files(let standardOutput, let standardError):
            posix_spawn_file_actions_addopen(&actions, 1, standardOutput, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
            posix_spawn_file_actions_addopen(&actions, 2, standardError, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        }
        guard Self.closeFrom(&actions, 3) == 0 else { throw TestFailure("posix_spawn_file_actions_addclosefrom_np failed") }
        if let directory, Self.changeDirectory(&actions, directory) != 0 { throw TestFailure("cannot run in \(directory)") }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        // The child starts with no signal blocked and every signal's default action, as
        // from a shell: it would otherwise inherit the spawning thread's mask (the test
        // runner's threads block some), and a server never sees the SIGTERM that stops it.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        var all = sigset_t()
        sigemptyset(&none)
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        if case .pipe(let pipe) = output { try? pipe.fileHandleForWriting.close() }
        guard spawned == 0 else { throw TestFailure("cannot start \(executable): errno \(spawned)") }
        self.pid = pid
    }

    /// Whether the child has not exited yet (reaping it once it has).
    var isRunning: Bool {
        status.withLock { status in
            guard status == nil else { return false }
            var raw: Int32 = 0
            guard waitpid(pid, &raw, WNOHANG) == pid else { return true }
            // As `Process.terminationStatus`: the exit code, or the signal that ended it.
            status = raw & 0x7F == 0 ? (raw >> 8) & 0xFF : raw & 0x7F
            return false
        }
    }

    /// The exit code, or the signal that ended the child; only once it is not running.
    var terminationStatus: Int32 { status.withLock { $0 } ?? -1 }

    func send(_ signal: Int32) {
        kill(pid, signal)
    }

    /// Waits (without blocking a thread) until the child has exited, or `timeout` has
    /// passed; false if it is still running.
    @discardableResult
    func waitUntilExit(within timeout: Duration? = nil) async -> Bool {
        let deadline = timeout.map { ContinuousClock.now + $0 }
        while isRunning {
            if let deadline, ContinuousClock.now > deadline { return false }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return true
    }

    // glibc 2.34+ has both, but Swift's Glibc module does not import them.
    private typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    private typealias ChangeDirectory = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32
    private static let closeFrom = unsafeBitCast(dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np")!, to: CloseFrom.self)
    private static let changeDirectory = unsafeBitCast(dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addchdir_np")!, to: ChangeDirectory.self)
}
