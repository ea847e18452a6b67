import Foundation
import HTTPTypes
import KolabAPI
import KolabDomain
import KolabStore
import NIOCore
import PostgresNIO
import Testing

@Suite("KOL sign-up, profiles and search")
struct KolTests {
    @Test func aMotherSignsUpAndSeesHerOwnBankDetails() async throws {
        try await TestApp.run { app in
            let email = "ibu.ratna@example.id"
            let signUp = try await app.post("/v1/kols", KolSignUpBody(email: email))
            #expect(signUp.status == .created)
            #expect(signUp.headers[.eTag] == "\"v1\"")
            #expect(signUp.json["bank"] != nil)
            let kol = try await app.login(email, role: .kol)
            #expect(kol.id == signUp["id"])
            let profile = try await app.get("/v1/kols/\(kol.id)", token: kol.token)
            #expect(profile.status == .ok)
            #expect((profile.json["bank"] as? [String: Any])?["account_number"] as? String == "1234567890")
            let me = try await app.get("/v1/me", token: kol.token)
            #expect(me["role"] == "kol")
        }
    }

    @Test func signUpCannotChooseItsRole() async throws {
        try await TestApp.run { app in
            let body = KolSignUpBody(email: "sneaky@example.id")
            // Members a sign-up does not have, on purpose.
            let response = try await app.post("/v1/kols", RawJSON(body, setting: ["role": "admin", "brand_id": UUID().uuidString]))
            // Fields a client may not set are not silently dropped: the answer names them, nothing is made.
            #expect(response.status == .unprocessableContent)
            #expect(response.errorFields.sorted() == ["brand_id", "role"])
            #expect(try await app.count("SELECT count(*)::int FROM users WHERE email = 'sneaky@example.id'") == 0)
            #expect(try await app.post("/v1/kols", body).status == .created)
            let kols = try await app.count(
                "SELECT count(*)::int FROM users WHERE email = 'sneaky@example.id' AND role = 'kol' AND brand_id IS NULL")
            #expect(kols == 1)
        }
    }

