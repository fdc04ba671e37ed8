import Hummingbird

/// Answers a HEAD request as its GET would be answered, without the body: the same status
/// and headers, `Content-Length` included (RFC 9110 §9.3.2). Hummingbird's router routes
/// HEAD to no route, so the request reaches the router as a GET (the context remembers that
/// it was a HEAD, for its metrics and log line), and the answer leaves here without its
/// body. (NIO's encoder is not told the requests' methods: ``LiveServerChannel``.)
struct HeadResponder<Base: HTTPResponder>: HTTPResponder where Base.Context == PodiumRequestContext {
    let base: Base

    func respond(to request: Request, context: PodiumRequestContext) async throws -> Response {
        guard request.method == .head else { return try await base.respond(to: request, context: context) }
        var head = request.head
        head.method = .get
        var context = context
        context.answersHead = true
        return try await base.respond(to: Request(head: head, body: request.body), context: context).createHeadResponse()
    }
}
