import Foundation
import PackagePlugin

/// Builds the web pages (`Public/`), the API document (`docs/openapi.yaml`) and the
/// sample games registry (`config/games.json`) into the PodiumServer module, with the
/// commit the build is made from, so a copied `podium` binary needs no file beside it.
@main
struct EmbedFiles: BuildToolPlugin {
    /// What is embedded, relative to the package's root: folders are taken whole.
    static let sources = ["Public", "docs/openapi.yaml", "config/games.json"]

    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let root = context.package.directoryURL
        let files = try Self.sources.flatMap { try Self.files(at: $0, in: root) }.sorted()
        let output = context.pluginWorkDirectoryURL.appendingPathComponent("BundledFiles+Contents.swift")
        return [
            .buildCommand(
                displayName: "Embedding \(files.count) files and commit \(Self.commit(of: root)) in \(target.name)",
                executable: try context.tool(named: "podium-embed").url,
                arguments: [root.path, output.path, Self.commit(of: root)] + files,
                inputFiles: files.map { root.appendingPathComponent($0) },
                outputFiles: [output]
            )
        ]
    }

    /// The regular files at `path` (a file, or every file under a folder, hidden ones
    /// left out), relative to `root`.
    static func files(at path: String, in root: URL) throws -> [String] {
        let url = root.appendingPathComponent(path)
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder) else { return [] }
        guard isFolder.boolValue else { return [path] }
        let names = FileManager.default.enumerator(atPath: url.path)?.compactMap { $0 as? String } ?? []
        return names.filter { name in
            var isFolder: ObjCBool = false
            let full = url.appendingPathComponent(name).path
            return !name.split(separator: "/").contains { $0.hasPrefix(".") }
                && FileManager.default.fileExists(atPath: full, isDirectory: &isFolder) && !isFolder.boolValue
        }.map { "\(path)/\($0)" }
    }

    /// The commit checked out at `root` (12 hex digits, `-dirty` with uncommitted changes
    /// to tracked files), or `unknown` outside a git checkout.
    static func commit(of root: URL) -> String {
        guard let head = git(["rev-parse", "--short=12", "HEAD"], in: root), !head.isEmpty else { return "unknown" }
        let changes = git(["status", "--porcelain", "--untracked-files=no"], in: root) ?? ""
        return changes.isEmpty ? head : head + "-dirty"
    }

    static func git(_ arguments: [String], in root: URL) -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git", "-C", root.path] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return nil }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
