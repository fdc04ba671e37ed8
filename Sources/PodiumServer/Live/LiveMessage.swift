import Foundation
import NIOCore
import PodiumEngine

/// A message from a WebSocket client (seed 000's `WsClientMessage`, plus `since`).
struct LiveClientMessage: Decodable {
    var type: String
    var gameId: String?
    var scopes: [String]?
    var countryCode: String?
    var userId: String?
    /// The board followed: `all-time` (the default) or the current period of one of the
    /// game's schedules (`daily`, `weekly`, …).
    var period: String?
    /// Versions the client already holds, by scope, after a reconnect.
    var since: [String: UInt64]?
}

/// Encoders of the messages the server sends; each is encoded once and its bytes shared
/// by every recipient.
enum LiveServerMessage {
    static let ready = simple("ready")
    static let pong = simple("pong")

    /// `{"type":"leaderboard:state"|"leaderboard:update","payload":{…}}`.
    static func state(_ view: LeaderboardView, isUpdate: Bool) -> ByteBuffer {
        var json = JSONWriter(capacity: 128 + view.entries.count * 160)
        json.beginObject()
        json.field("type", isUpdate ? "leaderboard:update" : "leaderboard:state")
        json.key("payload")
        view.write(to: &json)
        json.endObject()
        return json.buffer
    }

    /// `{"type":"error","code":…,"message":…}`; the connection stays open.
    static func error(code: ErrorCode, message: String) -> ByteBuffer {
        var json = JSONWriter()
        json.beginObject()
        json.field("type", "error")
        json.field("code", code.rawValue)
        json.field("message", message)
        json.endObject()
        return json.buffer
    }

    private static func simple(_ type: String) -> ByteBuffer {
        var json = JSONWriter(capacity: 32)
        json.beginObject()
        json.field("type", type)
        json.endObject()
        return json.buffer
    }
}

/// A server text message framed once as WebSocket bytes (servers do not mask), so a
/// fan-out writes the same buffer to every subscriber's socket without encoding a frame
/// per subscriber.
struct LiveFrame: Sendable {
    let bytes: ByteBuffer

    init(text message: ByteBuffer) {
        let length = message.readableBytes
        var bytes = ByteBuffer()
        bytes.reserveCapacity(10 + length)
        bytes.writeInteger(UInt8(0x81))
        if length < 126 {
            bytes.writeInteger(UInt8(length))
        } else if length <= Int(UInt16.max) {
            bytes.writeInteger(UInt8(126))
            bytes.writeInteger(UInt16(length))
        } else {
            bytes.writeInteger(UInt8(127))
            bytes.writeInteger(UInt64(length))
        }
        bytes.writeImmutableBuffer(message)
        self.bytes = bytes
    }
}
