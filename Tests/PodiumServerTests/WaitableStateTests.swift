import Testing

@testable import PodiumServer

@Suite("Waitable state: one waiter, woken by every update", .timeLimit(.minutes(1)))
struct WaitableStateTests {
    @Test func whatIsThereAlreadyIsTakenWithoutWaiting() async {
        let state = WaitableState([1, 2])
        let taken = await state.next { items -> [Int]? in
            defer { items.removeAll() }
            return items.isEmpty ? nil : items
        }
        #expect(taken == [1, 2])
        #expect(state.withLock { $0.isEmpty })
    }

    @Test func anUpdateWakesTheWaiter() async {
        let state = WaitableState(0)
        let waiter = Task { await state.next { $0 > 0 ? $0 : nil } }
        state.update { $0 = 7 }
        #expect(await waiter.value == 7)
    }

    /// Ten thousand hand-overs, each one update answered before the next: whenever the
    /// update lands between the waiter's look and its wait, a lost wake-up would leave
    /// both sides waiting past the time limit.
    @Test func noWakeUpIsLostToARace() async {
        let sent = WaitableState<Int?>(nil)
        let received = WaitableState<Int?>(nil)
        let consumer = Task.detached {
            for _ in 0..<10_000 {
                let value = await sent.next { value -> Int? in
                    defer { value = nil }
                    return value
                }
                received.update { $0 = value }
            }
        }
        for value in 0..<10_000 {
            sent.update { $0 = value }
            let echoed = await received.next { echoed -> Int? in
                defer { echoed = nil }
                return echoed
            }
            if echoed != value { Issue.record("sent \(value), got \(echoed)") }
        }
        await consumer.value
    }
}
