import Crypto
import Foundation
import Logging
import PostgresNIO
import Synchronization

/// Every statement the stores send runs as a named prepared statement, prepared once per connection
/// and reused, as drivers elsewhere do by default (pgx's statement cache, JDBC's prepareThreshold).
///
/// Why: an unnamed statement is parsed and planned by PostgreSQL on every call. On the benchmark's
/// data that was most of the database's work: pgbench of the deliverable read's four statements
/// reached about 2,070 runs/s unnamed (`-M extended`) and 7,500 prepared (`-M prepared`); the campaign
/// list 2,040 against 4,460.
///
/// How: PostgresNIO prepares statements per connection and remembers which are prepared, but takes
/// the SQL from a `PostgresPreparedStatement` type's static `sql` and `name`. The stores build some SQL
/// at run time (only the filters given become SQL), so `CachedStatement` reads both from a task-local
/// value that `run` binds around the call: the SQL text, and a name derived from its SHA-256. The
/// same text always gets the same name; PostgresNIO prepares it on a connection the first time that
/// connection sees it.
///
/// The one rule this brings: PostgreSQL fixes a statement's parameter types when it is prepared, from
/// the first call's values. A NULL has no type of its own (the server infers one from the context),
/// so a parameter that can be NULL must carry a cast to the PostgreSQL type of its Swift type
/// (`\(officerID)::uuid`, `\(kolSlots)::bigint` for an `Int`); otherwise a later non-NULL `Int` could
/// meet a parameter prepared as `integer`. Debug builds (the tests) check every call for it.
///
/// PostgreSQL plans a prepared statement with its parameters for the first five runs and may then
/// switch to a generic plan when that is not costlier; `PlanTests` EXPLAINs the list queries under
/// `plan_cache_mode = force_generic_plan` as well, so that such a switch cannot bring a sequential scan.
extension PostgresConnection {
    /// Runs `query` as a prepared statement (prepared on this connection the first time).
    @discardableResult
    public func run(_ query: PostgresQuery, logger: Logger) async throws -> StatementRows {
        let statement = StatementText.named(query.sql)
        #if DEBUG
            StatementText.checkParameterTypes(query)
        #endif
        if let recorder = PlanRecorder.current {
            try await recorder.explain(query, on: self, logger: logger)
        }
        do {
            guard PreparedNames.mayPrepare(statement.name, on: self) else {
                // Past the cap for this connection: run it unnamed (parsed and planned each time),
                // so no text a client can vary grows the backend's memory.
                return StatementRows(base: try await self.query(query, logger: logger).map { row throws in row })
            }
            let rows = try await CachedStatement.$current.withValue(statement) {
                try await self.execute(CachedStatement(bindings: query.binds), logger: logger)
            }
            return StatementRows(base: rows)
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == "25P02" {
            // A statement sent inside an already failed transaction fails to prepare, and PostgresNIO
            // then remembers that failure for the statement's name on this connection. Closing the
            // connection lets the pool replace it rather than keep a poisoned cache.
            try? await self.close()
            throw error
        }
    }
}

/// How many statements each connection keeps prepared. Every value a client chooses is a bound
/// parameter (a `LIMIT` too), so the stores have a few dozen texts; the cap is the backstop that keeps
/// a PostgreSQL backend's memory bounded whatever text reaches `run`: past it, a new text runs
/// unnamed. PostgresNIO keeps what it prepared until the connection closes, so the first texts a
/// connection sees stay prepared (the hot ones, in practice) rather than the least recently used.
/// The cap, for tests and operators.
public enum PreparedNamesCap {
    public static var value: Int { PreparedNames.capPerConnection }
}

enum PreparedNames {
    static let capPerConnection = 256
    private static let prepared = Mutex<[ObjectIdentifier: Set<String>]>([:])

    static func mayPrepare(_ name: String, on connection: PostgresConnection) -> Bool {
        let key = ObjectIdentifier(connection)
        return prepared.withLock { table in
            if table[key]?.contains(name) == true { return true }
            // Connections come and go; an identifier can be reused by a new one. Forgetting is safe
            // (PostgresNIO itself knows what each connection has prepared): it only means preparing again.
            if table.count > 4_096 { table.removeAll() }
            guard table[key, default: []].count < capPerConnection else { return false }
            table[key, default: []].insert(name)
            return true
        }
    }
}

/// The rows of a statement run through `run`; decode them as PostgresNIO's own rows.
public struct StatementRows: AsyncSequence, Sendable {
    public typealias Element = PostgresRow
    let base: AsyncThrowingMapSequence<PostgresRowSequence, PostgresRow>

    public func makeAsyncIterator() -> AsyncThrowingMapSequence<PostgresRowSequence, PostgresRow>.AsyncIterator {
        base.makeAsyncIterator()
    }

    /// Every row, for results known to be small.
    public func collect() async throws -> [PostgresRow] {
        var rows: [PostgresRow] = []
        for try await row in base { rows.append(row) }
        return rows
    }
}

/// A statement's SQL and the name it is prepared under.
struct StatementText: Sendable {
    let sql: String
    let name: String

    private static let names = Mutex<[String: String]>([:])

