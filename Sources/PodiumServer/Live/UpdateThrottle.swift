/// Leading edge, then throttle, per topic: the first change after a quiet window is sent
/// at once and opens a window; changes within the window wait for its end and go out
/// together as one update (the caller sends the latest state). A window that ends with a
/// change waiting sends it and opens the next; one that ends with none closes. So a topic
/// gets at most one update per window, and a quiet topic gets its update without delay.
///
/// Pure state: the hub holds it under its lock, sends what the actions say and calls
/// ``windowEnded(_:)`` one interval after each `send`.
struct UpdateThrottle<Topic: Hashable> {
    enum Action: Equatable {
        /// Send the topic's update now and end its window one interval later.
        /// `firstChangeAt`: when the oldest change it carries was made.
        case send(firstChangeAt: ContinuousClock.Instant)
        /// Nothing to do now: the end of the open window sends it. `merged`: the change
        /// joined one that was already waiting.
        case wait(merged: Bool)
        /// The window ended with nothing waiting and is closed.
        case close
    }

    /// Open windows, with the time of the first change waiting for their end (nil: none).
    private var windows: [Topic: ContinuousClock.Instant?] = [:]

    /// Topics whose window is open.
    var openWindows: Int { windows.count }

    /// A change of `topic` made at `now`.
    mutating func changed(_ topic: Topic, at now: ContinuousClock.Instant) -> Action {
        guard let waiting = windows[topic] else {
            windows[topic] = .some(nil)
            return .send(firstChangeAt: now)
        }
        guard waiting == nil else { return .wait(merged: true) }
        windows[topic] = now
        return .wait(merged: false)
    }

    /// The end of `topic`'s window.
    mutating func windowEnded(_ topic: Topic) -> Action {
        guard let waiting = windows[topic], let firstChangeAt = waiting else {
            windows[topic] = nil
            return .close
        }
        windows[topic] = .some(nil)
        return .send(firstChangeAt: firstChangeAt)
    }
}
