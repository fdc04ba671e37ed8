import Foundation
import Hummingbird

/// The web pages (the bundled ones, or plain files under `--public-directory`),
/// `GET /api/config` and the OpenAPI document.
struct PageController {
    /// Folder of the pages on disk; nil serves the bundled pages.
    let publicDirectory: String?
    /// The OpenAPI document on disk; nil serves the bundled one.
    let openAPIFile: String?
    let isProduction: Bool

    func addRoutes(to router: Router<PodiumRequestContext>) {
        router.get("/") { _, _ in try page("index.html") }
        router.get("games/:gameId") { _, _ in try page("game.html") }
        router.get("admin") { _, _ in try page("admin.html") }
        router.get("openapi.yaml") { _, _ in
            let document = openAPIFile.map { FileManager.default.contents(atPath: $0).map { Array($0) } } ?? BundledFiles.file(BundledFiles.openAPIPath)
            guard let document else { throw APIError.notFound("The API document is not installed.") }
            return Response(status: .ok, headers: [.contentType: "application/yaml; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(bytes: document)))
        }
        router.get("api/config") { _, _ in
            Response.json(ByteBuffer(string: #"{"production":\#(isProduction)}"#))
        }
    }

    /// The router's middleware serving the pages' assets (`/assets/…`) and other files.
    static func addFileMiddleware(publicDirectory: String?, to router: Router<PodiumRequestContext>) {
        if let publicDirectory {
            router.add(middleware: FileMiddleware(publicDirectory, searchForIndexHtml: false))
        } else {
            router.add(middleware: FileMiddleware(fileProvider: BundledFileProvider(folder: BundledFiles.publicFolder), searchForIndexHtml: false))
        }
    }

    private func page(_ name: String) throws -> Response {
        let data: [UInt8]?
        if let publicDirectory {
            data = FileManager.default.contents(atPath: (publicDirectory as NSString).appendingPathComponent(name)).map { Array($0) }
        } else {
            data = BundledFiles.file(BundledFiles.publicFolder + "/" + name)
        }
        guard let data else { throw APIError.notFound("The page \(name) is not installed.") }
        return Response(
            status: .ok, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-cache"],
            body: .init(byteBuffer: ByteBuffer(bytes: data))
        )
    }
}
