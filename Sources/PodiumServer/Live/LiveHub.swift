import Logging
import NIOCore
import NIOWebSocket
import PodiumEngine
import ServiceLifecycle
import Synchronization

/// The WebSocket hub: connections, their subscriptions, and the coalesced fan-out of
/// board changes to the subscribers whose view changed.
///
/// Lock order: the hub's lock may take a board's lock, never the other way round; score
/// ingestion releases the board before it calls ``publish(gameId:change:)``.
public final class LiveHub: Service, Sendable {
    /// Limits of the hub, with the defaults of seed 004 and this machine.
    public struct Configuration: Sendable {
        /// Open connections per instance (a process may hold 20,000 files here).
        public var maxConnections = 19_000
        /// Connections per signed-in user; opening one more closes the oldest.
        public var maxConnectionsPerUser = 2
        /// Games one connection may subscribe to at once.
        public var maxSubscriptionsPerConnection = 16
        /// Client messages per second per connection (a burst of twice as many is allowed).
        public var messagesPerSecond = 20
        /// Messages written to a client whose socket is backed up before it is dropped as
        /// too slow.
        public var slowClientBudget = 256
        /// At most one update per (game, partition) in this interval.
        public var coalescingInterval = Duration.milliseconds(100)
        /// Kernel send buffer of each live socket, in bytes. Bounded so that a client that
        /// stops reading backs up (and is dropped) instead of holding
        /// megabytes of kernel memory; Linux would otherwise grow it to 4 MiB.
        public var socketSendBufferSize = 128 * 1024
        /// Interval of server pings (seed 004: 30 s).
        public var pingInterval = Duration.seconds(30)
        /// A connection that does not answer a ping within this time is closed (seed 004:
        /// 10 s).
        public var pongTimeout = Duration.seconds(10)

        public init() {}
    }

    let configuration: Configuration
    let leaderboards: LeaderboardService
    let metrics: PodiumMetrics
    let logger: Logger
    /// The fleet's directory of connections, when instances share a store.
    let fleet: FleetConnections?
    let state = Mutex(State())
    private let flushRequests: AsyncStream<String>
    private let flushRequestContinuation: AsyncStream<String>.Continuation

    struct TopicKey: Hashable {
        var gameId: String
        var partition: Partition
    }

    /// The personal subscribers of one player on one game, and the entry they last got.
    struct PersonalTopic {
        var connections: Set<Int> = []
        var lastSent: RankedEntry?
    }

    /// One connection's subscription to one game.
    struct Subscription {
        var partitions: [Partition]
        var personalUserId: String?
    }

    /// Changes waiting for the end of a game's coalescing interval.
    struct PendingFlush {
        var partitions: Set<Partition> = []
        var personal = false
        /// When the first change of this flush was produced.
        var producedAt = ContinuousClock.now
    }

    struct State {
        var nextConnectionId = 1
        var connections: [Int: LiveConnection] = [:]
        var subscriptions: [Int: [String: Subscription]] = [:]
        var topSubscribers: [TopicKey: Set<Int>] = [:]
        /// gameId → userId → topic.
        var personalSubscribers: [String: [String: PersonalTopic]] = [:]
        /// userId → their connections, oldest first.
        var connectionsByUser: [String: [Int]] = [:]
        var pending: [String: PendingFlush] = [:]
        var isShuttingDown = false
    }

    init(
        leaderboards: LeaderboardService, configuration: Configuration = .init(), fleet: FleetConnections? = nil, metrics: PodiumMetrics,
        logger: Logger
    ) {
        self.leaderboards = leaderboards
        self.metrics = metrics
        self.configuration = configuration
        self.logger = logger
        self.fleet = fleet
        (flushRequests, flushRequestContinuation) = AsyncStream.makeStream(of: String.self)
        fleet?.onCloseRequest { [weak self] id in self?.closeReplaced(connectionId: id) }
    }

    /// Open connections.
    public var connectionCount: Int { state.withLock { $0.connections.count } }

    /// Whether another connection may open.
    var acceptsConnections: Bool {
        state.withLock { !$0.isShuttingDown && $0.connections.count < configuration.maxConnections }
    }

