import NIOCore

extension ChannelHandlerContext {
    /// Closes the connection once what was written has gone out: first its sending side,
    /// so that the answer is not lost to the reset that closing with unread bytes sends,
    /// then the rest when the peer closes its side, or after `linger`.
    func closeLingering(after linger: TimeAmount = .seconds(2)) {
        let channel = self.channel
        let closedOutput = eventLoop.makePromise(of: Void.self)
        close(mode: .output, promise: closedOutput)
        closedOutput.futureResult.whenFailure { _ in channel.close(promise: nil) }
        channel.eventLoop.scheduleTask(in: linger) { channel.close(promise: nil) }
    }
}
