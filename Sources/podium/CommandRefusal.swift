import ArgumentParser
import Foundation

extension ExitCode {
    /// Prints `Error: message` on standard error and returns the exit status of a refusal
    /// (64), for a command whose arguments are fine but which cannot do its work: a data
    /// directory in use, a file that cannot be read, a registry with problems. Unlike a
    /// `ValidationError`, it prints no usage text, which would send the reader to the
    /// arguments.
    static func refusal(_ message: String) -> ExitCode {
        FileHandle.standardError.write(Data("Error: \(message)\n".utf8))
        return .validationFailure
    }

    /// The same for a failure of the work itself (exit 1): a server that cannot be reached
    /// or refuses.
    static func failure(_ message: String) -> ExitCode {
        FileHandle.standardError.write(Data("Error: \(message)\n".utf8))
        return .failure
    }
}
