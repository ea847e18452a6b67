/// One field that failed validation, named by its JSON path (`social_accounts[0].followers`).
public struct FieldError: Sendable, Equatable, Codable {
    public var field: String
    public var message: String

    public init(field: String, message: String) {
        self.field = field
        self.message = message
    }
}

/// The one error type of Kolab. The HTTP layer maps `code` to a status and a problem document in one
/// table; nothing else decides a status.
public struct KolabError: Error, Sendable, Equatable, CustomStringConvertible {
    /// One human line: the detail, and each field error (what a command prints).
    public var description: String {
        fieldErrors.isEmpty ? detail : detail + " " + fieldErrors.map { "\($0.field) \($0.message)" }.joined(separator: "; ")
    }

    public enum Code: String, Sendable, CaseIterable {
        /// The request could not be read (malformed JSON, a bad id, a tampered cursor): 400.
        case malformed
        /// No token, or a bad or expired one: 401.
        case unauthenticated
        /// The caller sees the resource but its role may not act on it: 403.
        case forbidden
        /// Missing, or not visible to the caller (never told apart): 404.
        case notFound
        /// A known path that does not take this method: 405 (with `Allow`).
        case methodNotAllowed
        /// Illegal state transition, duplicate, or a request still in flight: 409.
        case conflict
        /// `If-Match` does not match the current version: 412.
        case preconditionFailed
        /// The body is over the limit: 413.
        case tooLarge
        /// Input read fine but breaks a rule; carries field errors: 422.
        case invalid
        /// `PATCH` without `If-Match`: 428.
        case preconditionRequired
        /// Too many attempts; carries `retryAfterSeconds`: 429.
        case tooManyRequests
        /// A dependency (the database) cannot be reached: 503.
        case unavailable
        /// A fault of ours; the detail is never shown to the caller: 500.
        case `internal`
    }

    public var code: Code
    public var detail: String
    public var fieldErrors: [FieldError]
    public var retryAfterSeconds: Int?
    /// A collision that a plain retry resolves (serialization failure, deadlock): never stored as an
    /// idempotent answer, so the retry runs.
    public var retryable: Bool

    public init(_ code: Code, _ detail: String, fieldErrors: [FieldError] = [], retryAfterSeconds: Int? = nil, retryable: Bool = false) {
        self.code = code
        self.detail = detail
        self.fieldErrors = fieldErrors
        self.retryAfterSeconds = retryAfterSeconds
        self.retryable = retryable
    }

    /// The same answer for a resource that does not exist and one the caller may not see.
    public static func notFound(_ what: String) -> KolabError {
        KolabError(.notFound, "No \(what) with this id exists, or it is not visible to you.")
    }

    public static func invalid(_ errors: [FieldError]) -> KolabError {
        KolabError(.invalid, "The request has invalid fields; see `errors`.", fieldErrors: errors)
    }

    public static func invalid(field: String, _ message: String) -> KolabError {
        .invalid([FieldError(field: field, message: message)])
    }

    public static func forbidden(_ detail: String) -> KolabError {
        KolabError(.forbidden, detail)
    }

    public static func conflict(_ detail: String) -> KolabError {
        KolabError(.conflict, detail)
    }
}
