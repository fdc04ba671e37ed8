import NIOCore
import NIOWebSocket

/// The client's side of a WebSocket as RFC 6455 has it: each frame is checked (no RSV
/// bits without an extension, no reserved opcodes, masked, control frames whole and
/// short), fragments are put back together within the size limits, text must be UTF-8,
/// and a close frame must carry a valid code and a UTF-8 reason. Returns what the
/// connection must do; after a failure or a close it ignores everything.
struct WebSocketReader {
    /// What one frame asks of the connection.
    enum Action: Equatable {
        /// A whole text message, valid UTF-8.
        case text(String)
        /// A whole binary message.
        case binary
        /// Answer a ping with this payload.
        case pong(ByteBuffer)
        /// The peer answered a ping.
        case receivedPong
        /// The peer closes: answer with this code (nil: the peer's close had none).
        case close(WebSocketErrorCode?)
        /// The peer broke the protocol: close with this code and reason.
        case fail(WebSocketErrorCode, String)
        /// Nothing yet (a fragment was buffered) or any more (the connection is ending).
        case none
    }

    /// Largest message, fragments added up.
    let maxMessageSize: Int
    /// Most fragments of one message.
    let maxFragments: Int

    private enum State {
        case open
        /// Inside a fragmented message.
        case fragmented(opcode: WebSocketOpcode, data: ByteBuffer, fragments: Int)
        /// Closed or failed: frames are ignored.
        case ended
    }

    private var state = State.open

    init(maxMessageSize: Int, maxFragments: Int = 64) {
        self.maxMessageSize = maxMessageSize
        self.maxFragments = maxFragments
    }

    mutating func read(_ frame: WebSocketFrame) -> Action {
        let action = decide(frame)
        switch action {
        case .close, .fail: state = .ended
        default: break
        }
        return action
    }

    private mutating func decide(_ frame: WebSocketFrame) -> Action {
        if case .ended = state { return .none }
        guard !frame.rsv1, !frame.rsv2, !frame.rsv3 else { return .fail(.protocolError, "Reserved bits are set.") }
        guard frame.maskKey != nil else { return .fail(.protocolError, "Client frames must be masked.") }
        if frame.opcode.isControlOpcode {
            guard frame.fin, frame.length <= 125 else { return .fail(.protocolError, "Control frames must be whole and short.") }
        }
        switch frame.opcode {
        case .text, .binary:
            if case .fragmented = state { return .fail(.protocolError, "A new message began before the last one ended.") }
            guard frame.length <= maxMessageSize else { return .fail(.messageTooLarge, "Messages are limited in size.") }
            guard frame.fin else {
                state = .fragmented(opcode: frame.opcode, data: frame.unmaskedData, fragments: 1)
                return .none
            }
            return message(frame.opcode, frame.unmaskedData)
        case .continuation:
            guard case .fragmented(let opcode, var data, let fragments) = state else {
                return .fail(.protocolError, "A continuation frame without a message to continue.")
            }
            guard data.readableBytes + frame.length <= maxMessageSize, fragments < maxFragments else {
                return .fail(.messageTooLarge, "Messages are limited in size.")
            }
            var payload = frame.unmaskedData
            state = .open
            data.writeBuffer(&payload)
            guard frame.fin else {
                state = .fragmented(opcode: opcode, data: data, fragments: fragments + 1)
                return .none
            }
            return message(opcode, data)
        case .ping:
            return .pong(frame.unmaskedData)
        case .pong:
            return .receivedPong
        case .connectionClose:
            return Self.close(payload: frame.unmaskedData)
        default:
            return .fail(.protocolError, "Reserved opcode.")
        }
    }

    private func message(_ opcode: WebSocketOpcode, _ data: ByteBuffer) -> Action {
        guard opcode == .text else { return .binary }
        guard let text = String(validating: data.readableBytesView, as: UTF8.self) else {
            return .fail(.dataInconsistentWithMessage, "Text messages must be UTF-8.")
        }
        return .text(text)
    }

    /// The answer to a close frame: its code echoed, or a failure for a malformed one.
    private static func close(payload: ByteBuffer) -> Action {
        var payload = payload
        guard payload.readableBytes > 0 else { return .close(nil) }
        guard let number = payload.readInteger(as: UInt16.self), isValidCloseCode(number) else {
            return .fail(.protocolError, "Invalid close code.")
        }
        guard String(validating: payload.readableBytesView, as: UTF8.self) != nil else {
            return .fail(.dataInconsistentWithMessage, "Close reasons must be UTF-8.")
        }
        return .close(WebSocketErrorCode(codeNumber: Int(number)))
    }

    /// Codes a peer may send (RFC 6455 §7.4 and the IANA registry): 1000–1003, 1007–1014,
    /// and 3000–4999 for libraries and applications. 1004–1006 and 1015 are reserved, and
    /// 1005, 1006 and 1015 must never be sent.
    static func isValidCloseCode(_ code: UInt16) -> Bool {
        switch code {
        case 1000...1003, 1007...1014, 3000...4999: true
        default: false
        }
    }
}
