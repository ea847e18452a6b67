import Foundation
import Hummingbird
import Logging
import PostgresNIO
import Synchronization

/// The HTTP framework's ceiling for `scripts/bench`: a minimal Hummingbird server answering, for each
/// `--response name=file`, `GET /name` with that file's bytes, doing no database or application work.
///
/// With `--database-url URL --bare-detail SQLFILE --bare-body FILE [--pool-size N]` (default 8) it also serves the bare
/// Hummingbird + PostgresNIO endpoint the issue compares Kolab with: `GET /bare/deliverables/{id}`
/// runs the statement in SQLFILE (`kolab sql deliverables.detail`: `$1` the caller's KOL id, here
/// NULL; `$2` the id) as a prepared statement on a pooled connection, reads its rows without decoding
/// them, and answers FILE's bytes: no authentication, no middleware, no decoding or encoding.
/// Only the benchmark and its measurements run it.
@main
struct KolabCeiling {
    static func main() async throws {
        var port = 8099
        var responses: [(String, ByteBuffer)] = []
        var databaseURL: String?
        var bareSQL: String?
        var bareBody = ByteBuffer()
        var poolSize = 8
        var arguments = CommandLine.arguments.dropFirst().makeIterator()
        while let argument = arguments.next() {
            switch argument {
            case "--port":
                port = arguments.next().flatMap(Int.init) ?? port
            case "--response":
                guard let spec = arguments.next(), let equals = spec.firstIndex(of: "=") else {
                    fatalError("--response takes name=file")
                }
                let file = String(spec[spec.index(after: equals)...])
                responses.append((String(spec[..<equals]), ByteBuffer(bytes: try Data(contentsOf: URL(fileURLWithPath: file)))))
            case "--database-url":
                databaseURL = arguments.next()
            case "--bare-detail":
                bareSQL = try arguments.next().map { try String(contentsOfFile: $0, encoding: .utf8) }
            case "--pool-size":
                poolSize = arguments.next().flatMap(Int.init) ?? poolSize
            case "--bare-body":
                bareBody = try ByteBuffer(bytes: Data(contentsOf: URL(fileURLWithPath: arguments.next() ?? "")))
            default:
                fatalError(
                    "usage: kolab-ceiling [--port P] [--response name=file]... [--database-url URL --bare-detail SQLFILE --bare-body FILE [--pool-size N]]"
                )
            }
        }
        let router = Router()
        for (name, body) in responses {
            router.get(RouterPath(stringLiteral: "/\(name)")) { _, _ in
                Response(
                    status: .ok, headers: [.contentType: "application/json; charset=utf-8", .contentLength: "\(body.readableBytes)"],
                    body: ResponseBody(byteBuffer: body))
            }
        }
        var app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)))
        if let databaseURL, let bareSQL, let components = URLComponents(string: databaseURL) {
            BareDetail.text.withLock { $0 = bareSQL.split(separator: "\n").filter { !$0.hasPrefix("--") }.joined(separator: " ") }
            var configuration = PostgresClient.Configuration(
                host: components.host ?? "127.0.0.1", port: components.port ?? 5432, username: components.user ?? "kolab",
                password: components.password, database: String(components.path.dropFirst()), tls: .disable)
            configuration.options.maximumConnections = poolSize  // as Kolab's pool in the bench
            let client = PostgresClient(configuration: configuration, backgroundLogger: Logger(label: "kolab-ceiling"))
            let logger = Logger(label: "kolab-ceiling")
            let body = bareBody
            router.get("/bare/deliverables/:id") { _, context in
                guard let id = context.parameters.get("id").flatMap(UUID.init(uuidString:)) else { return Response(status: .notFound) }
                try await client.withConnection { connection in
                    for try await _ in try await connection.execute(BareDetail(id: id), logger: logger) {}
                }
                return Response(
                    status: .ok, headers: [.contentType: "application/json; charset=utf-8", .contentLength: "\(body.readableBytes)"],
                    body: ResponseBody(byteBuffer: body))
            }
            app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)))
            app.addServices(client)
        }
        try await app.runService()
    }
}

/// The statement of `--bare-detail`, prepared once per connection like Kolab's own.
struct BareDetail: PostgresPreparedStatement {
    typealias Row = PostgresRow
    static let text = Mutex("")
    static var sql: String { text.withLock { $0 } }
    static let name = "bare.detail"

    var id: UUID

    func makeBindings() -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 2)
        bindings.append(UUID?.none)
        bindings.append(id)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> PostgresRow { row }
}
