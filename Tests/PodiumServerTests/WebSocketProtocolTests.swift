import NIOCore
import NIOWebSocket
import Testing

@testable import PodiumServer

/// One broken (or valid) client frame sequence and the close code RFC 6455 answers it with.
struct ProtocolCase: Sendable, CustomTestStringConvertible {
    struct Frame: Sendable {
        var payload: [UInt8]
        var opcode: UInt8
        var fin = true
        var rsv: UInt8 = 0
        var masked = true
    }

    let name: String
    let frames: [Frame]
    let closeCode: UInt16

    var testDescription: String { name }

    static let subscribe = Array(#"{"type":"subscribe","gameId":"arcade","scopes":["global"]}"#.utf8)

    static func close(_ code: UInt16, reason: [UInt8] = []) -> Frame {
        Frame(payload: [UInt8(code >> 8), UInt8(code & 0xFF)] + reason, opcode: 0x8)
    }

    static let violations: [ProtocolCase] =
        [
            ProtocolCase(name: "RSV1 set", frames: [Frame(payload: subscribe, opcode: 0x1, rsv: 0x40)], closeCode: 1002),
            ProtocolCase(name: "RSV2 set", frames: [Frame(payload: subscribe, opcode: 0x1, rsv: 0x20)], closeCode: 1002),
            ProtocolCase(name: "RSV3 on a ping", frames: [Frame(payload: [], opcode: 0x9, rsv: 0x10)], closeCode: 1002),
            ProtocolCase(name: "unmasked text", frames: [Frame(payload: subscribe, opcode: 0x1, masked: false)], closeCode: 1002),
            ProtocolCase(name: "invalid UTF-8 text", frames: [Frame(payload: [0x7B, 0xC0, 0xAF, 0x7D], opcode: 0x1)], closeCode: 1007),
            ProtocolCase(
                name: "invalid UTF-8 across fragments",
                frames: [Frame(payload: [0x22, 0xF0, 0x9F], opcode: 0x1, fin: false), Frame(payload: [0x22], opcode: 0x0)], closeCode: 1007
            ),
            ProtocolCase(name: "continuation without a message", frames: [Frame(payload: subscribe, opcode: 0x0)], closeCode: 1002),
            ProtocolCase(
                name: "text inside a fragmented message",
                frames: [Frame(payload: [0x7B], opcode: 0x1, fin: false), Frame(payload: subscribe, opcode: 0x1)], closeCode: 1002
            ),
            ProtocolCase(name: "close with a one-byte payload", frames: [Frame(payload: [0x03], opcode: 0x8)], closeCode: 1002),
            ProtocolCase(name: "close reason not UTF-8", frames: [close(1000, reason: [0xFF, 0xFE])], closeCode: 1007),
        ]
        + [3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF].map {
            ProtocolCase(name: "reserved opcode \($0)", frames: [Frame(payload: [], opcode: $0)], closeCode: 1002)
        }
        + [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000].map {
            ProtocolCase(name: "invalid close code \($0)", frames: [close($0)], closeCode: 1002)
        }

    static let validCloses: [ProtocolCase] = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1014, 3000, 3999, 4000, 4999].map {
        ProtocolCase(name: "close code \($0)", frames: [close($0, reason: Array("bye ✓".utf8))], closeCode: $0)
    }
}

@Suite("WebSocket protocol errors over a raw socket (RFC 6455)", .timeLimit(.minutes(2)))
struct WebSocketProtocolTests {
    /// Sends the case's frames and returns what the server sent after `ready`, up to its close.
    static func answer(to frames: [ProtocolCase.Frame], on server: TestServer) async throws -> [RawWebSocket.Frame] {
        let socket = try RawWebSocket(port: server.port)
        defer { socket.close() }
        for frame in frames {
            try socket.send(frame: frame.payload, opcode: frame.opcode, fin: frame.fin, rsv: frame.rsv, masked: frame.masked)
        }
        let received = try await socket.framesUntilClosed()
        try #require(received.first?.text == #"{"type":"ready"}"#)
        return Array(received.dropFirst())
    }

    @Test("protocol violations fail the connection with a close frame", arguments: ProtocolCase.violations)
    func violationsFailTheConnection(_ violation: ProtocolCase) async throws {
        try await TestServer.run { server in
            let answer = try await Self.answer(to: violation.frames, on: server)
            #expect(answer.map(\.opcode) == [0x8], "nothing but the close: the frame was neither processed nor answered")
            #expect(answer.last?.closeCode == violation.closeCode)
        }
    }

    @Test("valid close codes are echoed", arguments: ProtocolCase.validCloses)
    func validClosesAreEchoed(_ close: ProtocolCase) async throws {
        try await TestServer.run { server in
            let answer = try await Self.answer(to: close.frames, on: server)
            #expect(answer.map(\.opcode) == [0x8])
            #expect(answer.last?.closeCode == close.closeCode)
        }
    }

    @Test func anEmptyCloseIsAnsweredWithAnEmptyClose() async throws {
        try await TestServer.run { server in
            let answer = try await Self.answer(to: [ProtocolCase.Frame(payload: [], opcode: 0x8)], on: server)
            #expect(answer.map(\.opcode) == [0x8])
            #expect(answer.last?.payload == [])
        }
    }

