import ArgumentParser

/// `podium serve`: runs the server.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Run the Podium server.")

    func run() async throws {}
}
