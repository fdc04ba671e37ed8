/// The position a page cursor resumes after, encoded as opaque base64url text.
struct CursorPosition: Equatable {
    static let formatTag: UInt8 = 1

    var sortScore: Int64
    var achievedAt: Int64
    var userId: String

    init(sortScore: Int64, achievedAt: Int64, userId: String) {
        self.sortScore = sortScore
        self.achievedAt = achievedAt
        self.userId = userId
    }

    init(_ text: String) throws(BoardError) {
        guard let bytes = Base64URL.decode(text) else { throw .invalidCursor }
        var reader = ByteReader(bytes)
        guard reader.readByte() == Self.formatTag,
            let sortScore = reader.readInt64(),
            let achievedAt = reader.readInt64(),
            let userId = reader.readString(),
            reader.isAtEnd
        else { throw .invalidCursor }
        self.init(sortScore: sortScore, achievedAt: achievedAt, userId: userId)
    }

    var encoded: String {
        var writer = ByteWriter()
        writer.writeByte(Self.formatTag)
        writer.writeInt64(sortScore)
        writer.writeInt64(achievedAt)
        writer.writeString(userId)
        return Base64URL.encode(writer.bytes)
    }
}
