import NIOCore
import NIOHTTP1

extension HTTPConnectionGuard {
    /// The request cycle of one HTTP/1.1 connection as its deadlines and error answers see
    /// it: whether it waits for a request, reads a head or a body, or waits for the router;
    /// which deadline holds; and how it ends when a request cannot be read.
    struct StateMachine {
        enum Action: Equatable {
            case none
            /// Arm the timer for this deadline (the current one, if it is earlier, still
            /// fires and asks again).
            case schedule(NIODeadline)
            /// Pass the parse error on: it belongs to a request the router is reading,
            /// which answers it.
            case forward
            /// Answer with this error, then close.
            case answer(APIError)
            /// A body the router is reading did not arrive in time: fail its stream (its
            /// handler must not take what arrived for the whole body), answer with the
            /// error if there is one, then close.
            case cutBody(answer: APIError?)
            /// Close once the router's answer has gone out.
            case closeAfterAnswer
            /// Close at once, without an answer.
            case close
        }

        private enum Phase: Equatable {
            /// No byte of the next request yet.
            case waiting
            case readingHead
            /// The head was passed on; the body is still arriving.
            case readingBody
            /// Answered or closed: nothing more is read.
            case closing
        }

        private enum Ending {
            case close
            case answer(APIError)
        }

        let limits: HTTPConnectionLimits
        private var phase = Phase.waiting
        private var deadline: NIODeadline?
        private var isFirstRequest = true
        /// Requests passed on whose response has not ended.
        private var unanswered = 0
        /// Whether a response head was written and its end was not.
        private var isResponding = false
        /// How the connection ends once the unanswered requests are answered.
        private var ending: Ending?
        /// Whether the connection ends with the request being read (HTTP/1.0 without
        /// keep-alive, or `Connection: close`).
        private var endsWithThisRequest = false
        /// For each request passed on and not yet answered, in order: whether its answer
        /// must say `Connection: keep-alive` (an HTTP/1.0 client that asked for it assumes
        /// the connection closes otherwise).
        private var keepAliveEchoes: [Bool] = []
        /// When the body being read is due with none of it arrived, and how much arrived.
        private var bodyDeadline: NIODeadline?
        private var bodyBytes = 0

        init(limits: HTTPConnectionLimits) {
            self.limits = limits
        }

        /// Whether the connection is ending: what it still sends is dropped.
        var isClosing: Bool { phase == .closing }

        /// The connection opened: its first request head must arrive in full within the
        /// head timeout.
        mutating func opened(now: NIODeadline) -> Action {
            schedule(now + TimeAmount(limits.headTimeout))
        }

        /// Bytes arrived: the first byte of a request starts its head timeout (the first
        /// request's runs from the connection's opening).
        mutating func bytesReceived(now: NIODeadline) -> Action {
            guard phase == .waiting else { return .none }
            phase = .readingHead
            guard !isFirstRequest else { return .none }
            return schedule(now + TimeAmount(limits.headTimeout))
        }

        /// A request head arrived; `keepAlive` false when the connection ends with this
        /// request (nothing after it is read, and it closes once the request is answered);
        /// `http10` for an HTTP/1.0 request.
        mutating func headReceived(now: NIODeadline, keepAlive: Bool = true, http10: Bool = false) -> Action {
            guard phase != .closing else { return .none }
            isFirstRequest = false
            phase = .readingBody
            unanswered += 1
            keepAliveEchoes.append(http10 && keepAlive)
            endsWithThisRequest = !keepAlive
            bodyDeadline = now + TimeAmount(limits.bodyTimeout)
            bodyBytes = 0
            return schedule(bodyDeadline!)
        }

        /// `count` bytes of the body arrived: its deadline moves on by the time they earn
        /// at `bodyBytesPerSecond` (an armed timer that fires before it asks again).
        mutating func bodyReceived(count: Int) {
            guard phase == .readingBody, let bodyDeadline else { return }
            bodyBytes += count
            let earned = Int64(bodyBytes) * 1_000_000_000 / Int64(max(limits.bodyBytesPerSecond, 1))
            deadline = bodyDeadline + .nanoseconds(earned)
        }

        /// The request ended: no deadline while the router answers it. A request that ends
        /// the connection closes it once answered (at once if it already is).
        mutating func endReceived() -> Action {
            guard phase == .readingBody else { return .none }
            deadline = nil
            bodyDeadline = nil
            guard endsWithThisRequest else {
                phase = .waiting
                return .none
            }
            phase = .closing
            guard unanswered > 0 else { return .closeAfterAnswer }
            if ending == nil { ending = .close }
            return .none
        }

        /// A final response head is going out; true when it must carry `Connection:
        /// keep-alive` (its request is HTTP/1.0 with keep-alive).
        mutating func responseHeadSent() -> Bool {
            isResponding = true
            return keepAliveEchoes.isEmpty ? false : keepAliveEchoes.removeFirst()
        }

        /// A response ended: once every request is answered, the connection either ends
        /// as it must or waits for the next request within the idle timeout.
        mutating func responseEnded(now: NIODeadline) -> Action {
            isResponding = false
            unanswered = max(unanswered - 1, 0)
            guard unanswered == 0 else { return .none }
            if let ending {
                self.ending = nil
                switch ending {
                case .close: return .closeAfterAnswer
                case .answer(let error): return .answer(error)
                }
            }
            guard phase == .waiting else { return .none }
            return schedule(now + TimeAmount(limits.idleTimeout))
        }

        /// The timer fired: past the deadline, an idle connection is closed and a request
        /// still arriving is answered 408 (when no other response is due first).
        mutating func timerFired(now: NIODeadline) -> Action {
            guard phase != .closing, let deadline else { return .none }
            guard now >= deadline else { return .schedule(deadline) }
            let reading = phase
            phase = .closing
            self.deadline = nil
            let timeout = APIError(.requestTimeout, "The request took too long to arrive.")
            switch reading {
            case .readingHead where unanswered == 0: return .answer(timeout)
            case .readingBody: return .cutBody(answer: unanswered == 1 && !isResponding ? timeout : nil)
            default: return .close
            }
        }

        /// The request could not be parsed: a request the router is still reading gets its
        /// answer from the router; any other is answered here, after the responses due
        /// before it.
        /// Either way the connection then closes.
        mutating func parseError(_ error: HTTPParserError) -> Action {
            guard phase != .closing else { return .none }
            let reading = phase
            phase = .closing
            deadline = nil
            if reading == .readingBody, unanswered > 0 {
                ending = .close
                return .forward
            }
            let answer = Self.answer(to: error, limits: limits)
            guard unanswered == 0 else {
                ending = .answer(answer)
                return .none
            }
            return .answer(answer)
        }

        static func answer(to error: HTTPParserError, limits: HTTPConnectionLimits) -> APIError {
            switch error {
            case .headerOverflow:
                APIError(.headersTooLarge, "The request head is larger than \(limits.maxHeadSize) bytes.")
            default:
                APIError(.badRequest, "The request could not be read: \(error).")
            }
        }

        private mutating func schedule(_ deadline: NIODeadline) -> Action {
            self.deadline = deadline
            return .schedule(deadline)
        }
    }
}
