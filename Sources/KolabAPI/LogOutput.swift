import Foundation
import Logging
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Where `kolab serve` writes its log: standard error, as swift-log's `StreamLogHandler` would, but
/// buffered. Unbuffered, every line (one per request: the access log) was its own `write` system call,
/// 16% of the deliverable read's throughput (`--log-level info` against `warning`, issue 18). Lines
/// collect in memory and go out in one write every 50 ms, or at once when 64 KiB are waiting; a line
/// of level warning or above goes out at once with everything before it, so what explains a failure
/// is never left in the buffer. At most 50 ms of info lines can be lost if the process dies.
public final class LogOutput: Sendable {
    public static let standardError = LogOutput(fileDescriptor: 2)

    private let pending = Mutex<[UInt8]>([])
    private let fileDescriptor: Int32
    static let threshold = 64 * 1024

    /// Writes to `fileDescriptor`, which stays open for the life of the process.
    public init(fileDescriptor: Int32) {
        self.fileDescriptor = fileDescriptor
        let thread = Thread { [self] in
            while true {
                Thread.sleep(forTimeInterval: 0.05)
                flush()
            }
        }
        thread.name = "kolab-log"
        thread.start()
    }

    /// A handler for `LoggingSystem.bootstrap`: swift-log's line format, this output.
    public static func handler(label: String) -> any LogHandler {
        standardError.handler(label: label)
    }

    /// A handler writing to this output.
    public func handler(label: String) -> any LogHandler {
        LineHandler(label: label, output: self)
    }

    private let clock = Mutex<(second: Int, text: String)>((-1, ""))

    /// `2026-11-28T17:15:39+0000` (UTC), formatted once per second.
    func timestamp() -> String {
        var now = time(nil)
        let second = Int(now)
        if let cached = clock.withLock({ $0.second == second ? $0.text : nil }) { return cached }
        var parts = tm()
        gmtime_r(&now, &parts)
        var buffer = [CChar](repeating: 0, count: 32)
        let count = strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%S+0000", &parts)
        let text = String(decoding: buffer.prefix(count).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        clock.withLock { $0 = (second, text) }
        return text
    }

    func append(_ line: String) {
        let urgent = Self.isUrgent(line)
        let full = pending.withLock { bytes in
            bytes.append(contentsOf: line.utf8)
            return bytes.count >= Self.threshold
        }
        if urgent || full { flush() }
    }

    /// Writes out what is waiting.
    public func flush() {
        let bytes = pending.withLock { bytes in
            defer { bytes.removeAll(keepingCapacity: true) }
            return bytes
        }
        guard !bytes.isEmpty else { return }
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let written = write(fileDescriptor, raw.baseAddress! + offset, raw.count - offset)
                if written <= 0 {
                    if written < 0 && errno == EINTR { continue }
                    return  // nowhere to write to: the log is lost, the service goes on
                }
                offset += written
            }
        }
    }

    /// Lines of level warning and above (`<timestamp> <level> <label>: ...`) are written at once.
    static func isUrgent(_ line: String) -> Bool {
        guard let space = line.utf8.firstIndex(of: UInt8(ascii: " ")) else { return true }
        let level = line.utf8[line.utf8.index(after: space)...].prefix { $0 != UInt8(ascii: " ") }
        for quiet in ["info", "debug", "trace", "notice"] where level.elementsEqual(quiet.utf8) { return false }
        return true
    }

}

/// swift-log's `StreamLogHandler` line (`<time> <level> <label>: <metadata, by key> [<source>] <message>`),
/// with the time formatted once per second instead of once per line.
struct LineHandler: LogHandler {
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider? = LoggingSystem.metadataProvider
    let label: String
    let output: LogOutput

    init(label: String, output: LogOutput) {
        self.label = label
        self.output = output
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var all = metadata
        if let provided = metadataProvider?.get(), !provided.isEmpty { all.merge(provided) { $1 } }
        if let explicit = event.metadata, !explicit.isEmpty { all.merge(explicit) { $1 } }
        if let error = event.error {
            all["error.message"] = "\(error)"
            all["error.type"] = "\(String(reflecting: type(of: error)))"
        }
        var line = output.timestamp()
        line += " "
        line += event.level.rawValue
        if !label.isEmpty {
            line += " "
            line += label
        }
        line += ":"
        for (key, value) in all.sorted(by: { $0.key < $1.key }) {
            line += " "
            line += key
            line += "="
            line += value.description
        }
        line += " ["
        line += event.source
        line += "] "
        line += event.message.description
        line += "\n"
        output.append(line)
    }
}
