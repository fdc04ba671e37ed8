extension Board {
    private static let snapshotMagic = Array("PODIUMB2".utf8)

    /// The whole board in a canonical binary form: the same state always encodes to the
    /// same bytes, whatever order of events built it.
    public func snapshot() -> [UInt8] {
        var writer = ByteWriter()
        writer.reserveCapacity(64 + players.count * 48)
        for byte in Self.snapshotMagic { writer.writeByte(byte) }
        writer.writeByte(configuration.sortOrder == .desc ? 0 : 1)
        writer.writeUInt64(version)
        writer.writeUInt64(versionFloor)
        let partitions = topVersions.keys.sorted { Self.partitionTag($0) < Self.partitionTag($1) }
        writer.writeUInt64(UInt64(partitions.count))
        for partition in partitions {
            writer.writeUInt16(Self.partitionTag(partition))
            writer.writeUInt64(topVersions[partition]!)
        }
        writer.writeUInt64(UInt64(global.count))
        global.forEach(fromRank: 0, limit: global.count) { key in
            let row = players.rows[Int(key.player)]
            writer.writeString(row.userId)
            writer.writeString(row.displayName)
            writer.writeUInt16(row.country?.rawValue ?? 0)
            writer.writeInt64(row.score)
            writer.writeInt64(row.achievedAt)
        }
        return writer.bytes
    }

    /// Restores a board from ``snapshot()`` bytes in O(n).
    ///
    /// - Throws: ``BoardError/invalidSnapshot(_:)`` for damaged bytes, or a snapshot taken
    ///   under another sort order.
    public convenience init(configuration: BoardConfiguration, snapshot bytes: [UInt8]) throws(BoardError) {
        try self.init(configuration: configuration, snapshot: bytes, nodeWidth: RankTree.defaultWidth)
    }

    convenience init(configuration: BoardConfiguration, snapshot bytes: [UInt8], nodeWidth: Int) throws(BoardError) {
        self.init(configuration: configuration, nodeWidth: nodeWidth)
        var reader = ByteReader(bytes)
        for byte in Self.snapshotMagic where reader.readByte() != byte {
            throw .invalidSnapshot("not a Podium board snapshot")
        }
        guard let order = reader.readByte(), order == (configuration.sortOrder == .desc ? 0 : 1) else {
            throw .invalidSnapshot("taken under another sort order")
        }
        guard let version = reader.readUInt64(), let floor = reader.readUInt64(), let partitionCount = reader.readUInt64() else {
            throw .invalidSnapshot("truncated header")
        }
        self.version = version
        self.versionFloor = floor
        for _ in 0..<partitionCount {
            guard let tag = reader.readUInt16(), let topVersion = reader.readUInt64() else {
                throw .invalidSnapshot("truncated partition versions")
            }
            guard let partition = Self.partition(tag: tag) else { throw .invalidSnapshot("unknown partition \(tag)") }
            topVersions[partition] = topVersion
        }
        guard let playerCount = reader.readUInt64(), playerCount <= UInt64(bytes.count) else {
            throw .invalidSnapshot("truncated player count")
        }
        players.reserveCapacity(Int(playerCount))
        var globalKeys: [RankKey] = []
        globalKeys.reserveCapacity(Int(playerCount))
        var localKeys: [CountryCode: [RankKey]] = [:]
        for _ in 0..<playerCount {
            guard let userId = reader.readString(), let displayName = reader.readString(),
                let countryTag = reader.readUInt16(), let score = reader.readInt64(), let achievedAt = reader.readInt64()
            else { throw .invalidSnapshot("truncated player") }
            let country = CountryCode(rawValue: countryTag)
            guard countryTag == 0 || country != nil else { throw .invalidSnapshot("bad country code") }
            guard players.slot(of: userId) == nil else { throw .invalidSnapshot("player \(userId) appears twice") }
            let slot = players.add(userId: userId, displayName: displayName, country: country, score: score, achievedAt: achievedAt)
            let key = key(of: slot)
            if let previous = globalKeys.last, !global.precedes(previous, key) {
                throw .invalidSnapshot("players out of order")
            }
            globalKeys.append(key)
            if let country { localKeys[country, default: []].append(key) }
        }
        guard reader.isAtEnd else { throw .invalidSnapshot("trailing bytes") }
        global.load(sorted: globalKeys)
        for (country, keys) in localKeys {
            localTree(creating: country).load(sorted: keys)
        }
    }

    private static func partitionTag(_ partition: Partition) -> UInt16 {
        switch partition {
        case .global: 0
        case .local(let country): country.rawValue
        }
    }

    private static func partition(tag: UInt16) -> Partition? {
        if tag == 0 { return .global }
        return CountryCode(rawValue: tag).map { .local($0) }
    }
}
