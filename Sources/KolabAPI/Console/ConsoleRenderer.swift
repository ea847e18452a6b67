import Foundation
import HTTPTypes
import Hummingbird
import KolabDomain
import KolabStore
import Mustache
import NIOCore

/// The console's two languages (DESIGN.md, "Web console"): every string is in both files.
enum ConsoleLanguage: String, Sendable, CaseIterable {
    case en, id

    /// `?lang=`, then the `kolab_lang` cookie, then the first language of `Accept-Language` we speak.
    static func choose(query: String?, cookie: String?, acceptLanguage: String?) -> ConsoleLanguage {
        if let query, let language = ConsoleLanguage(rawValue: query) { return language }
        if let cookie, let language = ConsoleLanguage(rawValue: cookie) { return language }
        for part in (acceptLanguage ?? "").split(separator: ",") {
            let tag = part.split(separator: ";")[0].trimmingCharacters(in: .whitespaces).lowercased()
            if tag.hasPrefix("id") || tag.hasPrefix("in") { return .id }
            if tag.hasPrefix("en") { return .en }
        }
        return .en
    }
}

/// Templates, strings and formats of the web console: server-rendered pages (swift-mustache), no
/// script, style or font from another host.
final class ConsoleRenderer: Sendable {
    let library: MustacheLibrary
    let strings: [ConsoleLanguage: [String: String]]
    let templateStrings: [ConsoleLanguage: [String: String]]
    let stylesheet: ByteBuffer

    /// The policy of every page: nothing from another host but a draft's own media over https.
    static let contentSecurityPolicy =
        "default-src 'self'; img-src 'self' https:; media-src 'self' https:; style-src 'self'; script-src 'none'; "
        + "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

    init() throws {
        guard let folder = Bundle.module.url(forResource: "Resources", withExtension: nil) else {
            throw KolabError(.internal, "The console's resources are missing from the build.")
        }
        var library = MustacheLibrary()
        let templates = folder.appendingPathComponent("templates")
        for name in try FileManager.default.contentsOfDirectory(atPath: templates.path) where name.hasSuffix(".mustache") {
            let text = try String(contentsOf: templates.appendingPathComponent(name), encoding: .utf8)
            try library.register(text, named: String(name.dropLast(".mustache".count)))
        }
        self.library = library
        // `strings/en.json` and `strings/id.json`, and per part of the console `strings/<part>.en.json`, ...
        var strings: [ConsoleLanguage: [String: String]] = [:]
        let stringFiles = try FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("strings").path).sorted()
        for language in ConsoleLanguage.allCases {
            var table: [String: String] = [:]
            for name in stringFiles where name == "\(language.rawValue).json" || name.hasSuffix(".\(language.rawValue).json") {
                let data = try Data(contentsOf: folder.appendingPathComponent("strings/\(name)"))
                table.merge(try JSONDecoder().decode([String: String].self, from: data)) { first, _ in first }
            }
            strings[language] = table
        }
        self.strings = strings
        // Mustache reads `a.b` as a path: templates name the strings with `_` (`{{t.draft_approve}}`).
        self.templateStrings = strings.mapValues { table in
            Dictionary(uniqueKeysWithValues: table.map { ($0.key.replacingOccurrences(of: ".", with: "_"), $0.value) })
        }
        self.stylesheet = ByteBuffer(bytes: Array(try Data(contentsOf: folder.appendingPathComponent("static/app.css"))))
    }

    /// One string in `language` (the English one, then the key, when a translation is missing).
    func text(_ key: String, _ language: ConsoleLanguage) -> String {
        strings[language]?[key] ?? strings[.en]?[key] ?? key
    }

    /// A whole page: `template` inside the layout, with the strings, the user and the CSRF token.
    func page(
        _ template: String, title: String, _ values: [String: Any], state: ConsoleState, status: HTTPResponse.Status = .ok
    ) -> Response {
        var values = values
        values["t"] = templateStrings[state.language] ?? [:]
        values["lang"] = state.language.rawValue
        values["title"] = title
        values["csrf_token"] = state.csrfToken
        values["path"] = state.path
        values["other_language"] = state.language == .en ? "id" : "en"
        values["other_language_name"] = state.language == .en ? "Bahasa Indonesia" : "English"
        if let user = state.user {
            values["user"] = ["name": user.name, "role": text("role.\(user.role.rawValue)", state.language)]
            values["is_brand"] = user.role == .brand
            values["is_kol"] = user.role == .kol
            values["is_finance"] = user.role == .finance
            values["is_staff"] = user.role == .admin || user.role == .officer
        }
        // A guest's page links nowhere but to the link's own list (`{{#plain}}` drops the console's).
        values["plain"] = state.plain
        if let guest = state.guest { values["guest"] = ["name": guest.reviewer.name, "home": guest.home] }
        let body = library.render(values, withTemplate: template) ?? ""
        return Self.html(body, status: status)
    }

    /// An error as a page in the user's language: what happened and what to do next.
    func errorPage(_ error: KolabError, state: ConsoleState) -> Response {
        let (status, _, _) = error.code.http
        let key: String
        switch error.code {
        case .notFound: key = "error.not_found"
        case .forbidden: key = "error.forbidden"
        case .conflict: key = "error.conflict"
        case .invalid, .malformed, .tooLarge: key = "error.invalid"
        case .tooManyRequests: key = "error.too_many"
        case .unavailable: key = "error.unavailable"
        default: key = "error.internal"
        }
        var detail = error.code == .internal ? "" : error.detail
        if !error.fieldErrors.isEmpty { detail = error.fieldErrors.map { "\($0.field): \($0.message)" }.joined(separator: " ") }
        // A guest has no home page to go back to: the advice is about the link.
        let advice = state.plain && error.code == .notFound ? "guest.not_found.advice" : "\(key).advice"
        var response = page(
            "error", title: text("\(key).title", state.language),
            ["heading": text("\(key).title", state.language), "advice": text(advice, state.language), "detail": detail],
            state: state, status: status)
        for field in error.headers { response.headers[field.name] = field.value }
        return response
    }

    static func html(_ body: String, status: HTTPResponse.Status = .ok) -> Response {
        let buffer = ByteBuffer(string: body)
        return Response(
            status: status,
            headers: [
                .contentType: "text/html; charset=utf-8", .contentLength: "\(buffer.readableBytes)",
                .contentSecurityPolicy: contentSecurityPolicy, .cacheControl: "no-store",
            ],
            body: .init(byteBuffer: buffer))
    }

    static func redirect(_ location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location, .contentLength: "0", .cacheControl: "no-store"])
    }
}

