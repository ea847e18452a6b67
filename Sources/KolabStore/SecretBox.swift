import Crypto
import Foundation
import KolabDomain

/// Seals what must be kept but never read back by a person (stored idempotent answers, which can hold
/// a KOL's bank account; webhook secrets): AES-256-GCM under the service key `KOLAB_SECRET_KEY`.
/// A sealed value is `nonce (12) | ciphertext | tag (16)`; a value sealed under another key, or
/// altered, does not open.
public struct SecretBox: Sendable {
    private let key: SymmetricKey

    /// `base64` of exactly 32 bytes, as `kolab secret-key` prints it.
    public init?(base64: String) {
        guard let bytes = Data(base64Encoded: base64.trimmingCharacters(in: .whitespacesAndNewlines)), bytes.count == 32 else {
            return nil
        }
        key = SymmetricKey(data: bytes)
    }

    public init(key: SymmetricKey) {
        self.key = key
    }

    /// A new random key in the form `KOLAB_SECRET_KEY` takes.
    public static func newKeyBase64() -> String {
        SymmetricKey(size: .bits256).withUnsafeBytes { Data($0).base64EncodedString() }
    }

    public func seal(_ plaintext: some DataProtocol) throws -> [UInt8] {
        guard let combined = try AES.GCM.seal(plaintext, using: key).combined else {
            throw KolabError(.internal, "AES-GCM gave no combined form")
        }
        return Array(combined)
    }

    public func open(_ sealed: some DataProtocol) throws -> [UInt8] {
        Array(try AES.GCM.open(AES.GCM.SealedBox(combined: sealed), using: key))
    }
}