    /// Registers a new connection; nil when the instance is full or shutting down. For a
    /// signed-in user already at their limit, their oldest connection is closed.
    /// Call on the channel's event loop.
    func open(userId: String?, channel: any Channel) throws -> LiveConnection? {
        let (connection, replaced) = try state.withLock { state -> (LiveConnection?, LiveConnection?) in
            guard !state.isShuttingDown, state.connections.count < configuration.maxConnections else { return (nil, nil) }
            let connection = try LiveConnection(
                id: state.nextConnectionId, userId: userId, channel: channel, unwritableBudget: configuration.slowClientBudget,
                messagesSent: metrics.webSocketMessages
            )
            state.nextConnectionId += 1
            state.connections[connection.id] = connection
            var replaced: LiveConnection?
            if let userId {
                var ids = state.connectionsByUser[userId, default: []]
                if ids.count >= configuration.maxConnectionsPerUser, let oldest = ids.first {
                    ids.removeFirst()
                    replaced = state.connections[oldest]
                }
                ids.append(connection.id)
                state.connectionsByUser[userId] = ids
            }
            return (connection, replaced)
        }
        replaced?.close(.policyViolation, reason: Self.replacedReason)
        guard let connection else { return nil }
        if let userId { fleet?.opened(id: connection.id, userId: userId) }
        channel.setOption(ChannelOptions.socketOption(.so_sndbuf), value: SocketOptionValue(configuration.socketSendBufferSize))
            .whenFailure { [logger] error in logger.debug("cannot bound the socket send buffer", metadata: ["error": "\(error)"]) }
        metrics.webSocketConnections.increment()
        connection.send(LiveServerMessage.ready)
        return connection
    }

    private static let replacedReason = "Replaced by a newer connection of the same user."

    /// Closes a connection the fleet's per-user cap replaced.
    func closeReplaced(connectionId: Int) {
        state.withLock { $0.connections[connectionId] }?.close(.policyViolation, reason: Self.replacedReason)
    }

    /// Forgets a closed connection and its subscriptions.
    func remove(_ connection: LiveConnection) {
        if let userId = connection.userId { fleet?.closed(id: connection.id, userId: userId) }
        metrics.webSocketConnections.decrement()
        if connection.wasDroppedAsSlow { metrics.slowClientsDropped.increment() }
        state.withLock { state in
            for gameId in state.subscriptions[connection.id, default: [:]].keys {
                Self.unsubscribe(connection.id, from: gameId, in: &state)
            }
            state.subscriptions[connection.id] = nil
            state.connections[connection.id] = nil
            if let userId = connection.userId {
                state.connectionsByUser[userId]?.removeAll { $0 == connection.id }
                if state.connectionsByUser[userId]?.isEmpty == true { state.connectionsByUser[userId] = nil }
            }
        }
    }

    // MARK: Publishing

    /// Notes a board change; subscribers whose view it changed get one coalesced update
    /// at the end of the game's interval.
    func publish(gameId: String, change: BoardChange) {
        guard change.isEffective else { return }
        let isFirst = state.withLock { state -> Bool in
            var pending = state.pending[gameId] ?? PendingFlush()
            var dirty = false
            for partition in change.partitions where partition.topChanged {
                if state.topSubscribers[TopicKey(gameId: gameId, partition: partition.partition)] != nil {
                    pending.partitions.insert(partition.partition)
                    dirty = true
                }
            }
            if state.personalSubscribers[gameId] != nil {
                pending.personal = true
                dirty = true
            }
            guard dirty else { return false }
            let isFirst = state.pending[gameId] == nil
            state.pending[gameId] = pending
            return isFirst
        }
        if isFirst { flushRequestContinuation.yield(gameId) } else { metrics.updatesCoalesced.increment() }
    }

    /// Sends every subscriber of a game its current state at the end of the interval
    /// (after the game was redefined or its board rebuilt).
    func publishEverything(gameId: String) {
        let isFirst = state.withLock { state -> Bool in
            var pending = state.pending[gameId] ?? PendingFlush()
            for key in state.topSubscribers.keys where key.gameId == gameId { pending.partitions.insert(key.partition) }
            if var topics = state.personalSubscribers[gameId] {
                for userId in topics.keys { topics[userId]?.lastSent = nil }
                state.personalSubscribers[gameId] = topics
                pending.personal = true
            }
            let isFirst = state.pending[gameId] == nil
            state.pending[gameId] = pending
            return isFirst
        }
        if isFirst { flushRequestContinuation.yield(gameId) }
    }

