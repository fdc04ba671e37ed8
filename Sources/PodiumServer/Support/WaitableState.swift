import Synchronization

/// State under a lock that one task waits on: other tasks change it with ``update(_:)``,
/// which wakes the waiting task to look again, and the waiting task takes what it needs
/// with ``next(_:)``. No wake-up is lost between a look that finds nothing and the wait.
/// The log writer's queue and the follower's wake-ups are kept this way.
final class WaitableState<State: Sendable>: Sendable {
    private struct Storage {
        var state: State
        /// Counts the updates, so a waiter knows whether one came since it looked.
        var updates: UInt64 = 0
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let storage: Mutex<Storage>

    init(_ state: State) {
        storage = Mutex(Storage(state: state))
    }

    /// Reads or changes the state without waking the waiting task.
    func withLock<Result: Sendable>(_ body: (inout State) -> Result) -> Result {
        storage.withLock { storage in body(&storage.state) }
    }

    /// Changes the state and wakes the waiting task, if any, to look again.
    @discardableResult
    func update<Result: Sendable>(_ body: (inout State) -> Result) -> Result {
        let (result, waiter) = storage.withLock { storage -> (Result, CheckedContinuation<Void, Never>?) in
            storage.updates &+= 1
            defer { storage.waiter = nil }
            return (body(&storage.state), storage.waiter)
        }
        waiter?.resume()
        return result
    }

    /// What `take` finds in the state, looking again after each update until it finds
    /// something. One task at a time waits.
    func next<Value: Sendable>(_ take: (inout State) -> Value?) async -> Value {
        while true {
            let (value, updates) = storage.withLock { storage in (take(&storage.state), storage.updates) }
            if let value { return value }
            await withCheckedContinuation { continuation in
                let updated = storage.withLock { storage -> Bool in
                    guard storage.updates == updates else { return true }
                    storage.waiter = continuation
                    return false
                }
                if updated { continuation.resume() }
            }
        }
    }
}
