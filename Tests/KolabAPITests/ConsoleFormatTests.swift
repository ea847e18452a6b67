import Foundation
import Testing

@testable import KolabAPI

@Suite("Console formats: rupiah, Jakarta time, language")
struct ConsoleFormatTests {
    @Test func rupiahAreWrittenAsEachLanguageWritesThem() {
        #expect(ConsoleFormat.money(1_500_000, .id) == "Rp1.500.000")
        #expect(ConsoleFormat.money(1_500_000, .en) == "IDR 1,500,000")
        #expect(ConsoleFormat.money(0, .id) == "Rp0")
        #expect(ConsoleFormat.money(-25_000, .en) == "-IDR 25,000")
        #expect(ConsoleFormat.number(999, .id) == "999")
        #expect(ConsoleFormat.number(1_000, .id) == "1.000")
    }

    @Test func timesAreInJakarta() throws {
        let date = try #require(ISO8601DateFormatter().date(from: "2026-12-31T17:30:00Z"))
        #expect(ConsoleFormat.time(date, .en) == "1 Jan 2027, 00:30 WIB")
        #expect(ConsoleFormat.time(try #require(ISO8601DateFormatter().date(from: "2026-08-05T02:05:00Z")), .id) == "5 Agu 2026, 09.05 WIB")
    }

    @Test func theLanguageComesFromTheQueryThenTheCookieThenTheBrowser() {
        #expect(ConsoleLanguage.choose(query: "id", cookie: "en", acceptLanguage: "en") == .id)
        #expect(ConsoleLanguage.choose(query: nil, cookie: "id", acceptLanguage: "en") == .id)
        #expect(ConsoleLanguage.choose(query: "xx", cookie: nil, acceptLanguage: "fr-FR, id-ID;q=0.8") == .id)
        #expect(ConsoleLanguage.choose(query: nil, cookie: nil, acceptLanguage: "fr") == .en)
    }

    @Test func signingInReturnsOnlyToConsolePages() {
        #expect(ConsoleController.safeNext("/app/drafts/1") == "/app/drafts/1")
        #expect(ConsoleController.safeNext("https://evil.example/app") == "/app")
        #expect(ConsoleController.safeNext("//evil.example/app") == "/app")
        #expect(ConsoleController.safeNext(nil) == "/app")
    }

    @Test func aGuestLinksTokenIsNeverLogged() {
        #expect(EdgeMiddleware.loggable("/review/abcDEF123/drafts/1") == "/review/***/drafts/1")
        #expect(EdgeMiddleware.loggable("/review/abcDEF123") == "/review/***")
        #expect(EdgeMiddleware.loggable("/v1/drafts/1") == "/v1/drafts/1")
    }
}
