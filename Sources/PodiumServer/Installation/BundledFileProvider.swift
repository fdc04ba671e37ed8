import Foundation
import Hummingbird

/// Serves the bundled web pages (``BundledFiles``) through Hummingbird's `FileMiddleware`,
/// with the same headers as files on disk. Their modification time is the process's start,
/// so a new binary (which always means a restart) gets new ETags.
struct BundledFileProvider: FileProvider {
    struct FileAttributes: FileMiddlewareFileAttributes, Sendable {
        var isFolder: Bool { false }
        let size: Int
        let modificationDate: Date
    }

    /// The bundled folder served, such as `Public`.
    let folder: String
    let startedAt = Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down))

    func getFileIdentifier(_ path: String) -> String? {
        folder + (path.hasPrefix("/") ? path : "/" + path)
    }

    func getAttributes(id: String) async throws -> FileAttributes? {
        BundledFiles.file(id).map { FileAttributes(size: $0.count, modificationDate: startedAt) }
    }

    func loadFile(id: String, context: some RequestContext) async throws -> ResponseBody {
        ResponseBody(byteBuffer: ByteBuffer(bytes: BundledFiles.file(id) ?? []))
    }

    func loadFile(id: String, range: ClosedRange<Int>, context: some RequestContext) async throws -> ResponseBody {
        let bytes = BundledFiles.file(id) ?? []
        let clamped = range.clamped(to: 0...max(0, bytes.count - 1))
        return ResponseBody(byteBuffer: ByteBuffer(bytes: bytes.isEmpty ? [] : bytes[clamped]))
    }
}
