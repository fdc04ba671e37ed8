import Hummingbird

/// Reads `Authorization: Bearer …` (or `?token=` on the WebSocket route, which browsers
/// cannot give headers) into the context's identity: a Podium access token, or an ID
/// token of the configured OpenID issuer. A present but invalid token is refused at once;
/// routes that need a user call ``PodiumRequestContext/requireIdentity()``.
struct AuthMiddleware: RouterMiddleware {
    typealias Context = PodiumRequestContext
    let tokens: TokenService
    let openID: OpenIDSignIn?

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        if let token = Self.bearerToken(of: request) {
            do {
                if let openID, openID.isIssuer(ofUnverified: token) {
                    context.identity = try await openID.identity(for: token)
                } else {
                    context.identity = try await tokens.verify(token)
                }
            } catch let error as APIError where request.uri.path == "/ws" {
                // Browsers cannot read a refused upgrade's answer: the socket opens, says
                // why in an error message, and closes (1008).
                context.authenticationError = error
            }
        }
        return try await next(request, context)
    }

    static func bearerToken(of request: Request) -> String? {
        if let header = request.headers[.authorization] {
            let parts = header.split(separator: " ", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "bearer" { return String(parts[1]) }
            return header.isEmpty ? nil : header
        }
        if request.uri.path == "/ws", let token = request.uri.queryParameters["token"] { return String(token) }
        return nil
    }
}

extension PodiumRequestContext {
    /// The signed-in user, or 401.
    func requireIdentity() throws(APIError) -> Identity {
        guard let identity else { throw .unauthorized("Sign in first: send Authorization: Bearer <accessToken>.") }
        return identity
    }

    /// The signed-in admin, or 401/403.
    func requireAdmin() throws(APIError) -> Identity {
        let identity = try requireIdentity()
        guard identity.role == .admin else { throw .forbidden("This needs the admin role.") }
        return identity
    }
}
