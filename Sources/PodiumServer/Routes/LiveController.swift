import Hummingbird

/// `GET /ws` without a WebSocket upgrade. Upgrade requests never reach the router: the
/// server's channel (``LiveServerChannel``) takes them.
struct LiveController {
    let hub: LiveHub

    func addRoutes(to router: Router<PodiumRequestContext>) {
        router.get("ws") { _, _ -> Response in
            guard hub.acceptsConnections else {
                throw APIError(.tooManyConnections, "This instance is full.", retryAfter: 5)
            }
            throw APIError(.upgradeRequired, "Open a WebSocket here: GET /ws with Connection: Upgrade and Upgrade: websocket.")
        }
    }
}
