import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A WebSocket client on a plain socket, for what a client library hides: a peer that
/// never reads, and everything a server sends before it closes the connection.
///
/// (swift-websocket's client can hang when the server closes right after the upgrade,
/// so the tests of refused upgrades read the bytes themselves.)
final class RawWebSocket: Sendable {
    /// One frame from the server (servers do not mask).
    struct Frame {
        var opcode: UInt8
        var payload: [UInt8]

        var text: String { String(decoding: payload, as: UTF8.self) }
        /// The status code of a close frame.
        var closeCode: UInt16? { opcode == 0x8 && payload.count >= 2 ? UInt16(payload[0]) << 8 | UInt16(payload[1]) : nil }
    }

    private let socket: RawSocket

    /// Connects and sends the upgrade request. A small `receiveBuffer` makes the server's
    /// writes back up as soon as the client stops reading.
    /// `headers` are extra header lines, each ending in CRLF.
    init(port: Int, path: String = "/ws", query: String = "", headers: String = "", receiveBuffer: Int32? = nil) throws {
        socket = try RawSocket(port: port, receiveBuffer: receiveBuffer)
        try socket.write(
            "GET \(path)\(query) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\(headers)\r\n"
        )
    }

    /// Sends a text frame (clients must mask).
    func send(_ text: String) throws {
        try send(frame: Array(text.utf8), opcode: 0x1)
    }

    /// Sends one frame: `opcode` 0x0 continuation, 0x1 text, 0x8 close; `fin` false for
    /// all but the last fragment of a message. `rsv` sets the reserved bits (0x40, 0x20,
    /// 0x10) and `masked: false` breaks the rule that clients mask, for protocol tests.
    func send(frame payload: [UInt8], opcode: UInt8, fin: Bool = true, rsv: UInt8 = 0, masked: Bool = true) throws {
        let mask: [UInt8] = [1, 2, 3, 4]
        let maskBit: UInt8 = masked ? 0x80 : 0
        var frame: [UInt8] = [(fin ? 0x80 : 0) | rsv | opcode]
        if payload.count < 126 {
            frame.append(maskBit | UInt8(payload.count))
        } else {
            frame += [maskBit | 126, UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)]
        }
        if masked {
            frame += mask
            frame += payload.enumerated().map { $0.element ^ mask[$0.offset % 4] }
        } else {
            frame += payload
        }
        try socket.write(frame)
    }

    /// Reads until the server closes the connection (at most 10 s of silence) and returns
    /// the frames after the upgrade response.
    func framesUntilClosed() async throws -> [Frame] {
        try await upgradeUntilClosed().frames
    }

    /// The upgrade response's head and the frames after it, read until the server closes.
    func upgradeUntilClosed() async throws -> (head: String, frames: [Frame]) {
        let bytes = try await socket.bytesUntilClosed()
        guard let headerEnd = bytes.firstRange(of: Array("\r\n\r\n".utf8))?.upperBound else {
            throw TestFailure("no upgrade response: \(String(decoding: bytes, as: UTF8.self))")
        }
        let head = String(decoding: bytes[..<headerEnd], as: UTF8.self)
        guard head.hasPrefix("HTTP/1.1 101") else {
            throw TestFailure("the upgrade was refused: \(String(decoding: bytes, as: UTF8.self))")
        }
        return (head, try Self.frames(in: bytes[headerEnd...]))
    }

    /// Everything the server sends until it closes the connection, as text (for answers
    /// to refused upgrades).
    func answerUntilClosed() async throws -> String {
        String(decoding: try await socket.bytesUntilClosed(), as: UTF8.self)
    }

    private static func frames(in bytes: ArraySlice<UInt8>) throws -> [Frame] {
        var frames: [Frame] = []
        var index = bytes.startIndex
        while index < bytes.endIndex {
            guard bytes.endIndex - index >= 2 else { throw TestFailure("a truncated frame header") }
            var length = Int(bytes[index + 1] & 0x7F)
            var start = index + 2
            if length == 126 {
                guard bytes.endIndex - start >= 2 else { throw TestFailure("a truncated frame length") }
                length = Int(bytes[start]) << 8 | Int(bytes[start + 1])
                start += 2
            } else if length == 127 {
                throw TestFailure("an unexpectedly large frame")
            }
            guard bytes.endIndex - start >= length else { throw TestFailure("a truncated frame") }
            frames.append(Frame(opcode: bytes[index] & 0x0F, payload: Array(bytes[start..<start + length])))
            index = start + length
        }
        return frames
    }

    func close() { socket.close() }
}

/// A TCP connection to the server on a plain socket: exactly the bytes written, and
/// everything the server sends until it closes.
final class RawSocket: Sendable {
    private let descriptor: Int32

    init(port: Int, receiveBuffer: Int32? = nil) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw TestFailure("socket() failed") }
        if var size = receiveBuffer {
            setsockopt(descriptor, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw TestFailure("connect() failed") }
    }

    func write(_ text: String) throws { try write(Array(text.utf8)) }

    func write(_ bytes: [UInt8]) throws {
        let written = bytes.withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        guard written == bytes.count else { throw TestFailure("send() failed") }
    }

    /// Everything the server sends until it closes the connection (at most 10 s of
    /// silence).
    func bytesUntilClosed() async throws -> [UInt8] {
        try await bytes { _ in false }
    }

    /// What the server sends until `enough` holds of everything received so far, or until it
    /// closes the connection (at most 10 s of silence). The blocking reads run on their own
    /// thread, not on one the server in this process needs.
    func bytes(until enough: @escaping @Sendable ([UInt8]) -> Bool) async throws -> [UInt8] {
        try await withCheckedThrowingContinuation { continuation in
            Thread {
                continuation.resume(
                    with: Result {
                        var bytes: [UInt8] = []
                        var chunk = [UInt8](repeating: 0, count: 4096)
                        while !enough(bytes) {
                            let count = chunk.withUnsafeMutableBytes { recv(self.descriptor, $0.baseAddress, $0.count, 0) }
                            if count == 0 { return bytes }
                            guard count > 0 else { throw TestFailure("the server did not close the connection (errno \(errno))") }
                            bytes += chunk[0..<count]
                        }
                        return bytes
                    }
                )
            }.start()
        }
    }

    func close() { _ = Glibc.close(descriptor) }
}
