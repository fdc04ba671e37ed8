import Logging
import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The first handler of the listening socket: pauses accepting when `accept` fails for
/// want of resources (EMFILE: the process is out of file descriptors; ENFILE, ENOBUFS,
/// ENOMEM), and resumes after a pause that doubles while the failures go on.
///
/// NIO keeps the listening socket registered for reads after such a failure, and with a
/// connection waiting in the backlog epoll reports it readable again at once: without the
/// pause the event loop spins on a core until descriptors are freed.
final class AcceptBackoff: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = any Channel
    typealias InboundOut = any Channel

    /// The pauses of one run of failures.
    struct Pauses {
        static let first = TimeAmount.milliseconds(50)
        static let longest = TimeAmount.seconds(2)

        /// The pause after the next failure; nil while accepts succeed.
        private(set) var next: TimeAmount?

        /// The pause after a failure, and whether it is the first of its run.
        mutating func failed() -> (pause: TimeAmount, isFirst: Bool) {
            let isFirst = next == nil
            let pause = next ?? Self.first
            next = min(pause * 2, Self.longest)
            return (pause, isFirst)
        }

        /// Notes an accepted connection; true when it ends a run of failures.
        mutating func accepted() -> Bool {
            defer { next = nil }
            return next != nil
        }
    }

    private let logger: Logger
    private var pauses = Pauses()
    private var resumption: Scheduled<Void>?

    init(logger: Logger) {
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if pauses.accepted() { logger.notice("accepting connections again") }
        context.fireChannelRead(data)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        defer { context.fireErrorCaught(error) }
        guard let error = error as? IOError, [EMFILE, ENFILE, ENOBUFS, ENOMEM].contains(error.errnoCode), resumption == nil,
            let options = context.channel.syncOptions
        else { return }
        let (pause, isFirst) = pauses.failed()
        if isFirst {
            logger.warning("cannot accept connections: pausing accepts", metadata: ["error": "\(error)", "pause": "\(pause)"])
        }
        try? options.setOption(ChannelOptions.autoRead, value: false)
        resumption = context.eventLoop.assumeIsolated().scheduleTask(in: pause) {
            self.resumption = nil
            try? options.setOption(ChannelOptions.autoRead, value: true)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        resumption?.cancel()
        resumption = nil
    }
}
