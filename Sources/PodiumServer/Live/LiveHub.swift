import Logging
import NIOCore
import NIOWebSocket
import PodiumEngine
import ServiceLifecycle
import Synchronization

/// The WebSocket hub: connections, their subscriptions, and the fan-out of board changes
/// to the subscribers whose view changed, throttled per topic (``UpdateThrottle``): a
/// quiet topic's change goes out at once, a busy topic's at most once per interval.
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
        /// At most one update per (game, partition), and per game's personal views, in this
        /// interval; the first change after a quiet interval is sent at once.
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
        /// The country of a `local` subscription that names none, when the player's is not
        /// known (spec 000's `DEFAULT_COUNTRY_CODE`).
        public var defaultCountryCode = CountryCode("GB")!

        public init() {}

        /// Sets ``defaultCountryCode`` from an ISO 3166-1 alpha-2 code; false if `code` is not
        /// an assigned one.
        public mutating func setDefaultCountryCode(_ code: String) -> Bool {
            guard let country = CountryCode.assigned(code) else { return false }
            defaultCountryCode = country
            return true
        }
    }

    let configuration: Configuration
    let leaderboards: LeaderboardService
    let metrics: PodiumMetrics
    let logger: Logger
    /// The fleet's directory of connections, when instances share a store.
    let fleet: FleetConnections?
    let state = Mutex(State())
    /// Updates sent at a window's leading edge, whose windows the service task then ends.
    private let flushRequests: AsyncStream<[Send]>
    private let flushRequestContinuation: AsyncStream<[Send]>.Continuation

    struct TopicKey: Hashable {
        var gameId: String
        var partition: Partition
    }

    /// What one live update is about: a partition's top N, or a game's personal views.
    enum UpdateTopic: Hashable {
        case top(TopicKey)
        case personal(gameId: String)
    }

    /// An update to send now, and when the oldest change it carries was made.
    struct Send: Sendable {
        var topic: UpdateTopic
        var firstChangeAt: ContinuousClock.Instant
    }

    /// The personal subscribers of one player on one game, and the standing they last got.
    struct PersonalTopic {
        var connections: Set<Int> = []
        var lastSent: PlayerStanding?
    }

    /// One connection's subscription to one game.
    struct Subscription {
        var partitions: [Partition]
        var personalUserId: String?
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
        var throttle = UpdateThrottle<UpdateTopic>()
        /// The top last sent on each topic, for the contracts' change checks and spec 002's
        /// `changes`.
        var lastSentTop: [TopicKey: [RankedEntry]] = [:]
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
        (flushRequests, flushRequestContinuation) = AsyncStream.makeStream(of: [Send].self)
        fleet?.onCloseRequest { [weak self] id in self?.closeReplaced(connectionId: id) }
    }

    /// Open connections.
    public var connectionCount: Int { state.withLock { $0.connections.count } }

    /// Whether another connection may open.
    var acceptsConnections: Bool {
        state.withLock { !$0.isShuttingDown && $0.connections.count < configuration.maxConnections }
    }

    /// Registers a new connection; nil when the instance is full or shutting down. For a
    /// signed-in user already at their limit, their oldest connection is closed. A
    /// Podium connection is told `ready`; a contract connection follows the contract game
    /// and gets its first state. Call on the channel's event loop.
    func open(identity: Identity?, dialect: LiveDialect = .podium, channel: any Channel) throws -> LiveConnection? {
        let userId = identity?.userId
        let (connection, replaced) = try state.withLock { state -> (LiveConnection?, LiveConnection?) in
            guard !state.isShuttingDown, state.connections.count < configuration.maxConnections else { return (nil, nil) }
            let connection = try LiveConnection(
                id: state.nextConnectionId, userId: userId, countryCode: identity?.countryCode, dialect: dialect, channel: channel,
                unwritableBudget: configuration.slowClientBudget, messagesSent: metrics.webSocketMessages
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
        if dialect.followsContractGame {
            followContractGame(connection)
        } else {
            connection.send(LiveServerMessage.ready)
        }
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

    /// Notes a board change. Subscribers whose view it changed get it at once when their
    /// topic was quiet for an interval, else with the other changes of the interval at its end.
    func publish(gameId: String, change: BoardChange) {
        guard change.isEffective else { return }
        let now = ContinuousClock.now
        let (sends, merged) = state.withLock { state -> ([Send], Bool) in
            var topics: [UpdateTopic] = []
            for partition in change.partitions where partition.topChanged {
                let key = TopicKey(gameId: gameId, partition: partition.partition)
                if state.topSubscribers[key] != nil { topics.append(.top(key)) }
            }
            if state.personalSubscribers[gameId] != nil { topics.append(.personal(gameId: gameId)) }
            return Self.throttle(topics, at: now, in: &state)
        }
        if merged { metrics.updatesCoalesced.increment() }
        if !sends.isEmpty { flushRequestContinuation.yield(sends) }
    }

    /// Sends every subscriber of a game its current state, by the same rule (after the game
    /// was redefined or its board rebuilt).
    func publishEverything(gameId: String) {
        let now = ContinuousClock.now
        let sends = state.withLock { state -> [Send] in
            var topics = state.topSubscribers.keys.filter { $0.gameId == gameId }.map { UpdateTopic.top($0) }
            if var players = state.personalSubscribers[gameId] {
                for userId in players.keys { players[userId]?.lastSent = nil }
                state.personalSubscribers[gameId] = players
                topics.append(.personal(gameId: gameId))
            }
            return Self.throttle(topics, at: now, in: &state).sends
        }
        if !sends.isEmpty { flushRequestContinuation.yield(sends) }
    }

    /// The throttle's answer to changes of `topics`: those to send now, and whether any
    /// change joined one already waiting.
    private static func throttle(_ topics: [UpdateTopic], at now: ContinuousClock.Instant, in state: inout State) -> (sends: [Send], merged: Bool) {
        var sends: [Send] = []
        var merged = false
        for topic in topics {
            switch state.throttle.changed(topic, at: now) {
            case .send(let firstChangeAt): sends.append(Send(topic: topic, firstChangeAt: firstChangeAt))
            case .wait(let joined): merged = merged || joined
            case .close: break
            }
        }
        return (sends, merged)
    }

    /// Ends `topic`'s window: sends what waited for it. Returns whether a new window opened.
    private func endWindow(of topic: UpdateTopic) -> Bool {
        let action = state.withLock { $0.throttle.windowEnded(topic) }
        guard case .send(let firstChangeAt) = action else { return false }
        flush([Send(topic: topic, firstChangeAt: firstChangeAt)])
        return true
    }

    /// Sends the current state of each topic: a partition's top N, encoded once for all its
    /// subscribers; each personal subscriber's standing if it changed since they last got it.
    func flush(_ sends: [Send]) {
        guard let producedAt = sends.map(\.firstChangeAt).min() else { return }
        let deliveries = state.withLock { state -> [(LiveConnection, LiveFrame)] in
            var deliveries: [(LiveConnection, LiveFrame)] = []
            for send in sends {
                switch send.topic {
                case .top(let key):
                    guard let subscribers = state.topSubscribers[key], let gameBoard = try? leaderboards.gameBoard(key.gameId) else { continue }
                    let view = gameBoard.topView(of: key.partition)
                    let previous = state.lastSentTop.updateValue(view.entries, forKey: key)
                    // Contracts push their top 10 only when it changed (not ranks past it).
                    let contractsSee = previous.map { view.entries.topDiffers(from: $0, count: LiveDialect.contractTopCount) } ?? true
                    let podiumMessage = LiveFrame(text: LiveServerMessage.state(view, isUpdate: true))
                    var contractMessages: [LiveDialect: LiveFrame] = [:]
                    deliveries.reserveCapacity(deliveries.count + subscribers.count)
                    for id in subscribers {
                        guard let connection = state.connections[id] else { continue }
                        let dialect = connection.dialect
                        guard dialect != .podium else {
                            deliveries.append((connection, podiumMessage))
                            continue
                        }
                        guard contractsSee else { continue }
                        let message = contractMessages[dialect] ?? LiveFrame(text: dialect.topMessage(view, previous: previous, isInitial: false))
                        contractMessages[dialect] = message
                        deliveries.append((connection, message))
                    }
                case .personal(let gameId):
                    guard var players = state.personalSubscribers[gameId], let gameBoard = try? leaderboards.gameBoard(gameId) else { continue }
                    for (userId, topic) in players {
                        let view = gameBoard.personalView(of: userId)
                        guard view.standing != topic.lastSent else { continue }
                        players[userId]?.lastSent = view.standing
                        var messages: [LiveDialect: LiveFrame?] = [:]
                        for id in topic.connections {
                            guard let connection = state.connections[id] else { continue }
                            let message =
                                messages[connection.dialect]
                                ?? connection.dialect.personalMessage(view, previous: topic.lastSent).map(LiveFrame.init(text:))
                            messages[connection.dialect] = message
                            if let message { deliveries.append((connection, message)) }
                        }
                    }
                    state.personalSubscribers[gameId] = players
                }
            }
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

    /// Sends leading-edge updates, runs one timer per open window and the pings until
    /// graceful shutdown (open windows then end at once, sending what waits), then closes
    /// every socket with 1001 (going away).
    public func run() async throws {
        await withDiscardingTaskGroup { group in
            group.addTask { await self.pingUntilCancelled() }
            for await sends in flushRequests.cancelOnGracefulShutdown() {
                flush(sends)
                for send in sends {
                    group.addTask {
                        repeat { try? await Task.sleep(for: self.configuration.coalescingInterval) } while self.endWindow(of: send.topic)
                    }
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
