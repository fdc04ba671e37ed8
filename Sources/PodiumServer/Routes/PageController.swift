import Foundation
import Hummingbird

/// The web pages (plain files under the public directory), `GET /api/config` and the
/// OpenAPI document.
struct PageController {
    let publicDirectory: String
    let openAPIFile: String
    let isProduction: Bool

    func addRoutes(to router: Router<PodiumRequestContext>) {
        router.get("/") { _, _ in try page("index.html") }
        router.get("games/:gameId") { _, _ in try page("game.html") }
        router.get("admin") { _, _ in try page("admin.html") }
        router.get("openapi.yaml") { _, _ in
            guard let data = FileManager.default.contents(atPath: openAPIFile) else { throw APIError.notFound("The API document is not installed.") }
            return Response(status: .ok, headers: [.contentType: "application/yaml; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
        }
        router.get("api/config") { _, _ in
            Response.json(ByteBuffer(string: #"{"production":\#(isProduction)}"#))
        }
    }

    private func page(_ name: String) throws -> Response {
        let path = (publicDirectory as NSString).appendingPathComponent(name)
        guard let data = FileManager.default.contents(atPath: path) else { throw APIError.notFound("The page \(name) is not installed.") }
        return Response(
            status: .ok, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-cache"],
            body: .init(byteBuffer: ByteBuffer(bytes: data))
        )
    }
}