    /// Sends the pending updates of one game: each changed partition's top N, encoded once
    /// for all its subscribers, and each personal subscriber's entry if it moved.
    func flush(gameId: String) {
        var producedAt = ContinuousClock.now
        let deliveries = state.withLock { state -> [(LiveConnection, LiveFrame)] in
            guard let pending = state.pending.removeValue(forKey: gameId),
                let gameBoard = try? leaderboards.gameBoard(gameId)
            else { return [] }
            producedAt = pending.producedAt
            var deliveries: [(LiveConnection, LiveFrame)] = []
            for partition in pending.partitions {
                guard let subscribers = state.topSubscribers[TopicKey(gameId: gameId, partition: partition)] else { continue }
                let message = LiveFrame(text: LiveServerMessage.state(gameBoard.topView(of: partition), isUpdate: true))
                deliveries.reserveCapacity(deliveries.count + subscribers.count)
                for id in subscribers { if let connection = state.connections[id] { deliveries.append((connection, message)) } }
            }
            guard pending.personal, var topics = state.personalSubscribers[gameId] else { return deliveries }
            for (userId, topic) in topics {
                let view = gameBoard.personalView(of: userId)
                guard view.entries.first != topic.lastSent else { continue }
                topics[userId]?.lastSent = view.entries.first
                let message = LiveFrame(text: LiveServerMessage.state(view, isUpdate: true))
                for id in topic.connections { if let connection = state.connections[id] { deliveries.append((connection, message)) } }
            }
            state.personalSubscribers[gameId] = topics
            return deliveries
        }
        deliver(deliveries, producedAt: producedAt)
    }

    /// Writes each message to its connection: one task per event loop writes and flushes
    /// all of that loop's connections in one pass, so the fan-out uses every core and
    /// costs a socket write per subscriber, not a task switch. The loop that finishes last
    /// records the fan-out's duration.
    private func deliver(_ deliveries: [(LiveConnection, LiveFrame)], producedAt start: ContinuousClock.Instant) {
        guard !deliveries.isEmpty else { return }
        metrics.webSocketMessages.increment(by: Int64(deliveries.count))
        var byLoop: [ObjectIdentifier: (loop: any EventLoop, deliveries: [(LiveConnection, LiveFrame)])] = [:]
        for delivery in deliveries {
            let loop = delivery.0.eventLoop
            byLoop[ObjectIdentifier(loop), default: (loop, [])].deliveries.append(delivery)
        }
        let loopsWriting = Countdown(byLoop.count)
        for (loop, batch) in byLoop.values {
            loop.execute { [metrics] in
                for (connection, message) in batch where connection.write(message) { connection.flush() }
                if loopsWriting.finishOne() { metrics.fanOutDuration.record(.now - start) }
            }
        }
    }

    /// Pings every connection each interval and closes those that have not answered
    /// within the pong timeout.
    private func pingUntilCancelled() async {
        let pause = configuration.pingInterval > configuration.pongTimeout ? configuration.pingInterval - configuration.pongTimeout : .zero
        while (try? await Task.sleep(for: pause)) != nil {
            let pinged = state.withLock { Array($0.connections.values) }
            for connection in pinged { connection.ping() }
            guard (try? await Task.sleep(for: configuration.pongTimeout)) != nil else { return }
            for connection in pinged { connection.closeIfPingUnanswered() }
        }
    }

    // MARK: Service

    /// Runs the coalescing timers and the pings until graceful shutdown, then closes every
    /// socket with 1001 (going away).
    public func run() async throws {
        await withDiscardingTaskGroup { group in
            group.addTask { await self.pingUntilCancelled() }
            for await gameId in flushRequests.cancelOnGracefulShutdown() {
                group.addTask {
                    try? await Task.sleep(for: self.configuration.coalescingInterval)
                    self.flush(gameId: gameId)
                }
            }
            group.cancelAll()
        }
        let connections = state.withLock { state in
            state.isShuttingDown = true
            return Array(state.connections.values)
        }
        logger.info("closing live connections", metadata: ["count": "\(connections.count)"])
        for connection in connections { connection.close(.goingAway, reason: "The server is shutting down.") }
    }
}

/// Counts down the event loops of one fan-out, to find the last to finish.
private final class Countdown: Sendable {
    private let remaining: Atomic<Int>

    init(_ count: Int) { remaining = Atomic(count) }

    /// Whether this was the last.
    func finishOne() -> Bool { remaining.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 }
}
