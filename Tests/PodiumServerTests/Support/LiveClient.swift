import Foundation
import HTTPTypes
import HummingbirdWSClient
import Logging
import NIOWebSocket

/// A real WebSocket client of `/ws` that records what the server sends.
final class LiveClient: Sendable {
    enum Event: Sendable {
        case message(String)
        case closed(WebSocketErrorCode?)
    }

    private let box: EventBox
    private let outgoing: AsyncStream<String>.Continuation
    private let task: Task<Void, Never>

    private init(box: EventBox, outgoing: AsyncStream<String>.Continuation, task: Task<Void, Never>) {
        self.box = box
        self.outgoing = outgoing
        self.task = task
    }

    /// Connects to `/ws` and waits for the server's `ready`.
    static func connect(port: Int, query: String = "", maxFrameSize: Int = 1 << 16) async throws -> LiveClient {
        let client = try await open(port: port, path: "/ws", query: query, maxFrameSize: maxFrameSize)
        let ready = try await client.nextMessage()
        guard ready["type"] as? String == "ready" else { throw TestFailure("expected ready, got \(ready)") }
        return client
    }

    /// Connects to `path` (a contract's socket) with `headers`, waiting for nothing.
    static func open(
        port: Int, path: String, query: String = "", headers: HTTPFields = [:], maxFrameSize: Int = 1 << 16
    ) async throws -> LiveClient {
        let (messages, outgoing) = AsyncStream.makeStream(of: String.self)
        let box = EventBox()
        let task = Task {
            let close = try? await WebSocketClient.connect(
                url: "ws://127.0.0.1:\(port)\(path)\(query)",
                configuration: .init(maxFrameSize: maxFrameSize, additionalHeaders: headers, autoPing: .disabled),
                logger: Logger(label: "live-client")
            ) { inbound, outbound, _ in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        for await text in messages { try await outbound.write(.text(text)) }
                    }
                    for try await message in inbound.messages(maxSize: 1 << 22) {
                        if case .text(let text) = message { await box.push(.message(text)) }
                    }
                    group.cancelAll()
                }
            }
            await box.push(.closed(close?.closeCode))
        }
        return LiveClient(box: box, outgoing: outgoing, task: task)
    }

    func send(_ text: String) { outgoing.yield(text) }

    /// The next event, or nil after `timeout`.
    func nextEvent(timeout: Duration = .seconds(10)) async -> Event? {
        await box.next(timeout: timeout)
    }

    /// The next message as a JSON object; fails on timeout or close.
    func nextMessage(timeout: Duration = .seconds(10)) async throws -> [String: Any] {
        switch await nextEvent(timeout: timeout) {
        case .message(let text): return try JSON.object(text)
        case .closed(let code): throw TestFailure("connection closed (\(String(describing: code))) while waiting for a message")
        case nil: throw TestFailure("no message within \(timeout)")
        }
    }

    /// The first message that satisfies `condition`, skipping the others; fails when none
    /// comes within `timeout` of the last one.
    func nextMessage(timeout: Duration = .seconds(10), where condition: ([String: Any]) -> Bool) async throws -> [String: Any] {
        while true {
            let message = try await nextMessage(timeout: timeout)
            if condition(message) { return message }
        }
    }

    /// Messages that arrive within `window`.
    func messages(within window: Duration) async throws -> [[String: Any]] {
        var collected: [[String: Any]] = []
        let deadline = ContinuousClock.now + window
        while ContinuousClock.now < deadline {
            guard case .message(let text) = await nextEvent(timeout: deadline - ContinuousClock.now) else { break }
            collected.append(try JSON.object(text))
        }
        return collected
    }

    /// Waits for the connection to close and returns its close code.
    func closeCode(timeout: Duration = .seconds(5)) async throws -> WebSocketErrorCode? {
        while true {
            switch await nextEvent(timeout: timeout) {
            case .message: continue
            case .closed(let code): return code
            case nil: throw TestFailure("the connection did not close within \(timeout)")
            }
        }
    }

    func close() {
        outgoing.finish()
        task.cancel()
    }
}

/// Events in arrival order, with a wait that gives up after a timeout.
actor EventBox {
    private var events: [LiveClient.Event] = []
    private var waiter: (id: Int, continuation: CheckedContinuation<LiveClient.Event?, Never>)?
    private var nextWaiterId = 0

    func push(_ event: LiveClient.Event) {
        if let waiter {
            self.waiter = nil
            waiter.continuation.resume(returning: event)
        } else {
            events.append(event)
        }
    }

    func next(timeout: Duration) async -> LiveClient.Event? {
        if !events.isEmpty { return events.removeFirst() }
        nextWaiterId += 1
        let id = nextWaiterId
        return await withCheckedContinuation { continuation in
            waiter = (id, continuation)
            Task {
                try? await Task.sleep(for: timeout)
                self.expire(id)
            }
        }
    }

    private func expire(_ id: Int) {
        guard let waiter, waiter.id == id else { return }
        self.waiter = nil
        waiter.continuation.resume(returning: nil)
    }
}
