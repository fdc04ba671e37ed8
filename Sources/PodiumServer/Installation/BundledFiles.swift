import Foundation

/// The files compiled into the binary by the EmbedFiles build plugin: the web pages under
/// `Public/`, `docs/openapi.yaml` and the sample registry `config/games.json`, by their
/// path in the repository. A copied `podium` binary therefore serves everything from any
/// folder; `--public-directory` and `--games` replace them with files on disk.
public enum BundledFiles {
    /// The contents of every bundled file, decoded once.
    static let contents: [String: [UInt8]] = encoded.mapValues { Array(Data(base64Encoded: $0) ?? Data()) }

    /// The bundled file at `path` (such as `Public/index.html`), if there is one.
    public static func file(_ path: String) -> [UInt8]? { contents[path] }

    /// The bundled OpenAPI document.
    static let openAPIPath = "docs/openapi.yaml"
    /// The bundled sample games registry.
    static let gamesPath = "config/games.json"
    /// The folder of the bundled web pages.
    static let publicFolder = "Public"
}