/// Money and time as the console's readers write them (Rp1.500.000 / IDR 1,500,000; Asia/Jakarta).
enum ConsoleFormat {
    static func money(_ rupiah: Int64, _ language: ConsoleLanguage) -> String {
        let sign = rupiah < 0 ? "-" : ""
        let grouped = number(Int64(rupiah.magnitude), language)
        return language == .id ? "\(sign)Rp\(grouped)" : "\(sign)IDR \(grouped)"
    }

    /// Thousands grouped with `.` in Bahasa Indonesia and `,` in English.
    static func number(_ value: Int64, _ language: ConsoleLanguage) -> String {
        let digits = String(value.magnitude)
        var grouped = value < 0 ? "-" : ""
        for (index, character) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { grouped.append(language == .id ? "." : ",") }
            grouped.append(character)
        }
        return grouped
    }

    static let jakarta = TimeZone(identifier: "Asia/Jakarta")!
    static let months: [ConsoleLanguage: [String]] = [
        .en: ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"],
        .id: ["Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des"],
    ]

    /// Calendars are built once: making one per date cost more than the rest of the formatting.
    static let jakartaCalendar: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = jakarta
        return calendar
    }()
    static let utcCalendar: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }()

    /// `28 Nov 2026, 18:00 WIB` (Western Indonesia Time, UTC+7).
    static func time(_ date: Date, _ language: ConsoleLanguage) -> String {
        let parts = jakartaCalendar.dateComponents([.year, .month, .day, .hour, .minute], from: date)
        let month = months[language]![(parts.month ?? 1) - 1]
        let clock = "\(twoDigits(parts.hour ?? 0))\(language == .id ? "." : ":")\(twoDigits(parts.minute ?? 0))"
        return "\(parts.day ?? 1) \(month) \(parts.year ?? 2000), \(clock) WIB"
    }

    /// The RFC 3339 form for `<time datetime>` (`2026-11-28T11:31:49Z`).
    static func machine(_ date: Date) -> String {
        let p = utcCalendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        return
            "\(p.year ?? 2000)-\(twoDigits(p.month ?? 1))-\(twoDigits(p.day ?? 1))T\(twoDigits(p.hour ?? 0)):\(twoDigits(p.minute ?? 0)):\(twoDigits(p.second ?? 0))Z"
    }

    private static func twoDigits(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
}
