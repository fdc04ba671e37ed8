/// Every player on one board, stored column by column so a player costs a few dozen
/// bytes. A player is addressed by a slot number that stays fixed while it is on the board.
final class PlayerTable {
    private(set) var userIds: [String] = []
    var displayNames: [String] = []
    var countries: [CountryCode?] = []
    var scores: [Int64] = []
    var achievedAt: [Int64] = []
    private var slotsByUserId: [String: Int32] = [:]
    private var freeSlots: [Int32] = []

    /// Number of players on the board.
    var count: Int { slotsByUserId.count }

    func slot(of userId: String) -> Int32? { slotsByUserId[userId] }

    /// Adds a player and returns its slot (reusing the most recently freed one).
    func add(userId: String, displayName: String, country: CountryCode?, score: Int64, achievedAt time: Int64) -> Int32 {
        let slot: Int32
        if let reused = freeSlots.popLast() {
            slot = reused
            let index = Int(reused)
            userIds[index] = userId
            displayNames[index] = displayName
            countries[index] = country
            scores[index] = score
            achievedAt[index] = time
        } else {
            slot = Int32(userIds.count)
            userIds.append(userId)
            displayNames.append(displayName)
            countries.append(country)
            scores.append(score)
            achievedAt.append(time)
        }
        slotsByUserId[userId] = slot
        return slot
    }

    func remove(_ slot: Int32) {
        let index = Int(slot)
        slotsByUserId[userIds[index]] = nil
        userIds[index] = ""
        displayNames[index] = ""
        freeSlots.append(slot)
    }

    func reserveCapacity(_ capacity: Int) {
        userIds.reserveCapacity(capacity)
        displayNames.reserveCapacity(capacity)
        countries.reserveCapacity(capacity)
        scores.reserveCapacity(capacity)
        achievedAt.reserveCapacity(capacity)
        slotsByUserId.reserveCapacity(capacity)
    }

    /// Whether the user id in slot `a` sorts before the one in slot `b` (UTF-8 byte order).
    @inline(__always)
    func userIdPrecedes(_ a: Int32, _ b: Int32) -> Bool {
        userIds[Int(a)].utf8.lexicographicallyPrecedes(userIds[Int(b)].utf8)
    }

    func userId(_ slot: Int32) -> String { userIds[Int(slot)] }

    func record(_ slot: Int32) -> PlayerRecord {
        let index = Int(slot)
        return PlayerRecord(
            userId: userIds[index], displayName: displayNames[index], countryCode: countries[index],
            score: scores[index], achievedAt: achievedAt[index]
        )
    }
}