    @Test func fragmentsWithPingsBetweenThemMakeOneMessage() async throws {
        try await TestServer.run { server in
            let subscribe = ProtocolCase.subscribe
            let answer = try await Self.answer(
                to: [
                    .init(payload: Array(subscribe[..<5]), opcode: 0x1, fin: false), .init(payload: [0x2A], opcode: 0x9),
                    .init(payload: Array(subscribe[5...]), opcode: 0x0), ProtocolCase.close(1000),
                ],
                on: server
            )
            #expect(answer.map(\.opcode) == [0xA, 0x1, 0x8], "the pong, the state, the echoed close")
            #expect(answer.first?.payload == [0x2A])
        }
    }

    @Test func aMissedPongEndsWithACloseFrame() async throws {
        try await TestServer.run(configure: {
            $0.live.pingInterval = .milliseconds(600)
            $0.live.pongTimeout = .milliseconds(300)
        }) { server in
            let answer = try await Self.answer(to: [], on: server)
            #expect(answer.map(\.opcode) == [0x9, 0x8], "a ping, then a close frame rather than a bare TCP close")
            #expect(answer.last?.closeCode == 1001)
        }
    }
}

@Suite("WebSocketReader: RFC 6455 checks without sockets")
struct WebSocketReaderTests {
    static let key: WebSocketMaskingKey = [1, 2, 3, 4]

    static func frame(_ opcode: WebSocketOpcode, _ bytes: [UInt8] = [], fin: Bool = true, masked: Bool = true, rsv1: Bool = false) -> WebSocketFrame {
        var frame = WebSocketFrame(fin: fin, rsv1: rsv1, opcode: opcode, maskKey: masked ? key : nil, data: ByteBuffer(bytes: bytes))
        if masked { frame.data.webSocketMask(key) }
        return frame
    }

    @Test func textAndFragmentsWithinTheLimits() {
        var reader = WebSocketReader(maxMessageSize: 8, maxFragments: 3)
        #expect(reader.read(Self.frame(.text, Array("hi".utf8))) == .text("hi"))
        #expect(reader.read(Self.frame(.text, Array("ab".utf8), fin: false)) == .none)
        #expect(reader.read(Self.frame(.ping, [7])) == .pong(ByteBuffer(bytes: [7])))
        #expect(reader.read(Self.frame(.continuation, Array("cd".utf8), fin: false)) == .none)
        #expect(reader.read(Self.frame(.continuation, Array("é".utf8))) == .text("abcdé"))
        #expect(reader.read(Self.frame(.binary, [0, 1])) == .binary)
        #expect(reader.read(Self.frame(.text, Array("123456789".utf8))) == .fail(.messageTooLarge, "Messages are limited in size."))
        #expect(reader.read(Self.frame(.text, Array("hi".utf8))) == .none, "nothing is read after a failure")
    }

    @Test func tooManyFragmentsOrBytesAreTooLarge() {
        var fragments = WebSocketReader(maxMessageSize: 100, maxFragments: 2)
        _ = fragments.read(Self.frame(.text, [0x61], fin: false))
        _ = fragments.read(Self.frame(.continuation, [0x61], fin: false))
        #expect(fragments.read(Self.frame(.continuation, [0x61])) == .fail(.messageTooLarge, "Messages are limited in size."))
        var bytes = WebSocketReader(maxMessageSize: 3)
        _ = bytes.read(Self.frame(.text, [0x61, 0x61], fin: false))
        #expect(bytes.read(Self.frame(.continuation, [0x61, 0x61])) == .fail(.messageTooLarge, "Messages are limited in size."))
    }

    @Test func framesThatBreakTheProtocolFail() {
        let broken: [WebSocketFrame] = [
            Self.frame(.text, [0x61], rsv1: true), Self.frame(.text, [0x61], masked: false),
            Self.frame(WebSocketOpcode(encodedWebSocketOpcode: 3)!), Self.frame(.continuation, [0x61]),
            Self.frame(.ping, fin: false), Self.frame(.ping, [UInt8](repeating: 0, count: 126)),
        ]
        for frame in broken {
            var reader = WebSocketReader(maxMessageSize: 1024)
            guard case .fail(.protocolError, _) = reader.read(frame) else {
                Issue.record("\(frame) was not refused")
                continue
            }
        }
    }

    @Test func closeFramesAreChecked() {
        func answer(_ payload: [UInt8]) -> WebSocketReader.Action {
            var reader = WebSocketReader(maxMessageSize: 1024)
            return reader.read(Self.frame(.connectionClose, payload))
        }
        #expect(answer([]) == .close(nil))
        #expect(answer([0x03, 0xE8]) == .close(.normalClosure))
        #expect(answer([0x0F, 0xA0] + Array("ok".utf8)) == .close(.unknown(4000)))
        #expect(answer([0x03]) == .fail(.protocolError, "Invalid close code."))
        #expect(answer([0x03, 0xED]) == .fail(.protocolError, "Invalid close code."), "1005 is never sent")
        #expect(answer([0x03, 0xE8, 0xC3]) == .fail(.dataInconsistentWithMessage, "Close reasons must be UTF-8."))
        #expect([1000, 1003, 1007, 1014, 3000, 4999].allSatisfy { WebSocketReader.isValidCloseCode($0) })
        #expect(![0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000].contains { WebSocketReader.isValidCloseCode($0) })
    }
}
