/// One player's data, kept together so reading a player costs one or two cache lines.
struct PlayerRow {
    var userId: String
    var displayName: String
    var score: Int64
    var achievedAt: Int64
    var country: CountryCode?
}

/// Every player on one board. A player is addressed by a slot number that stays fixed
/// while it is on the board.
final class PlayerTable {
    private(set) var rows: [PlayerRow] = []
    private var slotsByUserId = SlotIndex()
    private var freeSlots: [Int32] = []

    /// Number of players on the board.
    var count: Int { slotsByUserId.count }

    func slot(of userId: String) -> Int32? {
        rows.withUnsafeBufferPointer { rows in
            slotsByUserId.slot(of: userId) { rows[Int($0)].userId }
        }
    }

    /// Adds a player and returns its slot (reusing the most recently freed one).
    func add(userId: String, displayName: String, country: CountryCode?, score: Int64, achievedAt time: Int64) -> Int32 {
        let row = PlayerRow(userId: userId, displayName: displayName, score: score, achievedAt: time, country: country)
        let slot: Int32
        if let reused = freeSlots.popLast() {
            slot = reused
            rows[Int(reused)] = row
        } else {
            slot = Int32(rows.count)
            rows.append(row)
        }
        slotsByUserId.insert(userId, slot: slot)
        return slot
    }

    func remove(_ slot: Int32) {
        let index = Int(slot)
        slotsByUserId.remove(rows[index].userId, slot: slot)
        rows[index].userId = ""
        rows[index].displayName = ""
        freeSlots.append(slot)
    }

    /// Replaces everything but the user id of the player in `slot`.
    func update(_ slot: Int32, to record: PlayerRecord) {
        let index = Int(slot)
        rows[index].displayName = record.displayName
        rows[index].score = record.score
        rows[index].achievedAt = record.achievedAt
        rows[index].country = record.countryCode
    }

    func reserveCapacity(_ capacity: Int) {
        rows.reserveCapacity(capacity)
        slotsByUserId.reserveCapacity(capacity)
    }

    /// Whether the user id in slot `a` sorts before the one in slot `b` (UTF-8 byte order).
    @inline(__always)
    func userIdPrecedes(_ a: Int32, _ b: Int32) -> Bool {
        rows[Int(a)].userId.utf8.lexicographicallyPrecedes(rows[Int(b)].userId.utf8)
    }

    func userId(_ slot: Int32) -> String { rows[Int(slot)].userId }

    func record(_ slot: Int32) -> PlayerRecord {
        let row = rows[Int(slot)]
        return PlayerRecord(
            userId: row.userId, displayName: row.displayName, countryCode: row.country, score: row.score,
            achievedAt: row.achievedAt
        )
    }
}
