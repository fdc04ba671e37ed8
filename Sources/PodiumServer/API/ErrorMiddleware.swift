import Hummingbird
import Logging

/// Turns every error a route throws into the one JSON error shape, so clients never see
/// Hummingbird's plain-text errors or a bare 500.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            return try error.response(from: request, context: context)
        } catch let error as HTTPError {
            return try Self.apiError(for: error).response(from: request, context: context)
        } catch {
            context.logger.error("unhandled error", metadata: ["error": "\(String(reflecting: error))"])
            return try APIError(.internalServerError, code: "INTERNAL_ERROR", message: "The server failed to handle this request.")
                .response(from: request, context: context)
        }
    }

    static func apiError(for error: HTTPError) -> APIError {
        switch error.status {
        case .notFound: .notFound(error.body ?? "No such route.")
        case .contentTooLarge: APIError(.contentTooLarge, code: "PAYLOAD_TOO_LARGE", message: error.body ?? "The request body is too large.")
        case .methodNotAllowed: APIError(.methodNotAllowed, code: "METHOD_NOT_ALLOWED", message: "This route does not accept that method.")
        case .unauthorized: .unauthorized(error.body ?? "Sign in first.")
        case .badRequest: .validation(error.body ?? "The request is not valid.")
        default: APIError(error.status, code: "HTTP_\(error.status.code)", message: error.body ?? error.status.reasonPhrase)
        }
    }
}
