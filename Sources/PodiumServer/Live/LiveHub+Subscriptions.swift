import Foundation
import NIOCore
import PodiumEngine

extension LiveHub {
    /// Handles one text message from a client: subscribe, unsubscribe or ping. Replies
    /// (states, pong, errors) are queued on the connection.
    func handle(_ text: String, from connection: LiveConnection) {
        guard connection.dialect == .podium else {
            handleContractMessage(text, from: connection)
            return
        }
        let message: LiveClientMessage
        do {
            message = try JSONDecoder().decode(LiveClientMessage.self, from: Data(text.utf8))
        } catch {
            connection.send(LiveServerMessage.error(code: .badMessage, message: "Messages must be JSON objects with a \"type\"."))
            return
        }
        switch message.type {
        case "ping":
            connection.send(LiveServerMessage.pong)
        case "subscribe":
            if let problem = subscribe(connection, to: message) {
                connection.send(LiveServerMessage.error(code: problem.code, message: problem.message))
            }
        case "unsubscribe":
            guard let gameId = message.gameId else {
                connection.send(LiveServerMessage.error(code: .validationError, message: "unsubscribe needs a gameId."))
                return
            }
            let topic = LeaderboardService.topic(gameId: gameId, period: message.period)
            state.withLock { state in
                Self.unsubscribe(connection.id, from: topic, in: &state)
            }
        default:
            connection.send(
                LiveServerMessage.error(code: .unknownType, message: "Unknown message type '\(message.type)'; use subscribe, unsubscribe or ping.")
            )
        }
    }

    /// Subscribes `connection` to the scopes of one game (replacing an earlier subscription
    /// to that game) and queues one state per scope, skipping scopes whose version the
    /// client already holds. Returns the problem when the request is refused.
    private func subscribe(_ connection: LiveConnection, to message: LiveClientMessage) -> (code: ErrorCode, message: String)? {
        guard let gameId = message.gameId, let scopeNames = message.scopes, !scopeNames.isEmpty else {
            return (.validationError, "subscribe needs a gameId and a non-empty scopes list.")
        }
        var scopes: [LeaderboardScope] = []
        for name in scopeNames {
            guard let scope = LeaderboardScope(rawValue: name) else {
                return (.validationError, "Unknown scope '\(name)'; use global, local or personal.")
            }
            if !scopes.contains(scope) { scopes.append(scope) }
        }
        guard let game = try? leaderboards.game(gameId) else {
            return (.gameNotFound, "There is no game '\(gameId)'.")
        }
        if let period = message.period, period != PeriodSchedule.allTime.name, !game.periodSchedules.contains(where: { $0.name == period }) {
            return (.validationError, "Game '\(gameId)' keeps no period '\(period)'; follow all-time or one of its schedules (daily, weekly, …).")
        }
        let topic = LeaderboardService.topic(gameId: gameId, period: message.period)
        guard let gameBoard = try? leaderboards.gameBoard(topic) else {
            return (.gameNotFound, "There is no game '\(gameId)'.")
        }
        var country: CountryCode?
        if scopes.contains(.local) {
            // Spec 000 leaves countryCode optional: the player's known country, else the default.
            if let code = message.countryCode {
                guard let parsed = CountryCode.assigned(code) else {
                    return (.validationError, "countryCode '\(code)' is not an ISO 3166-1 alpha-2 code.")
                }
                country = parsed
            } else {
                let player = connection.userId ?? message.userId
                country =
                    connection.countryCode ?? player.flatMap { gameBoard.standing(of: $0)?.entry.countryCode }
                    ?? configuration.defaultCountryCode
            }
        }
        var personalUserId: String?
        if scopes.contains(.personal) {
            if let signedIn = connection.userId {
                guard message.userId == nil || message.userId == signedIn else {
                    return (.forbidden, "A signed-in connection may only follow its own personal entry.")
                }
                personalUserId = signedIn
            } else {
                guard let userId = message.userId, !userId.isEmpty, userId.utf8.count <= 128 else {
                    return (.validationError, "The personal scope needs a userId.")
                }
                personalUserId = userId
            }
        }
        let since = message.since ?? [:]
        return state.withLock { state -> (code: ErrorCode, message: String)? in
            let existing = state.subscriptions[connection.id, default: [:]]
            if existing[topic] == nil && existing.count >= configuration.maxSubscriptionsPerConnection {
                return (.subscriptionLimit, "A connection may follow at most \(configuration.maxSubscriptionsPerConnection) games.")
            }
            Self.unsubscribe(connection.id, from: topic, in: &state)
            var subscription = Subscription(partitions: [], personalUserId: personalUserId)
            for scope in scopes {
                let view: LeaderboardView
                switch scope {
                case .global, .local:
                    let partition: Partition = scope == .global ? .global : .local(country!)
                    subscription.partitions.append(partition)
                    view = gameBoard.topView(of: partition)
                    Self.addTopSubscriber(connection.id, to: TopicKey(gameId: topic, partition: partition), seeing: view, in: &state)
                case .personal:
                    view = gameBoard.personalView(of: personalUserId!)
                    // An existing topic keeps its last sent standing, so a pending update still
                    // reaches the player's other connections.
                    var personal = state.personalSubscribers[topic, default: [:]][personalUserId!] ?? PersonalTopic(lastSent: view.standing)
                    personal.connections.insert(connection.id)
                    state.personalSubscribers[topic, default: [:]][personalUserId!] = personal
                }
                if since[scope.rawValue] != view.version {
                    connection.send(LiveServerMessage.state(view, isUpdate: false))
                }
            }
            state.subscriptions[connection.id, default: [:]][topic] = subscription
            return nil
        }
    }

