import ArgumentParser
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// `podium bench constant-http`: the anchor of `scripts/bench-http` — a bare SwiftNIO server
/// (NIO's HTTP/1 server pipeline and one handler) answering every request with the same
/// head and body, the body read from a file (a saved Podium answer, so both send the same
/// bytes). It listens like `podium serve` does: one event loop per core, a backlog of
/// 4,096 and 256 accepts per wake-up. Runs until interrupted.
struct ConstantHTTPBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "constant-http",
        abstract: "Serve one constant answer from bare SwiftNIO (the anchor of scripts/bench-http)."
    )

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on.")
    var port = 4090

    @Option(help: "File whose bytes are the body of every answer.")
    var body: String

    func run() throws {
        guard let bytes = FileManager.default.contents(atPath: body) else {
            throw ValidationError("cannot read the body file \(body)")
        }
        let answer = ConstantAnswer(body: bytes)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        let channel = try ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 4096)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.maxMessagesPerRead, value: 256)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(ConstantHandler(answer: answer))
                }
            }
            .bind(host: host, port: port).wait()
        print("constant-http: listening on \(channel.localAddress?.description ?? "?"), \(bytes.count)-byte body")
        try channel.closeFuture.wait()
    }
}

/// The head and body every request gets: the headers Podium sends with a first page, with
/// values of the same lengths.
private struct ConstantAnswer: Sendable {
    let head: HTTPResponseHead
    let body: ByteBuffer

    init(body bytes: Data) {
        body = ByteBuffer(bytes: bytes)
        head = HTTPResponseHead(
            version: .http1_1, status: .ok,
            headers: [
                "Content-Type": "application/json; charset=utf-8", "Content-Length": String(bytes.count),
                "Date": "Wed, 02 Dec 2026 00:00:00 GMT", "Server": "Podium", "X-Request-Id": "0000000000000000-00000000",
            ]
        )
    }
}

private final class ConstantHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let answer: ConstantAnswer

    init(answer: ConstantAnswer) {
        self.answer = answer
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .end = unwrapInboundIn(data) else { return }
        context.write(wrapOutboundOut(.head(answer.head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(answer.body))), promise: nil)
        context.write(wrapOutboundOut(.end(nil)), promise: nil)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }
}
