import Testing

@testable import PodiumServer

/// The leading-edge throttle of live updates, without sockets or clocks.
@Suite("Update throttle: leading edge, then one update per window")
struct UpdateThrottleTests {
    let start = ContinuousClock.now

    func at(_ milliseconds: Int) -> ContinuousClock.Instant { start + .milliseconds(milliseconds) }

    @Test func theFirstChangeOfAQuietTopicIsSentAtOnce() {
        var throttle = UpdateThrottle<String>()
        #expect(throttle.changed("global", at: at(0)) == .send(firstChangeAt: at(0)))
        #expect(throttle.openWindows == 1)
    }

    @Test func changesWithinTheWindowWaitForItsEndAndGoOutOnce() {
        var throttle = UpdateThrottle<String>()
        _ = throttle.changed("global", at: at(0))
        #expect(throttle.changed("global", at: at(10)) == .wait(merged: false))
        for time in 11..<30 { #expect(throttle.changed("global", at: at(time)) == .wait(merged: true)) }
        #expect(throttle.windowEnded("global") == .send(firstChangeAt: at(10)), "one update, timed from its oldest change")
        #expect(throttle.windowEnded("global") == .close, "a window with nothing waiting closes")
        #expect(throttle.openWindows == 0)
    }

    @Test func aQuietWindowClosesAndTheNextChangeIsSentAtOnce() {
        var throttle = UpdateThrottle<String>()
        _ = throttle.changed("global", at: at(0))
        #expect(throttle.windowEnded("global") == .close)
        #expect(throttle.changed("global", at: at(500)) == .send(firstChangeAt: at(500)))
    }

    @Test func aStormSendsOneUpdatePerWindow() {
        var throttle = UpdateThrottle<String>()
        var sent = 0
        for window in 0..<10 {
            for change in 0..<50 {
                if case .send = throttle.changed("global", at: at(window * 100 + change * 2)) { sent += 1 }
            }
            if case .send = throttle.windowEnded("global") { sent += 1 }
        }
        #expect(sent == 11, "the leading edge, then one at the end of each of the ten windows")
    }

    @Test func topicsHaveTheirOwnWindows() {
        var throttle = UpdateThrottle<String>()
        _ = throttle.changed("global", at: at(0))
        _ = throttle.changed("global", at: at(1))
        #expect(throttle.changed("local:GB", at: at(2)) == .send(firstChangeAt: at(2)), "a busy board does not delay a quiet one")
        #expect(throttle.windowEnded("local:GB") == .close)
        #expect(throttle.windowEnded("global") == .send(firstChangeAt: at(1)))
    }
}
