import Foundation
import PostgresNIO

/// A row's place in a keyset-ordered list: `(created_at, id)` with the time in whole microseconds as
/// PostgreSQL stores it (so a position read back compares exactly), or a sequence number (`events.seq`)
/// in `micros` for lists ordered by one.
public struct PagePosition: Sendable, Hashable, Codable {
    public var micros: Int64
    public var id: UUID

    public init(micros: Int64, id: UUID) {
        self.micros = micros
        self.id = id
    }
}

/// One page of a list, and the position after its last row when more follow.
public struct Page<Item: Sendable>: Sendable {
    public var items: [Item]
    public var next: PagePosition?

    public init(items: [Item], next: PagePosition?) {
        self.items = items
        self.next = next
    }

    /// Builds a page from `limit + 1` fetched rows: the extra row only says that more follow.
    public init(fetched: [Item], limit: Int, position: (Item) -> PagePosition) {
        if fetched.count > limit {
            let items = Array(fetched.prefix(limit))
            self.init(items: items, next: items.last.map(position))
        } else {
            self.init(items: fetched, next: nil)
        }
    }
}

/// The SQL pieces that every keyset list shares.
enum Keyset {
    /// `created_at` as exact microseconds since the epoch (numeric, then bigint: no float rounding).
    static func micros(_ column: String) -> String {
        "(EXTRACT(EPOCH FROM \(column)) * 1000000)::bigint"
    }

    /// Appends `AND (created_at, id) > (position)` when there is a position (lists oldest first).
    static func after(_ position: PagePosition?, createdAt: String, id: String, into query: inout PostgresQuery) {
        append(position, createdAt: createdAt, id: id, comparison: ">", into: &query)
    }

    /// Appends `AND (created_at, id) < (position)` when there is a position (lists newest first).
    static func before(_ position: PagePosition?, createdAt: String, id: String, into query: inout PostgresQuery) {
        append(position, createdAt: createdAt, id: id, comparison: "<", into: &query)
    }

    private static func append(
        _ position: PagePosition?, createdAt: String, id: String, comparison: String, into query: inout PostgresQuery
    ) {
        guard let position else { return }
        query.sql +=
            " AND (\(createdAt), \(id)) \(comparison) (timestamptz 'epoch' + $\(query.binds.count + 1) * interval '1 microsecond', $\(query.binds.count + 2))"
        query.binds.append(position.micros)
        query.binds.append(position.id)
    }
}

extension PostgresQuery {
    /// Binds `value` as the next parameter and returns its placeholder (`$3`), for queries assembled
    /// from optional parts.
    mutating func bind<Value: PostgresDynamicTypeEncodable>(_ value: Value?) -> String {
        binds.append(value)
        return "$\(binds.count)"
    }
}

/// Reads a row's columns in order, one typed cell at a time. PostgresNIO's tuple decoding goes
/// through parameter packs that the compiler cannot specialise, and looked up generic metadata for
/// every column of every row (a fifth of the service's CPU on a page of 50 campaigns); the cell
/// decoder is inlinable, so this specialises per column type.
struct RowReader {
    private var cells: PostgresRow.Iterator

    init(_ row: PostgresRow) {
        cells = row.makeIterator()
    }

    mutating func next<Value: PostgresDecodable>(_: Value.Type = Value.self) throws -> Value {
        guard let cell = cells.next() else { throw PostgresDecodingError.Code.missingData }
        return try cell.decode(Value.self, context: .default)
    }

    /// Passes over `count` cells without decoding them.
    mutating func skip(_ count: Int) {
        for _ in 0..<count { _ = cells.next() }
    }
}