    /// The name for `sql`: `kolab_` and the first 128 bits of its SHA-256 in hex (computed once per text).
    static func named(_ sql: String) -> StatementText {
        if let name = names.withLock({ $0[sql] }) { return StatementText(sql: sql, name: name) }
        let digest = SHA256.hash(data: Data(sql.utf8))
        let name = "kolab_" + digest.prefix(16).map { String(format: "%02x", $0) }.joined()
        names.withLock { $0[sql] = name }
        return StatementText(sql: sql, name: name)
    }
}

#if DEBUG
    extension StatementText {
        /// The rule above, checked on every call of a debug build: each NULL parameter is cast in the SQL,
        /// and an integer parameter is not cast to a narrower integer type than its Swift type binds.
        /// (PostgresNIO keeps the parameters' types internal; a mirror reads them, in debug builds only.)
        static func checkParameterTypes(_ query: PostgresQuery) {
            guard let metadata = Mirror(reflecting: query.binds).children.first(where: { $0.label == "metadata" })?.value else { return }
            for (offset, element) in Mirror(reflecting: metadata).children.enumerated() {
                guard
                    let type = Mirror(reflecting: element.value).children.first(where: { $0.label == "dataType" })?.value
                        as? PostgresDataType
                else { continue }
                let placeholder = "$\(offset + 1)"
                let cast = castType(after: placeholder, in: query.sql)
                if type == .null {
                    precondition(
                        cast != nil,
                        "Parameter \(placeholder) is NULL but has no cast in: \(query.sql)\nCast it to its Swift type's PostgreSQL type "
                            + "(e.g. \\(value)::uuid, ::bigint for Int): the statement is prepared once, with the first call's types.")
                } else if type == .int8, let cast, ["int", "integer", "int4", "smallint", "int2"].contains(cast) {
                    preconditionFailure(
                        "Parameter \(placeholder) binds a 64-bit integer but is cast to \(cast) in: \(query.sql); cast it to bigint.")
                }
            }
        }

        /// The type name in `$3::name` (lower-cased), if `placeholder` is cast wherever it appears first.
        private static func castType(after placeholder: String, in sql: String) -> String? {
            var searchFrom = sql.startIndex
            while let range = sql.range(of: placeholder, range: searchFrom..<sql.endIndex) {
                searchFrom = range.upperBound
                // `$1` must not match the start of `$12`.
                if let next = sql[range.upperBound...].first, next.isNumber { continue }
                let rest = sql[range.upperBound...]
                guard rest.hasPrefix("::") else { return nil }
                return String(rest.dropFirst(2).prefix { $0.isLetter || $0.isNumber || $0 == "_" }).lowercased()
            }
            return nil
        }
    }
#endif

/// The prepared statement whose text is the task-local `current` (see the extension above).
struct CachedStatement: PostgresPreparedStatement {
    @TaskLocal static var current = StatementText(sql: "", name: "")

    static var sql: String { current.sql }
    static var name: String { current.name }

    typealias Row = PostgresRow
    let bindings: PostgresBindings

    func makeBindings() throws -> PostgresBindings { bindings }
    func decodeRow(_ row: PostgresRow) throws -> PostgresRow { row }
}

/// EXPLAINs every statement the stores run while it is bound (`PlanRecorder.$current.withValue`), on
/// the same connection and with the same parameters, before running it: the plan-check test uses it to
/// hold every list query to index access at the scale shape. Each statement is explained twice: with
/// its values (the custom plans of the first runs), and as PostgreSQL's generic plan for the prepared
/// statement (`plan_cache_mode = force_generic_plan`), which it may switch to after five runs.
public final class PlanRecorder: Sendable {
    @TaskLocal public static var current: PlanRecorder?

    public struct Plan: Sendable {
        public var sql: String
        /// `custom` or `generic`.
        public var kind: String
        /// EXPLAIN (FORMAT JSON)'s document.
        public var json: String
    }

    private let recorded = Mutex<[Plan]>([])

    public init() {}

    public var plans: [Plan] { recorded.withLock { $0 } }

    func explain(_ query: PostgresQuery, on connection: PostgresConnection, logger: Logger) async throws {
        var custom = query
        custom.sql = "EXPLAIN (FORMAT JSON) " + query.sql
        var plans: [Plan] = []
        for try await json in try await connection.query(custom, logger: logger).decode(ByteBuffer.self) {
            plans.append(Plan(sql: query.sql, kind: "custom", json: String(buffer: json)))
        }
        // A generic plan does not look at the values: every parameter is NULL in the EXECUTE.
        let name = "kolab_plan_check"
        let nulls = query.binds.count == 0 ? "" : "(" + Array(repeating: "NULL", count: query.binds.count).joined(separator: ", ") + ")"
        try await connection.query(PostgresQuery(unsafeSQL: "PREPARE \(name) AS " + query.sql), logger: logger)
        try await connection.query("SET plan_cache_mode = force_generic_plan", logger: logger)
        do {
            for try await json in try await connection.query(
                PostgresQuery(unsafeSQL: "EXPLAIN (FORMAT JSON) EXECUTE \(name)\(nulls)"), logger: logger
            ).decode(ByteBuffer.self) {
                plans.append(Plan(sql: query.sql, kind: "generic", json: String(buffer: json)))
            }
        } catch {
            _ = try? await connection.query("RESET plan_cache_mode", logger: logger)
            _ = try? await connection.query(PostgresQuery(unsafeSQL: "DEALLOCATE \(name)"), logger: logger)
            throw error
        }
        try await connection.query("RESET plan_cache_mode", logger: logger)
        try await connection.query(PostgresQuery(unsafeSQL: "DEALLOCATE \(name)"), logger: logger)
        recorded.withLock { $0.append(contentsOf: plans) }
    }
}
