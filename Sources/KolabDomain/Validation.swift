import Foundation

/// Collects field errors so that one answer lists every problem of a request, not just the first.
public struct Validator: Sendable {
    public private(set) var errors: [FieldError] = []

    public init() {}

    public mutating func add(_ field: String, _ message: String) {
        errors.append(FieldError(field: field, message: message))
    }

    /// Checks `condition`, recording `message` for `field` when it fails.
    public mutating func check(_ condition: Bool, _ field: String, _ message: String) {
        if !condition { add(field, message) }
    }

    /// Trims `value` and checks it is non-empty and at most `max` characters; returns the trimmed text.
    @discardableResult
    public mutating func text(_ value: String, _ field: String, max: Int = 200) -> String {
        let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.isEmpty {
            add(field, "must not be empty")
        } else if trimmed.count > max {
            add(field, "must be at most \(max) characters")
        }
        return trimmed
    }

    /// Throws a 422 with every error collected, if any.
    public func validate() throws(KolabError) {
        if !errors.isEmpty { throw KolabError.invalid(errors) }
    }
}

/// A lower-cased e-mail address with one `@`, a local part and a dotted domain.
public struct EmailAddress: Sendable, Hashable, CustomStringConvertible {
    public let value: String

    public init?(_ raw: String) {
        let email = raw.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        guard email.count <= 254, parts.count == 2, !parts[0].isEmpty, parts[1].contains("."),
            !parts[1].hasPrefix("."), !parts[1].hasSuffix("."),
            !email.contains(where: { $0.isWhitespace })
        else { return nil }
        self.value = email
    }

    public var description: String { value }
}

/// Password rules: long enough to resist guessing, short enough for bcrypt (72 bytes).
public enum PasswordPolicy {
    public static let minimumLength = 10
    public static let maximumBytes = 72

    public static func check(_ password: String, field: String = "password", into validator: inout Validator) {
        if password.count < minimumLength {
            validator.add(field, "must be at least \(minimumLength) characters")
        } else if password.utf8.count > maximumBytes {
            validator.add(field, "must be at most \(maximumBytes) bytes")
        }
    }
}

extension Validator {
    /// Validates an e-mail address, returning it normalised (or nil after recording the error).
    public mutating func email(_ raw: String, _ field: String = "email") -> EmailAddress? {
        guard let email = EmailAddress(raw) else {
            add(field, "must be an e-mail address like name@example.com")
            return nil
        }
        return email
    }
}
