import Foundation
import NIOCore
import Testing

@testable import KolabAPI

/// The streaming encoder must write what Foundation's `JSONEncoder` wrote with the API's settings
/// before it (snake_case keys, `.iso8601` dates, unescaped slashes): the same values, spelled the
/// same way. Only the order of an object's keys differs: Foundation's follows its hashing (it
/// changes from run to run), the streaming one follows the declaration, which is what readers expect.
@Suite("Streaming JSON encoder")
struct StreamingJSONEncoderTests {
    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    /// Foundation's encoder as the API configured it until the streaming one replaced it.
    static func foundation<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .custom { path in
            guard let last = path.last, last.intValue == nil else { return path.last ?? Key(stringValue: "") }
            return Key(stringValue: SnakeCaseKeys.convert(last.stringValue))
        }
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static func streaming<T: Encodable>(_ value: T) throws -> String {
        let buffer = try StreamingJSONEncoder().encode(value)
        return String(buffer: buffer)
    }

    enum Colour: String, Codable { case red, deepBlue = "deep_blue" }

    struct Inner: Codable, Equatable {
        var feeIdr: Int64
        var rateIdrPer1000: Int
        var label: String?
    }

    struct Outer: Encodable {
        var id: UUID
        var title: String
        var flag: Bool
        var small: Int8
        var huge: UInt64
        var negative: Int64
        var ratio: Double
        var ratios: [Double]
        var colour: Colour
        var colours: [Colour]
        var createdAt: Date
        var dates: [Date]
        var missing: String?
        var inner: Inner
        var inners: [Inner]
        var empty: [Int]
        var matrix: [[Int]]
        var single: [String: Int]
        @ExplicitNull var explicitNull: Int?
        @ExplicitNull var presentNull: Date?
        var postURL: String
    }

    static let sample = Outer(
        id: UUID(uuidString: "0a1b2c3d-4e5f-6789-abcd-ef0123456789")!,
        title: "Quote \" backslash \\ slash / newline \n tab \t bell \u{07} emoji 🇮🇩 Ibu Sari",
        flag: true, small: -8, huge: .max, negative: .min,
        ratio: 0.0123, ratios: [0, 1, 0.5, 1e-05, 12_345.678, -2.25, 1e21, 123_456_789_012],
        colour: .deepBlue, colours: [.red, .deepBlue],
        createdAt: Date(timeIntervalSince1970: 1_795_342_057.987),
        dates: [
            Date(timeIntervalSince1970: 0), Date(timeIntervalSince1970: -1.5), Date(timeIntervalSince1970: 951_782_400),
            Date(timeIntervalSince1970: 4_102_444_799), Date(timeIntervalSinceReferenceDate: 0),
        ],
        missing: nil,
        inner: Inner(feeIdr: 1_500_000, rateIdrPer1000: 2000, label: nil),
        inners: [Inner(feeIdr: 0, rateIdrPer1000: -1, label: "a"), Inner(feeIdr: 9, rateIdrPer1000: 10, label: "")],
        empty: [], matrix: [[1, 2], [], [3]], single: ["only_key": 1],
        explicitNull: nil, presentNull: Date(timeIntervalSince1970: 86_399),
        postURL: "https://example.id/p/1")

    static func parse(_ text: String) throws -> NSDictionary? {
        try JSONSerialization.jsonObject(with: Data(text.utf8)) as? NSDictionary
    }

    @Test func writesTheSameDocumentAsFoundation() throws {
        // Foundation writes ids in upper case; the API writes them in lower case (RFC 9562, DESIGN.md).
        let expected = try Self.foundation(Self.sample).replacingOccurrences(
            of: "0A1B2C3D-4E5F-6789-ABCD-EF0123456789", with: "0a1b2c3d-4e5f-6789-abcd-ef0123456789")
        let actual = try Self.streaming(Self.sample)
        #expect(try Self.parse(actual) == Self.parse(expected))
        #expect(actual.count == expected.count, "the same spelling of every value")
        // Keys come in declaration order.
        #expect(actual.hasPrefix(#"{"id":"0a1b2c3d-4e5f-6789-abcd-ef0123456789","title":"Quote \" backslash \\ slash / newline \n"#))
        let parsed = try JSONSerialization.jsonObject(with: Data(actual.utf8)) as? [String: Any]
        #expect(parsed?["rate_idr_per_1000"] == nil)
        #expect((parsed?["inner"] as? [String: Any])?["rate_idr_per_1000"] as? Int == 2000)
        #expect(parsed?["created_at"] as? String == "2026-11-22T10:07:37Z")
        #expect(parsed?["explicit_null"] is NSNull)
        #expect(parsed?.keys.contains("missing") == false)
    }

    @Test(arguments: [
        "plain", "", "\u{0}\u{1F}\u{7F}", "tab\tand\r\n", "ünïcödé ✓", "a/b\\c\"d", String(repeating: "xy", count: 40),
    ])
    func stringsMatchFoundation(_ text: String) throws {
        #expect(try Self.streaming([text]) == Self.foundation([text]))
        #expect(try Self.streaming(["key": text]) == Self.foundation(["key": text]))
    }

    @Test func datesAcrossTheCalendarMatchFoundation() throws {
        // Every day boundary from 1969 to 2101, plus odd seconds, including leap days and centuries.
        var dates: [Date] = []
        var second: TimeInterval = -86_400 * 366
        while second < 4_133_980_800 {
            dates.append(Date(timeIntervalSince1970: second))
            dates.append(Date(timeIntervalSince1970: second + 86_399.999))
            second += 86_400 * 13 + 3_607
        }
        #expect(try Self.streaming(dates) == Self.foundation(dates))
    }

    /// Any stored `Date` is written, never trapped on: years before 1 with a sign, after 9999 in full.
    @Test func datesFarOutsideTheProductRangeAreWrittenWithoutTrapping() throws {
        let year1 = Date(timeIntervalSince1970: -62_135_596_800)
        let year0 = Date(timeIntervalSince1970: -62_135_596_800 - 366 * 86_400)
        let year10000 = Date(timeIntervalSince1970: 253_402_300_800)
        let year300000 = Date(timeIntervalSince1970: 9_404_681_126_400)
        #expect(try Self.streaming([year1]) == #"["0001-01-01T00:00:00Z"]"#)
        #expect(try Self.streaming([year0]) == #"["0000-01-01T00:00:00Z"]"#)
        #expect(try Self.streaming([year10000]) == #"["10000-01-01T00:00:00Z"]"#)
        #expect(try Self.streaming([year300000]).contains(/^\["29\d{4}-\d\d-\d\dT/))
        #expect(try Self.streaming([Date(timeIntervalSince1970: -1e12)]).hasPrefix(#"["-"#))
        #expect(try Self.streaming([Date.distantPast, Date.distantFuture, Date(timeIntervalSince1970: .infinity)]).count > 10)
    }

    @Test func emptyObjectsAndTopLevelScalars() throws {
        struct Nothing: Encodable {}
        #expect(try Self.streaming(Nothing()) == Self.foundation(Nothing()))
        #expect(try Self.streaming(42) == "42")
        #expect(try Self.streaming("x") == "\"x\"")
        #expect(try Self.streaming([Inner]()) == "[]")
    }

    @Test func nonFiniteNumbersAreRefused() {
        #expect(throws: EncodingError.self) { try Self.streaming(["ratio": Double.nan]) }
        #expect(throws: EncodingError.self) { try Self.streaming([Double.infinity]) }
    }
}
