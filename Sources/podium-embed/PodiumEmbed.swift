import Foundation

/// The build tool of the EmbedFiles plugin: `podium-embed ROOT OUTPUT COMMIT FILE…` writes
/// a Swift file holding each FILE (a path relative to ROOT) in base64, and the commit.
@main
struct PodiumEmbed {
    static func main() throws {
        let arguments = CommandLine.arguments
        guard arguments.count >= 4 else {
            FileHandle.standardError.write(Data("usage: podium-embed ROOT OUTPUT COMMIT FILE…\n".utf8))
            exit(64)
        }
        let root = URL(fileURLWithPath: arguments[1])
        var source = """
            // Generated at build time by Plugins/EmbedFiles from the files named below; not in the repository.

            extension BundledFiles {
                static let commit = \(literal(arguments[3]))

                static let encoded: [String: String] = [

            """
        for path in arguments[4...] {
            let data = try Data(contentsOf: root.appendingPathComponent(path))
            source += "        \(literal(path)): \"\(data.base64EncodedString())\",\n"
        }
        if arguments.count == 4 { source += "        :\n" }
        source += "    ]\n}\n"
        let output = URL(fileURLWithPath: arguments[2])
        if (try? Data(contentsOf: output)) != Data(source.utf8) { try Data(source.utf8).write(to: output, options: .atomic) }
    }

    /// A Swift string literal of `text` (paths and commits: no quotes or backslashes to escape
    /// beyond these).
    static func literal(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}
