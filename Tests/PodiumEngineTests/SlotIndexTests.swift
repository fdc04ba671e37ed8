import Testing

@testable import PodiumEngine

@Suite("Slot index")
struct SlotIndexTests {
    @Test("finds every id through growth and removals that shift probe runs")
    func insertsAndRemoves() {
        var index = SlotIndex()
        var ids: [Int32: String] = [:]
        for slot in Int32(0)..<5000 {
            ids[slot] = "user-\(slot)"
            index.insert("user-\(slot)", slot: slot)
        }
        for slot in stride(from: Int32(0), to: 5000, by: 3) {
            index.remove(ids[slot]!, slot: slot)
            ids[slot] = nil
        }
        #expect(index.count == ids.count)
        for slot in Int32(0)..<5000 {
            let found = index.slot(of: "user-\(slot)") { ids[$0] ?? "" }
            #expect(found == (ids[slot] == nil ? nil : slot))
        }
        #expect(index.slot(of: "nobody") { ids[$0] ?? "" } == nil)
    }
}