    @Test func signUpValidationNamesEveryBadField() async throws {
        try await TestApp.run { app in
            let body = KolSignUpBody(
                email: "x", password: "123", fullName: "", city: "Bandung", region: "Jawa Barat",
                socialAccounts: [SocialAccountBody(handle: "a b", followers: -5)],
                bank: BankBody(bankName: "BCA", accountNumber: "12ab", accountHolder: "X"))
            let response = try await app.post("/v1/kols", body)
            #expect(response.status == .unprocessableContent)
            #expect(
                Set(response.errorFields) == [
                    "email", "password", "full_name", "social_accounts[0].handle", "social_accounts[0].followers",
                    "bank.account_number",
                ])
            let badPlatform = try await app.post(
                "/v1/kols",
                KolSignUpBody(
                    email: "a@example.id", fullName: "A", city: "B", region: "C",
                    socialAccounts: [SocialAccountBody(platform: "myspace", handle: "a", followers: 1)]))
            #expect(badPlatform.errorFields == ["social_accounts[0].platform"])
            // Required members missing, on purpose.
            let missing = try await app.post("/v1/kols", RawJSON(["email": "a@example.id", "password": testPassword]))
            #expect(missing.status == .unprocessableContent)
            #expect(Set(missing.errorFields) == ["full_name", "city", "region"])  // every missing field at once
            #expect(try await app.count("SELECT count(*)::int FROM users") == 0)
        }
    }

    @Test func theSameEmailCannotSignUpTwice() async throws {
        try await TestApp.run { app in
            #expect(try await app.post("/v1/kols", KolSignUpBody(email: "twice@example.id")).status == .created)
            let again = try await app.post("/v1/kols", KolSignUpBody(email: "twice@example.id"))
            #expect(again.status == .conflict)
            #expect(try await app.count("SELECT count(*)::int FROM kol_profiles") == 1)
        }
    }

    @Test func bankDetailsAreHiddenFromOfficersAndShownToFinanceAndAdmins() async throws {
        try await TestApp.run { app in
            let cast = try await app.cast()
            for account in [cast.officer] {
                let profile = try await app.get("/v1/kols/\(cast.kol.id)", token: account.token)
                #expect(profile.status == .ok)
                #expect(profile.json["bank"] == nil)
                #expect(profile.json["has_bank_details"] as? Bool == true)
                #expect(!profile.text.contains("1234567890"))
                let search = try await app.get("/v1/kols", token: account.token)
                #expect(!search.text.contains("1234567890"))
            }
            for account in [cast.finance, cast.admin] {
                let profile = try await app.get("/v1/kols/\(cast.kol.id)", token: account.token)
                #expect(profile.json["bank"] != nil)
            }
        }
    }

    @Test func brandsAndOtherKolsCannotSeeAProfile() async throws {
        try await TestApp.run { app in
            let cast = try await app.cast()
            let other = try await app.kol()
            for account in [cast.brand, other] {
                let response = try await app.get("/v1/kols/\(cast.kol.id)", token: account.token)
                #expect(response.status == .notFound)
            }
        }
    }

    @Test(arguments: [Role.brand, .kol])
    func searchIsForStaffAndFinance(role: Role) async throws {
        try await TestApp.run { app in
            let cast = try await app.cast()
            #expect(try await app.get("/v1/kols", token: cast.account(role).token).status == .forbidden)
        }
    }

    @Test func searchFiltersByNichePlatformFollowersAndRegion() async throws {
        try await TestApp.run { app in
            let admin = try await app.admin()
            let officer = try await app.user(.officer, by: admin)
            let big = try await app.kol(niches: ["parenting", "food"], followers: 150_000, region: "DKI Jakarta")
            _ = try await app.kol(niches: ["parenting"], followers: 5_000, region: "DKI Jakarta")
            _ = try await app.kol(niches: ["fashion"], followers: 200_000, region: "Bali")
            func ids(_ query: String) async throws -> [String] {
                let response = try await app.get("/v1/kols?\(query)", token: officer.token)
                #expect(response.status == .ok, "\(query): \(response.text)")
                return response.data.compactMap { $0["id"] as? String }
            }
            #expect(try await ids("niche=food") == [big.id])
            #expect(try await ids("niche=parenting&min_followers=100000") == [big.id])
            #expect(try await ids("region=dki%20jakarta&platform=instagram&min_followers=100000") == [big.id])
            #expect(try await ids("platform=tiktok").isEmpty)
            #expect(try await ids("").count == 3)
            let bad = try await app.get("/v1/kols?platform=friendster&min_followers=-1", token: officer.token)
            #expect(bad.status == .unprocessableContent)
            #expect(Set(bad.errorFields) == ["platform", "min_followers"])
        }
    }

    @Test func aKolUpdatesHerProfileWithIfMatch() async throws {
        try await TestApp.run { app in
            let kol = try await app.kol(bank: false)
            let profile = try await app.get("/v1/kols/\(kol.id)", token: kol.token)
            #expect(profile.json["has_bank_details"] as? Bool == false)
            let etag = try #require(profile.headers[.eTag])
            let change = KolUpdateBody(
                city: "Depok",
                bank: BankBody(bankName: "Bank Mandiri", bankCode: "mandiri", accountNumber: "1320 0188 4512", accountHolder: "Ibu"))
            let missing = try await app.patch("/v1/kols/\(kol.id)", token: kol.token, change)
            #expect(missing.status.code == 428)
            let updated = try await app.patch("/v1/kols/\(kol.id)", token: kol.token, change, ifMatch: etag)
            #expect(updated.status == .ok)
            #expect(updated["city"] == "Depok")
            #expect(updated.headers[.eTag] == "\"v2\"")
            #expect((updated.json["bank"] as? [String: Any])?["account_number"] as? String == "132001884512")
            #expect((updated.json["bank"] as? [String: Any])?["bank_code"] as? String == "MANDIRI")
            let stale = try await app.patch("/v1/kols/\(kol.id)", token: kol.token, KolUpdateBody(city: "Bogor"), ifMatch: etag)
            #expect(stale.status == .preconditionFailed)
            #expect(try await app.get("/v1/kols/\(kol.id)", token: kol.token)["city"] == "Depok")
        }
    }

    @Test func onlyTheKolOrAnAdminMayChangeAProfile() async throws {
        try await TestApp.run { app in
            let cast = try await app.cast()
            let other = try await app.kol()
            for account in [cast.officer, cast.finance] {
                let response = try await app.patch(
                    "/v1/kols/\(cast.kol.id)", token: account.token, KolUpdateBody(city: "X"), ifMatch: "\"v1\"")
                #expect(response.status == .forbidden)
            }
            for account in [cast.brand, other] {
                let response = try await app.patch(
                    "/v1/kols/\(cast.kol.id)", token: account.token, KolUpdateBody(city: "X"), ifMatch: "\"v1\"")
                #expect(response.status == .notFound)
            }
            let byAdmin = try await app.patch(
                "/v1/kols/\(cast.kol.id)", token: cast.admin.token, KolUpdateBody(city: "Cimahi"), ifMatch: "\"v1\"")
            #expect(byAdmin.status == .ok)
            #expect(try await app.count("SELECT count(*)::int FROM kol_profiles WHERE city = 'X'") == 0)
        }
    }

    @Test func badUpdatesChangeNothing() async throws {
        try await TestApp.run { app in
            let kol = try await app.kol()
            let invalid = try await app.patch(
                "/v1/kols/\(kol.id)", token: kol.token, KolUpdateBody(fullName: "", niches: [""]), ifMatch: "\"v1\"")
            #expect(invalid.status == .unprocessableContent)
            #expect(Set(invalid.errorFields) == ["full_name", "niches[0]"])
            let malformed = try await app.request(
                .patch, "/v1/kols/\(kol.id)", token: kol.token, body: "{nope", headers: [.ifMatch: "\"v1\""])
            #expect(malformed.status == .badRequest)
            #expect(try await app.get("/v1/kols/\(kol.id)", token: kol.token).headers[.eTag] == "\"v1\"")
        }
    }
}
