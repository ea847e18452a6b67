import KolabDomain
import PostgresNIO

/// The one place where PostgreSQL's refusals become Kolab errors. Constraints carry the invariants;
/// their violations are the client's conflicts or validation errors, never a 500.
extension KolabError {
    /// Maps a constraint violation to a client error; nil for anything else (a real fault).
    public init?(postgres error: any Error) {
        if let psql = error as? PSQLError,
            [.connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown, .poolClosed].contains(psql.code)
        {
            // The connection went away (PostgreSQL stopped, restarted, or the network broke): retry soon.
            self = KolabError(.unavailable, "The database connection was lost; try again in a few seconds.", retryAfterSeconds: 2)
            return
        }
        // postgres-nio's `ConnectionPoolError` lives in an underscored module: matched by its name.
        if String(reflecting: type(of: error)).hasSuffix(".ConnectionPoolError") {
            // The pool could not lend a connection (it is shutting down, or PostgreSQL refused a new
            // one, e.g. "too many clients"): nothing the client did; retry soon.
            self = KolabError(.unavailable, "The database is busy or restarting; try again in a few seconds.", retryAfterSeconds: 2)
            return
        }
        guard let psql = error as? PSQLError, let state = psql.serverInfo?[.sqlState] else { return nil }
        let constraint = psql.serverInfo?[.constraintName] ?? ""
        switch state {
        case "23505":  // unique_violation
            self = .conflict(Self.uniqueMessages[constraint] ?? "This already exists.")
        case "23503":  // foreign_key_violation
            self = .invalid(field: Self.foreignKeyFields[constraint] ?? "id", "refers to something that does not exist")
        case "23514", "23502":  // check_violation, not_null_violation
            self = .invalid(field: constraint.isEmpty ? "body" : constraint, "breaks the rule \(constraint)")
        case "22P02", "22003", "22007", "22008":  // invalid text, out of range, bad date/time
            self = KolabError(.malformed, "A value in the request cannot be read.")
        case "57P01", "57P02", "57P03", "08000", "08003", "08006", "53300":  // shutdown, crash, starting, connection lost, too many clients
            self = KolabError(.unavailable, "The database is restarting; try again in a few seconds.", retryAfterSeconds: 2)
        case "40001", "40P01":  // serialization failure, deadlock: safe to retry
            self = KolabError(.conflict, "The request collided with another one; retry it.", retryable: true)
        case "22021":  // character_not_in_repertoire: a NUL or bad UTF-8 that slipped past decoding
            self = .invalid(field: "body", "holds a character that cannot be stored (NUL or invalid UTF-8)")
        case let state where state.hasPrefix("22"):  // any other data exception: a value the column cannot take
            self = .invalid(field: "body", "holds a value out of the range the service stores")
        case let state where state.hasPrefix("23"):  // any other integrity rule
            self = .conflict("The request breaks a rule of the stored data (\(constraint.isEmpty ? state : constraint)).")
        default:
            return nil
        }
    }

    /// What may be logged of a failure: its kind, and for PostgreSQL its SQLSTATE, constraint and
    /// message code, never bind values, rows or the statement's parameters (they hold e-mails, bank
    /// numbers, tokens). `String(reflecting:)` of a `PSQLError` prints its binds; this never does.
    public static func loggable(_ error: any Error) -> String {
        if let psql = error as? PSQLError {
            let info = psql.serverInfo
            var parts = ["PSQLError \(psql.code)"]
            if let state = info?[.sqlState] { parts.append("sqlstate=\(state)") }
            if let constraint = info?[.constraintName] { parts.append("constraint=\(constraint)") }
            if let table = info?[.tableName] { parts.append("table=\(table)") }
            if let routine = info?[.routine] { parts.append("routine=\(routine)") }
            return parts.joined(separator: " ")
        }
        if let error = error as? KolabError { return "KolabError \(error.code.rawValue)" }
        return "\(type(of: error))"
    }

    static let uniqueMessages: [String: String] = [
        "users_email_unique": "An account with this e-mail already exists.",
        "brands_name_unique": "A brand with this name already exists.",
        "kol_social_accounts_kol_id_platform_handle_key": "A social account is listed twice.",
    ]

    static let foreignKeyFields: [String: String] = [
        "users_brand_id_fkey": "brand_id"
    ]
}
