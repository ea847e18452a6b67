import Foundation
import KolabDomain
import Testing

@Suite("Timestamps: strict RFC 3339 between 2000 and 2100")
struct TimestampTests {
    @Test(arguments: [
        ("2026-12-01T09:00:00Z", 1_796_115_600.0),
        ("2026-12-01t09:00:00z", 1_796_115_600.0),
        ("2026-12-01T16:00:00+07:00", 1_796_115_600.0),
        ("2026-12-01T09:00:00.250Z", 1_796_115_600.25),
        ("2000-01-01T00:00:00Z", 946_684_800.0),
        ("2100-12-31T23:59:59Z", 4_133_980_799.0),
        ("2024-02-29T00:00:00Z", 1_709_164_800.0),
    ])
    func acceptsRealInstants(_ text: String, _ seconds: Double) {
        #expect(Timestamp.parse(text)?.timeIntervalSince1970 == seconds)
    }

    @Test(arguments: [
        "300000-01-01T00:00:00Z", "0000-01-01T00:00:00Z", "1999-12-31T23:59:59Z", "2101-01-01T00:00:00Z",
        "2000-01-01T06:59:59+07:00",  // 1999 in UTC
        "2026-02-30T00:00:00Z", "2025-02-29T00:00:00Z", "2100-02-29T00:00:00Z", "2026-04-31T00:00:00Z",
        "2026-12-01T09:00:00", "2026-12-01 09:00:00Z", "2026-12-01", "2026-12-01T9:00:00Z", "2026-12-01T09:00:00.Z",
        "2026-12-01T09:00:00.1234567890Z", "2026-12-01T09:00:00+0700", "2026-12-01T09:00:60Z", "+2026-12-01T09:00:00Z", "",
    ])
    func refusesEverythingElse(_ text: String) {
        #expect(Timestamp.parse(text) == nil)
    }
}
