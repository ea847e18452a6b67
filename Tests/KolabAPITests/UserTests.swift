import Foundation
import HTTPTypes
import KolabAPI
import KolabDomain
import KolabStore
import NIOCore
import PostgresNIO
import Testing

@Suite("Users: created by admins")
struct UserTests {
    @Test func adminCreatesAnOfficerWhoCanLogIn() async throws {
        try await TestApp.run { app in
            let admin = try await app.admin()
            let created = try await app.post(
                "/v1/users", token: admin.token,
                UserBody(email: "Sari@Kolab.test", role: "officer", displayName: "Sari"))
            #expect(created.status == .created)
            #expect(created["email"] == "sari@kolab.test")  // normalised
            #expect(created.headers[.location] == "/v1/users/\(created["id"] ?? "")")
            #expect(created.json["password"] == nil && created.json["password_hash"] == nil)
            let officer = try await app.login("sari@kolab.test", role: .officer)
            let me = try await app.get("/v1/me", token: officer.token)
            #expect(me["role"] == "officer")
        }
    }

    @Test(arguments: [Role.officer, .brand, .kol, .finance])
    func onlyAdminsCreateAndListUsers(role: Role) async throws {
        try await TestApp.run { app in
            let cast = try await app.cast()
            let caller = cast.account(role)
            let create = try await app.post(
                "/v1/users", token: caller.token,
                UserBody(email: "new@kolab.test", role: "admin", displayName: "Sneaky"))
            #expect(create.status == .forbidden)
            #expect(create.isProblem)
            #expect(try await app.get("/v1/users", token: caller.token).status == .forbidden)
            #expect(try await app.count("SELECT count(*)::int FROM users WHERE email = 'new@kolab.test'") == 0)
        }
    }

    @Test func anonymousCallersGet401() async throws {
        try await TestApp.run { app in
            let create = try await app.post("/v1/users", UserBody(email: "x@kolab.test", role: "officer", displayName: "X"))
            #expect(create.status == .unauthorized)
            #expect(try await app.get("/v1/users").status == .unauthorized)
        }
    }

    @Test func invalidUsersListEveryFieldError() async throws {
        try await TestApp.run { app in
            let admin = try await app.admin()
            let response = try await app.post(
                "/v1/users", token: admin.token, UserBody(email: "not-an-email", password: "short", role: "brand", displayName: " "))
            #expect(response.status == .unprocessableContent)
            #expect(Set(response.errorFields) == ["email", "password", "display_name", "brand_id"])
            let kolRole = try await app.post(
                "/v1/users", token: admin.token, UserBody(email: "k@kolab.test", role: "kol", displayName: "K"))
            #expect(kolRole.errorFields == ["role"])
            let badRole = try await app.post(
                "/v1/users", token: admin.token, UserBody(email: "k@kolab.test", role: "root", displayName: "K"))
            #expect(badRole.status == .unprocessableContent)
            #expect(badRole.errorFields == ["role"])
            let unknownBrand = try await app.post(
                "/v1/users", token: admin.token,
                UserBody(email: "b@kolab.test", role: "brand", displayName: "B", brandID: UUID().uuidString))
            #expect(unknownBrand.status == .unprocessableContent)
            #expect(unknownBrand.errorFields == ["brand_id"])
            #expect(try await app.count("SELECT count(*)::int FROM users") == 1)
        }
    }

    @Test func aSecondAccountWithTheSameEmailIs409() async throws {
        try await TestApp.run { app in
            let admin = try await app.admin()
            let body = UserBody(email: "dup@kolab.test", role: "finance", displayName: "F")
            #expect(try await app.post("/v1/users", token: admin.token, body).status == .created)
            var upper = body
            upper.email = "DUP@kolab.test"
            let again = try await app.post("/v1/users", token: admin.token, upper)
            #expect(again.status == .conflict)
            #expect(again.isProblem)
        }
    }

    @Test func clientsCannotSetIdsOrTimestamps() async throws {
        try await TestApp.run { app in
            let admin = try await app.admin()
            let forcedID = UUID().uuidString
            let response = try await app.post(
                "/v1/users", token: admin.token,
                RawJSON(  // members that are not the client's, on purpose
                    UserBody(email: "m@kolab.test", role: "finance", displayName: "M"),
                    setting: ["id": forcedID, "created_at": "2000-01-01T00:00:00Z"]))
            #expect(response.status == .unprocessableContent)
            #expect(response.errorFields.sorted() == ["created_at", "id"])
            #expect(try await app.count("SELECT count(*)::int FROM users WHERE email = 'm@kolab.test'") == 0)
        }
    }

    @Test func usersListFiltersByRoleAndPages() async throws {
        try await TestApp.run { app in
            let admin = try await app.admin()
            for _ in 0..<3 { _ = try await app.user(.officer, by: admin) }
            _ = try await app.user(.finance, by: admin)
            let first = try await app.get("/v1/users?role=officer&limit=2", token: admin.token)
            #expect(first.status == .ok)
            #expect(first.data.count == 2)
            let cursor = try #require(first["next_cursor"])
            let second = try await app.get("/v1/users?role=officer&limit=2&cursor=\(cursor)", token: admin.token)
            #expect(second.data.count == 1)
            #expect(second.json["next_cursor"] is NSNull)
            let roles = (first.data + second.data).compactMap { $0["role"] as? String }
            #expect(roles == ["officer", "officer", "officer"])
            let badRole = try await app.get("/v1/users?role=wizard", token: admin.token)
            #expect(badRole.status == .unprocessableContent)
        }
    }

    @Test func aUserSeesThemselfButNotOthers() async throws {
        try await TestApp.run { app in
            let cast = try await app.cast()
            #expect(try await app.get("/v1/users/\(cast.officer.id)", token: cast.officer.token).status == .ok)
            let other = try await app.get("/v1/users/\(cast.finance.id)", token: cast.officer.token)
            let missing = try await app.get("/v1/users/\(UUID().uuidString)", token: cast.officer.token)
            #expect(other.status == .notFound)
            #expect(other["detail"] == missing["detail"])
            #expect(try await app.get("/v1/users/\(cast.finance.id)", token: cast.admin.token).status == .ok)
            #expect(try await app.get("/v1/users/not-a-uuid", token: cast.admin.token).status == .notFound)
        }
    }
}
