/// A ranked subset of one board: every player, or the players of one country.
public enum Partition: Hashable, Sendable, CustomStringConvertible {
    case global
    case local(CountryCode)

    public var description: String {
        switch self {
        case .global: "global"
        case .local(let country): "local:\(country)"
        }
    }
}
