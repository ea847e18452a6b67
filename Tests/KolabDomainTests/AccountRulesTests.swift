import Foundation
import KolabDomain
import Testing

@Suite("Account rules")
struct AccountRulesTests {
    static let brandA = UUID()
    static let brandB = UUID()

    static func actor(_ role: Role, brand: UUID? = nil, id: UUID = UUID()) -> Actor {
        Actor(userID: id, role: role, brandID: brand)
    }

    @Test(arguments: Role.allCases)
    func onlyAdminsManageUsers(role: Role) {
        #expect(AccountRules.mayManageUsers(Self.actor(role)) == (role == .admin))
        #expect(AccountRules.mayListUsers(Self.actor(role)) == (role == .admin))
        #expect(AccountRules.mayCreateBrand(Self.actor(role)) == (role == .admin))
    }

    @Test(arguments: Role.allCases)
    func brandVisibility(role: Role) {
        let actor = Self.actor(role, brand: role == .brand ? Self.brandA : nil)
        let seesOwn = AccountRules.maySeeBrand(actor, brandID: Self.brandA)
        let seesOther = AccountRules.maySeeBrand(actor, brandID: Self.brandB)
        switch role {
        case .admin, .officer, .finance:
            #expect(seesOwn && seesOther)
        case .brand:
            #expect(seesOwn && !seesOther)
        case .kol:
            #expect(!seesOwn && !seesOther)
        }
    }

    @Test(arguments: Role.allCases)
    func kolSearchAndEditing(role: Role) {
        let kolID = UUID()
        let actor = Self.actor(role)
        #expect(AccountRules.maySearchKols(actor) == [.admin, .officer, .finance].contains(role))
        #expect(AccountRules.mayEditKol(actor, kolID: kolID) == (role == .admin))
        #expect(AccountRules.mayEditKol(Self.actor(.kol, id: kolID), kolID: kolID))
    }

    @Test(arguments: Role.allCases)
    func bankDetailsAreForTheKolAdminsAndFinance(role: Role) {
        let kolID = UUID()
        #expect(KolRules.maySeeBank(Self.actor(role), kolID: kolID) == [.admin, .finance].contains(role))
        #expect(KolRules.maySeeBank(Self.actor(.kol, id: kolID), kolID: kolID))
    }

    @Test(arguments: Role.allCases)
    func onlyBrandUsersBelongToABrand(role: Role) {
        var withBrand = Validator()
        AccountRules.checkBrand(role: role, brandID: UUID(), into: &withBrand)
        var without = Validator()
        AccountRules.checkBrand(role: role, brandID: nil, into: &without)
        #expect(withBrand.errors.isEmpty == (role == .brand))
        #expect(without.errors.isEmpty == (role != .brand))
    }
}

@Suite("Validation")
struct ValidationTests {
    @Test(arguments: [
        ("Ibu.Ratna@Example.ID", "ibu.ratna@example.id"), (" a@b.co ", "a@b.co"),
    ])
    func emailsAreNormalised(raw: String, expected: String) {
        #expect(EmailAddress(raw)?.value == expected)
    }

    @Test(arguments: ["", "plain", "@example.id", "a@", "a@b", "a@.id", "a b@c.id", "a@b@c.id", "a@b.id."])
    func badEmailsAreRefused(raw: String) {
        #expect(EmailAddress(raw) == nil)
    }

    @Test func passwordsNeedTenCharactersAndFitBcrypt() {
        var short = Validator()
        PasswordPolicy.check("123456789", into: &short)
        var fine = Validator()
        PasswordPolicy.check("1234567890", into: &fine)
        var long = Validator()
        PasswordPolicy.check(String(repeating: "é", count: 40), into: &long)  // 80 bytes
        #expect(short.errors.map(\.field) == ["password"])
        #expect(fine.errors.isEmpty)
        #expect(long.errors.map(\.field) == ["password"])
    }

    @Test func pageSizeDefaultsCapsAndRefuses() throws {
        #expect(try PageSize(nil).limit == 50)
        #expect(try PageSize("10").limit == 10)
        #expect(try PageSize("201").limit == 200)
        #expect(try PageSize("999999").limit == 200)
        for bad in ["0", "-3", "x", ""] {
            #expect(throws: KolabError.self) { try PageSize(bad) }
        }
    }

