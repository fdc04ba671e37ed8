/// What `podium --version` prints: the release and the commit the binary was built from.
public enum PodiumVersion {
    /// The release number, raised by hand when a release is cut.
    public static let number = "0.9.0"
    /// The commit the build was made from (12 hex digits, `-dirty` when tracked files had
    /// changes), or `unknown` when it was not built from a git checkout.
    public static var commit: String { BundledFiles.commit }
    /// `0.9.0 (commit 1a2b3c4d5e6f)`.
    public static var description: String { "\(number) (commit \(commit))" }
}
