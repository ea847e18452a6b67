import Foundation
import HTTPTypes
import KolabAPI
import KolabDomain
import KolabStore
import NIOCore
import PostgresNIO
import Testing

@Suite("Brands")
struct BrandTests {
    @Test func adminCreatesABrand() async throws {
        try await TestApp.run { app in
            let admin = try await app.admin()
            let created = try await app.post("/v1/brands", token: admin.token, BrandBody(name: "  Susu Bunda  "))
            #expect(created.status == .created)
            #expect(created["name"] == "Susu Bunda")
            let location = try #require(created.headers[.location])
            let fetched = try await app.get(location, token: admin.token)
            #expect(fetched["id"] == created["id"])
            let duplicate = try await app.post("/v1/brands", token: admin.token, BrandBody(name: "susu bunda"))
            #expect(duplicate.status == .conflict)
        }
    }

    @Test(arguments: [Role.officer, .brand, .kol, .finance])
    func onlyAdminsCreateBrands(role: Role) async throws {
        try await TestApp.run { app in
            let cast = try await app.cast()
            let response = try await app.post("/v1/brands", token: cast.account(role).token, BrandBody(name: "Not Allowed"))
            #expect(response.status == .forbidden)
            #expect(try await app.count("SELECT count(*)::int FROM brands WHERE name = 'Not Allowed'") == 0)
        }
    }

    @Test func aBrandUserSeesOnlyItsOwnBrand() async throws {
        try await TestApp.run { app in
            let cast = try await app.cast()
            let otherBrand = try await app.brand("Other Brand", by: cast.admin)
            let list = try await app.get("/v1/brands", token: cast.brand.token)
            #expect(list.data.compactMap { $0["id"] as? String } == [cast.brandID])
            let foreign = try await app.get("/v1/brands/\(otherBrand)", token: cast.brand.token)
            let missing = try await app.get("/v1/brands/\(UUID().uuidString)", token: cast.brand.token)
            #expect(foreign.status == .notFound)
            #expect(missing.status == .notFound)
            // The same body, but for the instance (the path asked for).
            var a = foreign.json
            var b = missing.json
            a["instance"] = nil
            b["instance"] = nil
            #expect(NSDictionary(dictionary: a) == NSDictionary(dictionary: b))
            #expect(try await app.get("/v1/brands/\(cast.brandID)", token: cast.brand.token).status == .ok)
        }
    }

    @Test func staffAndFinanceSeeEveryBrandKolsNone() async throws {
        try await TestApp.run { app in
            let cast = try await app.cast()
            _ = try await app.brand("Second", by: cast.admin)
            for account in [cast.admin, cast.officer, cast.finance] {
                #expect(try await app.get("/v1/brands", token: account.token).data.count == 2)
            }
            #expect(try await app.get("/v1/brands", token: cast.kol.token).status == .forbidden)
            #expect(try await app.get("/v1/brands/\(cast.brandID)", token: cast.kol.token).status == .notFound)
        }
    }

    @Test func brandNamesAreValidated() async throws {
        try await TestApp.run { app in
            let admin = try await app.admin()
            let empty = try await app.post("/v1/brands", token: admin.token, BrandBody(name: ""))
            #expect(empty.status == .unprocessableContent)
            #expect(empty.errorFields == ["name"])
            let long = try await app.post("/v1/brands", token: admin.token, BrandBody(name: String(repeating: "x", count: 201)))
            #expect(long.errorFields == ["name"])
            let number = try await app.post("/v1/brands", token: admin.token, RawJSON(["name": 7]))  // wrongly typed on purpose
            #expect(number.errorFields == ["name"])
            #expect(try await app.count("SELECT count(*)::int FROM brands") == 0)
        }
    }
}
