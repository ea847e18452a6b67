import Foundation

/// The social platforms campaigns run on.
public enum Platform: String, Sendable, Codable, CaseIterable {
    case instagram, tiktok, youtube, facebook, x
}

public struct SocialAccount: Sendable, Codable, Equatable {
    public var platform: Platform
    public var handle: String
    public var followers: Int64

    public init(platform: Platform, handle: String, followers: Int64) {
        self.platform = platform
        self.handle = handle
        self.followers = followers
    }
}

/// Where a payout is sent. Shown to the KOL, admins and finance only.
public struct BankDetails: Sendable, Codable, Equatable {
    public var bankName: String
    public var bankCode: String
    public var accountNumber: String
    public var accountHolder: String

    public init(bankName: String, bankCode: String, accountNumber: String, accountHolder: String) {
        self.bankName = bankName
        self.bankCode = bankCode
        self.accountNumber = accountNumber
        self.accountHolder = accountHolder
    }
}

/// The validated profile fields of a KOL, as sign-up and updates produce them.
public struct KolProfileInput: Sendable, Equatable {
    public var fullName: String
    public var city: String
    public var region: String
    public var niches: [String]
    public var socialAccounts: [SocialAccount]
    public var bank: BankDetails?
}

public enum KolRules {
    public static let maxNiches = 10
    public static let maxSocialAccounts = 10

    /// Niches are lower-case words, compared exactly when campaigns check eligibility.
    public static func normalizeNiches(_ niches: [String], field: String = "niches", into v: inout Validator) -> [String] {
        var result: [String] = []
        for (index, niche) in niches.enumerated() {
            let n = niche.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
            if n.isEmpty || n.count > 40 {
                v.add("\(field)[\(index)]", "must be 1 to 40 characters")
            } else if !result.contains(n) {
                result.append(n)
            }
        }
        v.check(result.count <= maxNiches, field, "at most \(maxNiches) niches")
        return result
    }

    public static func validateSocialAccounts(
        _ accounts: [SocialAccount], field: String = "social_accounts", into v: inout Validator
    ) -> [SocialAccount] {
        v.check(accounts.count <= maxSocialAccounts, field, "at most \(maxSocialAccounts) accounts")
        var seen = Set<String>()
        return accounts.enumerated().map { index, account in
            var handle = account.handle.trimmingCharacters(in: .whitespacesAndNewlines)
            if handle.hasPrefix("@") { handle.removeFirst() }
            if handle.isEmpty || handle.count > 100 || handle.contains(where: { $0.isWhitespace }) {
                v.add("\(field)[\(index)].handle", "must be 1 to 100 characters without spaces")
            }
            if account.followers < 0 {
                v.add("\(field)[\(index)].followers", "must not be negative")
            }
            let key = "\(account.platform.rawValue):\(handle.lowercased())"
            if !seen.insert(key).inserted {
                v.add("\(field)[\(index)]", "is listed twice")
            }
            return SocialAccount(platform: account.platform, handle: handle, followers: account.followers)
        }
    }

    public static func validateBank(_ bank: BankDetails, field: String = "bank", into v: inout Validator) -> BankDetails {
        let name = v.text(bank.bankName, "\(field).bank_name", max: 100)
        let code = bank.bankCode.trimmingCharacters(in: .whitespaces)
        v.check(
            !code.isEmpty && code.count <= 11 && code.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) },
            "\(field).bank_code", "must be 1 to 11 letters or digits (e.g. BCA, 014)")
        let number = bank.accountNumber.filter { $0 != " " && $0 != "-" }
        v.check(
            (5...34).contains(number.count) && number.allSatisfy { $0.isASCII && $0.isNumber },
            "\(field).account_number", "must be 5 to 34 digits")
        let holder = v.text(bank.accountHolder, "\(field).account_holder", max: 100)
        return BankDetails(bankName: name, bankCode: code.uppercased(), accountNumber: number, accountHolder: holder)
    }

    /// Validates every profile field at once; throws a 422 listing all problems.
    public static func validate(
        fullName: String, city: String, region: String, niches: [String],
        socialAccounts: [SocialAccount], bank: BankDetails?, into v: inout Validator
    ) -> KolProfileInput {
        KolProfileInput(
            fullName: v.text(fullName, "full_name"),
            city: v.text(city, "city", max: 100),
            region: v.text(region, "region", max: 100),
            niches: normalizeNiches(niches, into: &v),
            socialAccounts: validateSocialAccounts(socialAccounts, into: &v),
            bank: bank.map { validateBank($0, into: &v) }
        )
    }

    /// Who may read a KOL's bank details: the KOL, admins and finance.
    public static func maySeeBank(_ actor: Actor, kolID: UUID) -> Bool {
        switch actor.role {
        case .admin, .finance: true
        case .kol: actor.userID == kolID
        case .officer, .brand: false
        }
    }
}