    /// Removes one connection's subscription to one game from every topic.
    static func unsubscribe(_ connectionId: Int, from gameId: String, in state: inout State) {
        guard let subscription = state.subscriptions[connectionId]?.removeValue(forKey: gameId) else { return }
        for partition in subscription.partitions {
            let key = TopicKey(gameId: gameId, partition: partition)
            state.topSubscribers[key]?.remove(connectionId)
            if state.topSubscribers[key]?.isEmpty == true {
                state.topSubscribers[key] = nil
                state.lastSentTop[key] = nil
            }
        }
        if let userId = subscription.personalUserId {
            state.personalSubscribers[gameId]?[userId]?.connections.remove(connectionId)
            if state.personalSubscribers[gameId]?[userId]?.connections.isEmpty == true {
                state.personalSubscribers[gameId]?[userId] = nil
            }
            if state.personalSubscribers[gameId]?.isEmpty == true { state.personalSubscribers[gameId] = nil }
        }
    }

    /// Adds a subscriber to a partition's top; the first one records the top it saw, which
    /// the next update is compared with.
    private static func addTopSubscriber(_ connectionId: Int, to key: TopicKey, seeing view: LeaderboardView, in state: inout State) {
        state.topSubscribers[key, default: []].insert(connectionId)
        if state.lastSentTop[key] == nil { state.lastSentTop[key] = view.entries }
    }

    /// Subscribes a contract connection to the contract game's global top (and, for
    /// spec 003, its own standing) and sends the first state in its dialect.
    func followContractGame(_ connection: LiveConnection) {
        guard let gameId = leaderboards.defaultGame, let gameBoard = try? leaderboards.gameBoard(gameId) else {
            connection.send(connection.dialect.error(code: .gameNotFound, message: "No games are configured."))
            return
        }
        let personalUserId = connection.dialect.followsOwnScore ? connection.userId : nil
        state.withLock { state in
            let key = TopicKey(gameId: gameId, partition: .global)
            let view = gameBoard.topView(of: .global)
            Self.addTopSubscriber(connection.id, to: key, seeing: view, in: &state)
            if let personalUserId {
                var topic = state.personalSubscribers[gameId, default: [:]][personalUserId]
                    ?? PersonalTopic(lastSent: gameBoard.personalView(of: personalUserId).standing)
                topic.connections.insert(connection.id)
                state.personalSubscribers[gameId, default: [:]][personalUserId] = topic
            }
            state.subscriptions[connection.id, default: [:]][gameId] = Subscription(partitions: [.global], personalUserId: personalUserId)
            connection.send(connection.dialect.topMessage(view, previous: nil, isInitial: true))
        }
    }

    /// Answers a contract client's message: its spec's ping, or an error in its shape.
    private func handleContractMessage(_ text: String, from connection: LiveConnection) {
        switch connection.dialect.request(in: text) {
        case .ping: connection.send(connection.dialect.pong)
        case .pong: connection.receivedPong()
        case .nothing: break
        case .unknown(let reason): connection.send(connection.dialect.error(code: .unknownType, message: reason))
        }
    }
}
