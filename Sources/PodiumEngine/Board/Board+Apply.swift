extension Board {
    /// Applies one score event with the board's operator and reports what changed. The
    /// board's version becomes the next integer.
    ///
    /// - Throws: ``BoardError/scoreOutOfRange(score:maxScore:)`` above `maxScore`,
    ///   ``BoardError/scoreOverflow(current:increment:)`` when an `incr` total would overflow.
    @discardableResult
    public func apply(_ event: ScoreEvent) throws(BoardError) -> BoardChange {
        try apply(event, version: version + 1)
    }

    /// Applies one score event and, if it changed the board, makes `version` the board's
    /// version (a log position, above the current version) and that of every top N it changed.
    ///
    /// - Throws: as ``apply(_:)``.
    @discardableResult
    public func apply(_ event: ScoreEvent, version newVersion: UInt64) throws(BoardError) -> BoardChange {
        if let maxScore = configuration.maxScore, event.score > maxScore {
            throw .scoreOutOfRange(score: event.score, maxScore: maxScore)
        }
        guard let slot = players.slot(of: event.userId) else {
            let slot = players.add(
                userId: event.userId, displayName: event.displayName, country: event.countryCode,
                score: event.score, achievedAt: event.achievedAt
            )
            let ranks = insertIntoTrees(slot)
            return commit(slot: slot, previous: nil, previousRanks: nil, ranks: ranks, version: newVersion)
        }
        let previous = players.record(slot)
        let (score, achievedAt) = try combine(previous, with: event)
        let current = PlayerRecord(
            userId: previous.userId,
            displayName: event.displayName.isEmpty ? previous.displayName : event.displayName,
            countryCode: event.countryCode ?? previous.countryCode,
            score: score,
            achievedAt: achievedAt
        )
        guard current != previous else {
            return BoardChange(userId: event.userId, previous: previous, current: current, partitions: [], version: version)
        }
        guard current.score != previous.score || current.achievedAt != previous.achievedAt || current.countryCode != previous.countryCode
        else {
            players.update(slot, to: current)
            let ranks = ranks(of: slot)
            return commit(slot: slot, previous: previous, previousRanks: ranks, ranks: ranks, version: newVersion)
        }
        guard current.countryCode == previous.countryCode else {
            let previousRanks = removeFromTrees(slot)
            players.update(slot, to: current)
            return commit(slot: slot, previous: previous, previousRanks: previousRanks, ranks: insertIntoTrees(slot), version: newVersion)
        }
        let previousKey = key(of: slot)
        players.update(slot, to: current)
        let (previousRanks, ranks) = moveInTrees(slot, from: previousKey)
        return commit(slot: slot, previous: previous, previousRanks: previousRanks, ranks: ranks, version: newVersion)
    }

    /// Removes a player from every partition (moderation); nil if they are not on the board.
    @discardableResult
    public func remove(userId: String) -> BoardChange? {
        remove(userId: userId, version: version + 1)
    }

    /// Removes a player; `version` becomes the board's version as in ``apply(_:version:)``.
    @discardableResult
    public func remove(userId: String, version newVersion: UInt64) -> BoardChange? {
        guard let slot = players.slot(of: userId) else { return nil }
        let previous = players.record(slot)
        let previousRanks = removeFromTrees(slot)
        players.remove(slot)
        version = newVersion
        var partitions = [partitionChange(.global, from: previousRanks.global, to: nil)]
        if let country = previous.countryCode {
            partitions.append(partitionChange(.local(country), from: previousRanks.local, to: nil))
        }
        return BoardChange(userId: userId, previous: previous, current: nil, partitions: partitions, version: version)
    }

    /// The score and time after combining `event` into `previous` with the board's operator.
    private func combine(_ previous: PlayerRecord, with event: ScoreEvent) throws(BoardError) -> (Int64, Int64) {
        switch configuration.scoreOperator {
        case .best:
            let newKey = (configuration.sortScore(event.score), event.achievedAt)
            let oldKey = (configuration.sortScore(previous.score), previous.achievedAt)
            return newKey < oldKey ? (event.score, event.achievedAt) : (previous.score, previous.achievedAt)
        case .incr:
            let (total, overflow) = previous.score.addingReportingOverflow(event.score)
            if overflow { throw .scoreOverflow(current: previous.score, increment: event.score) }
            return (total, event.achievedAt)
        case .set:
            return (event.score, event.achievedAt)
        }
    }

    /// Sets the version and describes the effective change of the player in `slot`.
    private func commit(slot: Int32, previous: PlayerRecord?, previousRanks: Ranks?, ranks: Ranks, version newVersion: UInt64) -> BoardChange {
        version = newVersion
        let current = players.record(slot)
        var partitions = [partitionChange(.global, from: previousRanks?.global, to: ranks.global)]
        if let old = previous?.countryCode, old != current.countryCode {
            partitions.append(partitionChange(.local(old), from: previousRanks?.local, to: nil))
        }
        if let country = current.countryCode {
            let before = previous?.countryCode == country ? previousRanks?.local : nil
            partitions.append(partitionChange(.local(country), from: before, to: ranks.local))
        }
        return BoardChange(userId: current.userId, previous: previous, current: current, partitions: partitions, version: version)
    }

    private func partitionChange(_ partition: Partition, from previousRank: Int?, to newRank: Int?) -> PartitionChange {
        let topN = configuration.topN
        let topChanged = (previousRank.map { $0 <= topN } ?? false) || (newRank.map { $0 <= topN } ?? false)
        if topChanged { topVersions[partition] = version }
        return PartitionChange(partition: partition, previousRank: previousRank, newRank: newRank, topChanged: topChanged)
    }
}
