import Foundation

/// The instants Kolab accepts from clients: RFC 3339 with a zone (`2026-12-01T09:00:00Z`,
/// `2026-12-01T16:00:00.250+07:00`), real calendar dates, between the years 2000 and 2100.
///
/// Parsed by hand rather than by a lenient formatter: Foundation rolls 30 February over to 2 March
/// and reads years past 9999, and PostgreSQL's driver traps on instants it cannot encode. Nothing
/// outside `range` ever reaches the database.
public enum Timestamp {
    /// 2000-01-01T00:00:00Z up to, not including, 2101-01-01T00:00:00Z.
    public static let range: Range<Date> =
        Date(
            timeIntervalSince1970: TimeInterval(epochSeconds(year: 2000, month: 1, day: 1)))..<Date(
            timeIntervalSince1970: TimeInterval(epochSeconds(year: 2101, month: 1, day: 1)))

    /// What a client is told when a time is refused.
    public static let rule = "must be an RFC 3339 time with a zone (like 2026-12-01T09:00:00Z), a real date between the years 2000 and 2100"

    /// The instant `text` names, or nil when it is not strict RFC 3339 or lies outside `range`.
    public static func parse(_ text: String) -> Date? {
        let bytes = Array(text.utf8)
        guard bytes.count >= 20, bytes.count <= 40 else { return nil }
        var index = 0

        func digits(_ count: Int) -> Int? {
            guard index + count <= bytes.count else { return nil }
            var value = 0
            for byte in bytes[index..<(index + count)] {
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            index += count
            return value
        }
        func expect(_ characters: String) -> Bool {
            guard index < bytes.count, characters.utf8.contains(bytes[index]) else { return false }
            index += 1
            return true
        }

        guard let year = digits(4), expect("-"), let month = digits(2), expect("-"), let day = digits(2),
            expect("Tt"), let hour = digits(2), expect(":"), let minute = digits(2), expect(":"), let second = digits(2)
        else { return nil }
        guard (1...12).contains(month), (1...daysIn(month: month, year: year)).contains(day), hour < 24, minute < 60, second < 60
        else { return nil }

        var fraction = 0.0
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            var scale = 0.1
            let start = index
            while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
                fraction += Double(bytes[index] - UInt8(ascii: "0")) * scale
                scale /= 10
                index += 1
            }
            guard index > start, index - start <= 9 else { return nil }
        }

        var offsetSeconds = 0
        guard index < bytes.count else { return nil }
        if expect("Zz") {
            offsetSeconds = 0
        } else {
            let sign = bytes[index] == UInt8(ascii: "-") ? -1 : 1
            guard expect("+-"), let offsetHours = digits(2), expect(":"), let offsetMinutes = digits(2),
                offsetHours < 24, offsetMinutes < 60
            else { return nil }
            offsetSeconds = sign * (offsetHours * 3600 + offsetMinutes * 60)
        }
        guard index == bytes.count else { return nil }

        let seconds = epochSeconds(year: year, month: month, day: day) + hour * 3600 + minute * 60 + second - offsetSeconds
        let date = Date(timeIntervalSince1970: TimeInterval(seconds) + fraction)
        return range.contains(date) ? date : nil
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Seconds from 1970-01-01T00:00:00Z to midnight UTC of a civil date (Howard Hinnant's days_from_civil).
    static func epochSeconds(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return (era * 146_097 + dayOfEra - 719_468) * 86_400
    }
}
