import Crypto
import Foundation
import KolabWebhooks
import Testing

@Suite("Standard Webhooks signing")
struct WebhookSignatureTests {
    /// The worked example of the Standard Webhooks specification (spec/standard-webhooks.md): this
    /// secret, id, timestamp and body give exactly this signature.
    @Test func signsTheSpecificationsWorkedExample() throws {
        let key = try #require(WebhookSignature.key(ofSecret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"))
        let signature = WebhookSignature.sign(
            key: key, id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: 1_614_265_330, body: Array(#"{"test": 2432232314}"#.utf8))
        #expect(signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
    }

    @Test func duringARotationTheHeaderCarriesBothSignaturesNewFirst() throws {
        let new = try #require(WebhookSignature.key(ofSecret: WebhookSignature.newSecret()))
        let old = try #require(WebhookSignature.key(ofSecret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"))
        let body = Array(#"{"type":"webhook.test"}"#.utf8)
        let header = WebhookSignature.header(keys: [new, old], id: "m1", timestamp: 1_700_000_000, body: body)
        let parts = header.split(separator: " ").map(String.init)
        #expect(parts.count == 2)
        #expect(parts[0] == WebhookSignature.sign(key: new, id: "m1", timestamp: 1_700_000_000, body: body))
        #expect(parts[1] == WebhookSignature.sign(key: old, id: "m1", timestamp: 1_700_000_000, body: body))
    }

    @Test func newSecretsAreWhsecAndThirtyTwoRandomBytes() throws {
        let first = WebhookSignature.newSecret()
        let second = WebhookSignature.newSecret()
        #expect(first.hasPrefix("whsec_"))
        #expect(first != second)
        #expect(Data(base64Encoded: String(first.dropFirst(6)))?.count == 32)
    }

    @Test func somethingElseIsNotASecret() {
        #expect(WebhookSignature.key(ofSecret: "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw") == nil)
        #expect(WebhookSignature.key(ofSecret: "whsec_not base64!") == nil)
        #expect(WebhookSignature.key(ofSecret: "whsec_") == nil)
    }
}
