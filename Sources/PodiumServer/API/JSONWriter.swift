import NIOCore

/// Writes JSON straight into a `ByteBuffer`, for the payloads that are encoded on every
/// read and every live update (Foundation's encoder costs several times more).
struct JSONWriter {
    private(set) var buffer: ByteBuffer
    private var needsComma = false

    init(capacity: Int = 256) {
        buffer = ByteBufferAllocator().buffer(capacity: capacity)
    }

    mutating func beginObject() {
        separate()
        buffer.writeInteger(UInt8(ascii: "{"))
        needsComma = false
    }

    mutating func endObject() {
        buffer.writeInteger(UInt8(ascii: "}"))
        needsComma = true
    }

    mutating func beginArray() {
        separate()
        buffer.writeInteger(UInt8(ascii: "["))
        needsComma = false
    }

    mutating func endArray() {
        buffer.writeInteger(UInt8(ascii: "]"))
        needsComma = true
    }

    /// Writes a line break (whitespace between tokens), so a long array reads one element
    /// per line.
    mutating func lineBreak() {
        buffer.writeInteger(UInt8(ascii: "\n"))
    }

    /// Writes an object key; the next call writes its value.
    mutating func key(_ name: String) {
        separate()
        writeQuoted(name)
        buffer.writeInteger(UInt8(ascii: ":"))
        needsComma = false
    }

    mutating func value(_ text: String) {
        separate()
        writeQuoted(text)
        needsComma = true
    }

    mutating func value(_ number: Int64) {
        separate()
        buffer.writeString(String(number))
        needsComma = true
    }

    mutating func value(_ flag: Bool) {
        separate()
        buffer.writeString(flag ? "true" : "false")
        needsComma = true
    }

    mutating func field(_ name: String, _ text: String) {
        key(name)
        value(text)
    }

    mutating func field(_ name: String, _ number: Int64) {
        key(name)
        value(number)
    }

    mutating func field(_ name: String, _ flag: Bool) {
        key(name)
        value(flag)
    }

    /// Writes `"name":null`.
    mutating func nullField(_ name: String) {
        key(name)
        buffer.writeString("null")
        needsComma = true
    }

    private mutating func separate() {
        if needsComma { buffer.writeInteger(UInt8(ascii: ",")) }
    }

    private mutating func writeQuoted(_ text: String) {
        buffer.writeInteger(UInt8(ascii: "\""))
        if text.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            for byte in text.utf8 { writeEscaped(byte) }
        } else {
            buffer.writeString(text)
        }
        buffer.writeInteger(UInt8(ascii: "\""))
    }

    private mutating func writeEscaped(_ byte: UInt8) {
        switch byte {
        case UInt8(ascii: "\""): buffer.writeString("\\\"")
        case UInt8(ascii: "\\"): buffer.writeString("\\\\")
        case UInt8(ascii: "\n"): buffer.writeString("\\n")
        case UInt8(ascii: "\r"): buffer.writeString("\\r")
        case UInt8(ascii: "\t"): buffer.writeString("\\t")
        case 0..<0x20:
            let hex = Array("0123456789abcdef".utf8)
            buffer.writeString("\\u00")
            buffer.writeInteger(hex[Int(byte >> 4)])
            buffer.writeInteger(hex[Int(byte & 0xF)])
        default: buffer.writeInteger(byte)
        }
    }
}