    @Test func nichesAreLowercasedAndDeduplicated() {
        var v = Validator()
        let niches = KolRules.normalizeNiches([" Parenting", "parenting", "FOOD"], into: &v)
        #expect(niches == ["parenting", "food"])
        #expect(v.errors.isEmpty)
    }

    @Test func socialAccountsLoseTheirAtSignAndMayNotRepeat() {
        var v = Validator()
        let accounts = KolRules.validateSocialAccounts(
            [
                SocialAccount(platform: .instagram, handle: "@ayu.bunda", followers: 10),
                SocialAccount(platform: .instagram, handle: "ayu.bunda", followers: 10),
            ], into: &v)
        #expect(accounts.first?.handle == "ayu.bunda")
        #expect(v.errors.map(\.field) == ["social_accounts[1]"])
    }

    @Test func bankDetailsAreNormalised() {
        var v = Validator()
        let bank = KolRules.validateBank(
            BankDetails(bankName: " BCA ", bankCode: "bca", accountNumber: "527-183 4401", accountHolder: "Ayu"), into: &v)
        #expect(v.errors.isEmpty)
        #expect(bank == BankDetails(bankName: "BCA", bankCode: "BCA", accountNumber: "5271834401", accountHolder: "Ayu"))
        var bad = Validator()
        _ = KolRules.validateBank(BankDetails(bankName: "", bankCode: "B C A", accountNumber: "12", accountHolder: ""), into: &bad)
        #expect(Set(bad.errors.map(\.field)) == ["bank.bank_name", "bank.bank_code", "bank.account_number", "bank.account_holder"])
    }
}

/// Who reads what, per role: the scoping rules the controllers and pages ask for.
@Suite("Read scopes per role")
struct ReadScopeTests {
    static func actor(_ role: Role) -> Actor { Actor(userID: UUID(), role: role, brandID: role == .brand ? UUID() : nil) }

    @Test(arguments: Role.allCases)
    func eachRoleReadsItsOwnShare(role: Role) {
        let me = Self.actor(role)
        let someoneElse = UUID()
        #expect(AccountRules.maySeeUser(me, userID: me.userID))
        #expect(AccountRules.maySeeUser(me, userID: someoneElse) == (role == .admin))
        switch role {
        case .admin, .officer, .finance:
            #expect(AccountRules.kolVisibility(me, kolID: someoneElse) == .all)
            #expect(TimelineAudience(me) == .everything)
        case .kol:
            #expect(AccountRules.kolVisibility(me, kolID: me.userID) == .own)
            #expect(AccountRules.kolVisibility(me, kolID: someoneElse) == .none)
            #expect(TimelineAudience(me) == .kol(me.userID))
        case .brand:
            #expect(AccountRules.kolVisibility(me, kolID: someoneElse) == .registeredWithBrand(me.brandID!))
            #expect(TimelineAudience(me) == .brand)
        }
        #expect(me.ownKolID == (role == .kol ? me.userID : nil))
        #expect(me.worklistOfficerID == (role == .officer ? me.userID : nil))
        #expect(AccountRules.brandScope(me) == (role == .brand ? .some(me.brandID) : .none))
        let webhooks = WebhookRules.listScope(me)
        switch role {
        case .brand: #expect(webhooks.scope == .brand && webhooks.brandID == me.brandID)
        case .finance: #expect(webhooks.scope == .payouts && webhooks.brandID == nil)
        default: #expect(webhooks.scope == nil && webhooks.brandID == nil)
        }
    }

    @Test(arguments: Role.allCases)
    func registeringAcknowledgingAndReadingBriefVersions(role: Role) {
        let me = Self.actor(role)
        #expect(((try? RegistrationMachine.checkRegister(by: role)) != nil) == (role == .kol))
        #expect(((try? RegistrationMachine.checkAcknowledge(by: me, registrationKol: me.userID)) != nil) == (role == .kol))
        #expect((try? RegistrationMachine.checkAcknowledge(by: me, registrationKol: UUID())) == nil)
        #expect(((try? BriefMachine.checkReadVersions(role)) != nil) == (role != .kol))
        #expect(((try? BriefMachine.checkAct(role)) != nil) == (role == .officer || role == .admin))
        for action in DeliverableAction.allCases {
            #expect(((try? DeliverableMachine.checkActor(role, action)) != nil) == DeliverableMachine.actors(of: action).contains(role))
        }
    }
}
