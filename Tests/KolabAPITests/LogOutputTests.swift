import Foundation
import KolabAPI
import Logging
import Testing

/// `kolab serve`'s log output: swift-log's line format, written in batches, warnings at once.
@Suite("Log output")
struct LogOutputTests {
    final class LogFile: Sendable {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("kolab-log-\(UUID().uuidString).txt")
        let output: LogOutput

        init() {
            FileManager.default.createFile(atPath: url.path, contents: nil)
            output = LogOutput(fileDescriptor: open(url.path, O_WRONLY | O_APPEND))
        }

        var text: String { (try? String(contentsOf: url, encoding: .utf8)) ?? "" }
    }

    @Test func linesKeepSwiftLogsFormatAndInfoGoesOutWithTheNextBatch() async throws {
        let file = LogFile()
        var logger = Logger(label: "kolab", factory: file.output.handler)
        logger[metadataKey: "b"] = "2"
        logger.info("request", metadata: ["a": "1", "path": "/v1/me"], source: "KolabAPI")
        // An info line waits (at most 50 ms) for the batch it goes out with.
        let deadline = ContinuousClock.now + .seconds(2)
        while file.text.isEmpty && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        let line = file.text
        #expect(line.hasSuffix(" info kolab: a=1 b=2 path=/v1/me [KolabAPI] request\n"), "\(line)")
        let timestamp = String(line.prefix(24))
        #expect(timestamp.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0000/) != nil, "\(timestamp)")
    }

    @Test func aWarningGoesOutAtOnceWithEverythingBeforeIt() {
        let file = LogFile()
        let logger = Logger(label: "kolab", factory: file.output.handler)
        logger.info("first")
        logger.warning("PostgreSQL cannot be reached")
        let lines = file.text.split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines.first?.hasSuffix("first") == true)
        #expect(lines.last?.contains(" warning kolab: ") == true)
    }

    @Test func flushWritesWhatIsWaiting() {
        let file = LogFile()
        let logger = Logger(label: "kolab", factory: file.output.handler)
        for n in 0..<100 { logger.info("line \(n)") }
        file.output.flush()
        #expect(file.text.split(separator: "\n").count == 100)
    }
}
