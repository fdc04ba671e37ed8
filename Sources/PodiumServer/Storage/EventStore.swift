/// The durable home of the score log and the board snapshots.
///
/// Implementations: ``SQLiteEventStore`` (the embedded default) and ``MemoryEventStore``
/// (tests and throwaway demos). A store shared by several instances (PostgreSQL) fits the
/// same shape: each instance commits through it and folds the log in sequence order.
public protocol EventStore: Sendable {
    /// Logs `events` in one transaction, in order. Events with a reference already logged
    /// for the same game and user are not logged again: their outcome is the earlier event.
    /// - Throws: ``StoreError/unavailable(_:)``; then nothing of the batch is logged.
    func commit(_ events: [LoggedEvent]) async throws -> [CommitOutcome]

    /// Calls `body` with every event after `sequence`, in sequence order, in chunks.
    func readEvents(after sequence: Int64, chunkSize: Int, _ body: @Sendable ([LoggedEvent]) throws -> Void) async throws

    /// The latest snapshot of each game.
    func snapshots() async throws -> [BoardSnapshot]

    /// Replaces the snapshots of the given games.
    func saveSnapshots(_ snapshots: [BoardSnapshot]) async throws
}
