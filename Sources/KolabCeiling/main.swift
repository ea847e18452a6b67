import Foundation
import Hummingbird

/// The HTTP framework's ceiling for `scripts/bench`: a minimal Hummingbird server answering, for each
/// `--response name=file`, `GET /name` with that file's bytes, doing no database or application work.
/// Only the benchmark runs it.
@main
struct KolabCeiling {
    static func main() async throws {
        var port = 8099
        var responses: [(String, ByteBuffer)] = []
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
            default:
                fatalError("usage: kolab-ceiling [--port P] [--response name=file]...")
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
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)))
        try await app.runService()
    }
}
