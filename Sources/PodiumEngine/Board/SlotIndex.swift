/// The slots of a ``PlayerTable`` by user id: an open-addressing hash table with linear
/// probing, at most half full.
///
/// A bucket is one word: 32 bits of the id's (seeded) hash and the slot + 1 (0: empty).
/// A lookup reads one bucket, usually in one cache line, and compares user ids only on a
/// hash match; growing rehashes from the stored bits without touching the ids.
struct SlotIndex {
    private var buckets: [UInt64] = Array(repeating: 0, count: 16)
    private var mask = 15
    private(set) var count = 0

    @inline(__always)
    private static func hash(_ userId: String) -> UInt64 { UInt64(UInt32(truncatingIfNeeded: userId.hashValue)) }

    @inline(__always)
    private static func bucket(hash: UInt64, slot: Int32) -> UInt64 { hash << 32 | UInt64(UInt32(slot) + 1) }

    /// The slot of `userId`; `userIdAt` gives the id held by a slot.
    @inline(__always)
    func slot(of userId: String, userIdAt: (Int32) -> String) -> Int32? {
        let hash = Self.hash(userId)
        return buckets.withUnsafeBufferPointer { buckets in
            var position = Int(truncatingIfNeeded: hash) & mask
            while true {
                let bucket = buckets[position]
                if bucket == 0 { return nil }
                if bucket >> 32 == hash {
                    let slot = Int32(truncatingIfNeeded: bucket & 0xFFFF_FFFF) - 1
                    if userIdAt(slot) == userId { return slot }
                }
                position = (position + 1) & mask
            }
        }
    }

    /// Adds `userId`, which must not be present, at `slot`.
    mutating func insert(_ userId: String, slot: Int32) {
        if (count + 1) * 2 > buckets.count { grow() }
        place(Self.bucket(hash: Self.hash(userId), slot: slot))
        count += 1
    }

    /// Removes `userId`, which must be present at `slot`, shifting later buckets of its
    /// probe run back so no tombstone is left.
    mutating func remove(_ userId: String, slot: Int32) {
        let target = Self.bucket(hash: Self.hash(userId), slot: slot)
        var hole = Int(truncatingIfNeeded: target >> 32) & mask
        while buckets[hole] != target { hole = (hole + 1) & mask }
        var position = hole
        while true {
            position = (position + 1) & mask
            let bucket = buckets[position]
            if bucket == 0 { break }
            let home = Int(truncatingIfNeeded: bucket >> 32) & mask
            // Move the bucket into the hole unless its home lies cyclically in (hole, position].
            if (position - home) & mask >= (position - hole) & mask {
                buckets[hole] = bucket
                hole = position
            }
        }
        buckets[hole] = 0
        count -= 1
    }

    mutating func reserveCapacity(_ capacity: Int) {
        while capacity * 2 > buckets.count { grow() }
    }

    private mutating func place(_ bucket: UInt64) {
        var position = Int(truncatingIfNeeded: bucket >> 32) & mask
        while buckets[position] != 0 { position = (position + 1) & mask }
        buckets[position] = bucket
    }

    private mutating func grow() {
        let old = buckets
        buckets = Array(repeating: 0, count: old.count * 2)
        mask = buckets.count - 1
        for bucket in old where bucket != 0 { place(bucket) }
    }
}
