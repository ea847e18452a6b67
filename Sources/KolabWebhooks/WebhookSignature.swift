import Crypto
import Foundation

/// Standard Webhooks signing (https://www.standardwebhooks.com): a secret is `whsec_` followed by the
/// base64 of its key; a signature is `v1,` and the base64 HMAC-SHA256 of `{id}.{timestamp}.{body}`.
public enum WebhookSignature {
    public static let secretPrefix = "whsec_"

    /// A new endpoint secret: `whsec_` and the base64 of 32 random bytes.
    public static func newSecret() -> String {
        secretPrefix + SymmetricKey(size: .bits256).withUnsafeBytes { Data($0).base64EncodedString() }
    }

    /// The HMAC key of a secret (the bytes after `whsec_`), or nil when it is not one.
    public static func key(ofSecret secret: String) -> SymmetricKey? {
        guard secret.hasPrefix(secretPrefix), let bytes = Data(base64Encoded: String(secret.dropFirst(secretPrefix.count))),
            !bytes.isEmpty
        else { return nil }
        return SymmetricKey(data: bytes)
    }

    /// One `v1,<base64>` signature of a message.
    public static func sign(key: SymmetricKey, id: String, timestamp: Int, body: some DataProtocol) -> String {
        var hmac = HMAC<SHA256>(key: key)
        hmac.update(data: Array("\(id).\(timestamp).".utf8))
        hmac.update(data: body)
        return "v1," + Data(hmac.finalize()).base64EncodedString()
    }

    /// The `webhook-signature` header: one signature per key (during a rotation the new and the
    /// previous secret), separated by spaces.
    public static func header(keys: [SymmetricKey], id: String, timestamp: Int, body: some DataProtocol) -> String {
        keys.map { sign(key: $0, id: id, timestamp: timestamp, body: body) }.joined(separator: " ")
    }
}
