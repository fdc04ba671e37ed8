import Foundation

/// The header fields and issuer of a JWT, read without checking its signature: only to
/// choose how to check it.
struct UnverifiedToken {
    /// The header's `alg`.
    let algorithm: String?
    /// The header's `kid`.
    let keyId: String?
    /// The payload's `iss`.
    let issuer: String?

    /// Nil unless `token` is three dot-separated parts whose first two are base64url JSON objects.
    init?(_ token: String) {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let header = Self.object(parts[0]), let payload = Self.object(parts[1]) else { return nil }
        algorithm = header["alg"] as? String
        keyId = header["kid"] as? String
        issuer = payload["iss"] as? String
    }

    private static func object(_ part: Substring) -> [String: Any]? {
        var base64 = part.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        guard let data = Data(base64Encoded: base64) else { return nil }
        return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
    }
}
