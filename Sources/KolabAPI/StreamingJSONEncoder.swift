import Foundation
import NIOCore

/// Kolab's response encoder: writes JSON straight into a `ByteBuffer` as the value's `encode(to:)`
/// runs, with the conventions of the API (snake_case keys, RFC 3339 UTC times without fractions,
/// lower-case UUIDs, `/` unescaped).
///
/// Foundation's `JSONEncoder` first builds a tree of boxed values and dictionaries and then
/// serialises it; under `perf` that was over half of the service's CPU on a 50-campaign page. This
/// encoder keeps no tree: a container writes its opening bracket when it is asked for and is closed
/// when the value that opened it returns. It supports what `Codable` types produce when they encode
/// their fields in order (synthesised conformances and hand-written `encode(to:)` alike); a
/// container that is written to after a sibling nested container was opened closes that sibling
/// first, and a container used after it was closed is a programming error that throws.
public struct StreamingJSONEncoder: Sendable {
    public init() {}

    public func encode(_ value: some Encodable, into buffer: inout ByteBuffer) throws {
        let writer = JSONStreamWriter(buffer: buffer)
        buffer = ByteBuffer()  // hand the storage over, so that appends do not copy it
        defer { buffer = writer.buffer }
        try writer.encodeValue(value, key: nil)
    }

    public func encode(_ value: some Encodable) throws -> ByteBuffer {
        var buffer = ByteBufferAllocator().buffer(capacity: 4096)
        try encode(value, into: &buffer)
        return buffer
    }
}

/// The shared state of one encoding: the output and the stack of open containers.
final class JSONStreamWriter {
    // One writer serves one encoding on one task and none of its methods re-enters another access to
    // these properties, so the runtime's exclusivity checks (a sixth of the service's CPU on a
    // 50-campaign page under perf) guard nothing here.
    @exclusivity(unchecked) var buffer: ByteBuffer

    /// An open object or array: its depth in the stack and whether it holds an element yet.
    private struct Open {
        var isObject: Bool
        var hasElements: Bool
    }
    @exclusivity(unchecked) private var stack: [Open] = []
    /// The keys from the root to the value being encoded, kept as a stack (pushed and popped, never
    /// copied) and turned into an array only when someone asks for a coding path.
    @exclusivity(unchecked) private var keys: [any CodingKey] = []

    func codingPath(_ count: Int, plus key: (any CodingKey)? = nil) -> [any CodingKey] {
        var path = Array(keys.prefix(count))
        if let key { path.append(key) }
        return path
    }
    var keyCount: Int { keys.count }

    init(buffer: ByteBuffer) {
        self.buffer = buffer
        stack.reserveCapacity(8)
    }

    // MARK: Values

    /// Encodes one value: scalars directly, everything else through its `encode(to:)`, after which
    /// the containers it opened are closed.
    func encodeValue<T: Encodable>(_ value: T, key: (any CodingKey)?) throws {
        if T.self == Date.self {
            writeDate(unsafeBitCast(value, to: Date.self))
        } else if T.self == UUID.self {
            writeUUID(unsafeBitCast(value, to: UUID.self))
        } else if T.self == String.self {
            writeString(value as! String)
        } else {
            let depth = stack.count
            if let key { keys.append(key) }
            defer { if key != nil { keys.removeLast() } }
            let encoder = JSONStreamEncoderImpl(writer: self, pathCount: keys.count, depth: depth)
            try value.encode(to: encoder)
            if stack.count == depth && !encoder.wroteValue {
                // A type that asked for no container (an empty `encode(to:)`) encodes as `{}`.
                buffer.writeStaticString("{}")
            }
            close(downTo: depth)
        }
    }

    func writeNull() { buffer.writeStaticString("null") }
    func writeBool(_ value: Bool) {
        if value {
            buffer.writeStaticString("true")
        } else {
            buffer.writeStaticString("false")
        }
    }

    func writeInteger<I: FixedWidthInteger>(_ value: I) {
        if value == 0 {
            buffer.writeInteger(UInt8(ascii: "0"))
            return
        }
        var digits: (UInt64, Bool) = (UInt64(value.magnitude), value < 0)
        if digits.1 { buffer.writeInteger(UInt8(ascii: "-")) }
        // 20 digits hold any UInt64.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { scratch in
            var index = 20
            while digits.0 > 0 {
                index -= 1
                scratch[index] = UInt8(ascii: "0") + UInt8(digits.0 % 10)
                digits.0 /= 10
            }
            buffer.writeBytes(UnsafeBufferPointer(rebasing: scratch[index..<20]))
        }
    }

    func writeDouble(_ value: Double, pathCount: Int, key: (any CodingKey)? = nil) throws {
        guard value.isFinite else {
            throw EncodingError.invalidValue(
                value, .init(codingPath: codingPath(pathCount, plus: key), debugDescription: "\(value) is not valid in JSON"))
        }
        var text = value.description
        if text.hasSuffix(".0") { text.removeLast(2) }
        buffer.writeString(text)
    }

    func writeString(_ string: String) {
        buffer.writeInteger(UInt8(ascii: "\""))
        var string = string
        string.withUTF8 { bytes in
            var start = 0
            for index in 0..<bytes.count {
                let byte = bytes[index]
                guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
                if start < index { buffer.writeBytes(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(bytes)[start..<index])) }
                start = index + 1
                switch byte {
                case UInt8(ascii: "\""): buffer.writeStaticString("\\\"")
                case UInt8(ascii: "\\"): buffer.writeStaticString("\\\\")
                case 0x0A: buffer.writeStaticString("\\n")
                case 0x0D: buffer.writeStaticString("\\r")
                case 0x09: buffer.writeStaticString("\\t")
                case 0x08: buffer.writeStaticString("\\b")
                case 0x0C: buffer.writeStaticString("\\f")
                default:
                    let hex: StaticString = "0123456789abcdef"
                    buffer.writeStaticString("\\u00")
                    buffer.writeInteger(hex.utf8Start[Int(byte >> 4)])
                    buffer.writeInteger(hex.utf8Start[Int(byte & 0x0F)])
                }
            }
            if start < bytes.count { buffer.writeBytes(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(bytes)[start...])) }
        }
        buffer.writeInteger(UInt8(ascii: "\""))
    }

    /// `2026-11-22T10:27:37Z`: whole seconds, UTC, like Foundation's `.iso8601` strategy. Total: any
    /// `Date` is written without trapping. Requests only admit 2000...2100 (`Timestamp`), but a value
    /// stored by an older version, or by hand, must never take a list down: years past 9999 are
    /// written in full and years before 1 with a sign (ISO 8601's expanded form); a non-finite date is
    /// pinned to the nearest representable second.
    func writeDate(_ date: Date) {
        let interval = date.timeIntervalSince1970
        let limit = 1e15  // about 31 million years either way: far inside Int64
        let seconds = interval.isNaN ? 0 : Int64(Swift.max(-limit, Swift.min(limit, interval)).rounded(.down))
        // Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
        var days = seconds / 86_400
        var secondOfDay = seconds % 86_400
        if secondOfDay < 0 {
            secondOfDay += 86_400
            days -= 1
        }
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)

        if (0...9999).contains(year) {
            // Every stored date: `"YYYY-MM-DDTHH:MM:SSZ"` in one write (twenty writes of a byte each were
            // 7% of the service's CPU on a worklist page; perf, issue 18).
            buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 22) { out in
                func put(_ value: Int64, at start: Int, width: Int) {
                    var rest = value
                    for offset in stride(from: start + width - 1, through: start, by: -1) {
                        out[offset] = UInt8(ascii: "0") + UInt8(rest % 10)
                        rest /= 10
                    }
                }
                out[0] = UInt8(ascii: "\"")
                put(year, at: 1, width: 4)
                out[5] = UInt8(ascii: "-")
                put(month, at: 6, width: 2)
                out[8] = UInt8(ascii: "-")
                put(day, at: 9, width: 2)
                out[11] = UInt8(ascii: "T")
                put(secondOfDay / 3600, at: 12, width: 2)
                out[14] = UInt8(ascii: ":")
                put(secondOfDay / 60 % 60, at: 15, width: 2)
                out[17] = UInt8(ascii: ":")
                put(secondOfDay % 60, at: 18, width: 2)
                out[20] = UInt8(ascii: "Z")
                out[21] = UInt8(ascii: "\"")
                return 22
            }
            return
        }
        buffer.writeInteger(UInt8(ascii: "\""))
        if year < 0 { buffer.writeInteger(UInt8(ascii: "-")) }
        writePadded(year.magnitude, width: 4)
        buffer.writeInteger(UInt8(ascii: "-"))
        writePadded(UInt64(month), width: 2)
        buffer.writeInteger(UInt8(ascii: "-"))
        writePadded(UInt64(day), width: 2)
        buffer.writeInteger(UInt8(ascii: "T"))
        writePadded(UInt64(secondOfDay / 3600), width: 2)
        buffer.writeInteger(UInt8(ascii: ":"))
        writePadded(UInt64(secondOfDay / 60 % 60), width: 2)
        buffer.writeInteger(UInt8(ascii: ":"))
        writePadded(UInt64(secondOfDay % 60), width: 2)
        buffer.writeStaticString("Z\"")
    }

    /// At least `width` digits, more when the value needs them.
    private func writePadded(_ value: UInt64, width: Int) {
        var divisor: UInt64 = 1
        var digits = 1
        while digits < width || value / divisor >= 10 {
            divisor *= 10
            digits += 1
        }
        var rest = value
        while divisor > 0 {
            buffer.writeInteger(UInt8(ascii: "0") + UInt8(rest / divisor % 10))
            rest %= divisor
            divisor /= 10
        }
    }

    /// Lower case (RFC 9562, as DESIGN.md asks everywhere); written in one step (38 bytes with the quotes).
    func writeUUID(_ uuid: UUID) {
        var bytes = uuid.uuid
        _ = withUnsafeBytes(of: &bytes) { source in
            buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 38) { out -> Int in
                let hex: StaticString = "0123456789abcdef"
                let digits = hex.utf8Start
                out[0] = UInt8(ascii: "\"")
                var index = 1
                for position in 0..<16 {
                    if position == 4 || position == 6 || position == 8 || position == 10 {
                        out[index] = UInt8(ascii: "-")
                        index += 1
                    }
                    let byte = source[position]
                    out[index] = digits[Int(byte >> 4)]
                    out[index + 1] = digits[Int(byte & 0x0F)]
                    index += 2
                }
                out[index] = UInt8(ascii: "\"")
                return index + 1
            }
        }
    }

    // MARK: Containers

    /// Opens an object or array at `depth` (the number of containers open above it).
    func open(isObject: Bool) -> Int {
        buffer.writeInteger(isObject ? UInt8(ascii: "{") : UInt8(ascii: "["))
        stack.append(Open(isObject: isObject, hasElements: false))
        return stack.count - 1
    }

    /// Starts the next element of the container at `index`: closes nested containers left open
    /// above it, then writes the separating comma.
    func beginElement(of index: Int, pathCount: Int, key: (any CodingKey)? = nil) throws {
        guard index < stack.count else {
            throw EncodingError.invalidValue(
                (),
                .init(codingPath: codingPath(pathCount, plus: key), debugDescription: "a JSON container was written to after it was closed")
            )
        }
        close(downTo: index + 1)
        if stack[index].hasElements { buffer.writeInteger(UInt8(ascii: ",")) }
        stack[index].hasElements = true
    }

    /// Writes `"snake_case_key":`, converting the Swift name as it goes (`rateIdrPer1000` ->
    /// `rate_idr_per_1000`, as `SnakeCaseKeys.convert`), so that no key is allocated or looked up.
    func writeKey(_ key: some CodingKey) {
        var name = key.stringValue
        let plain = name.withUTF8 { bytes -> Bool in
            // At most one `_` per byte, plus the quotes and the colon.
            buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: bytes.count * 2 + 3) { out -> Int in
                var index = 0
                out[index] = UInt8(ascii: "\"")
                index += 1
                var previousIsLetter = false
                for position in 0..<bytes.count {
                    let byte = bytes[position]
                    switch byte {
                    case UInt8(ascii: "A")...UInt8(ascii: "Z"):
                        if position > 0 {
                            out[index] = UInt8(ascii: "_")
                            index += 1
                        }
                        out[index] = byte + 32
                        previousIsLetter = true
                    case UInt8(ascii: "a")...UInt8(ascii: "z"):
                        out[index] = byte
                        previousIsLetter = true
                    case UInt8(ascii: "0")...UInt8(ascii: "9"):
                        if previousIsLetter {
                            out[index] = UInt8(ascii: "_")
                            index += 1
                        }
                        out[index] = byte
                        previousIsLetter = false
                    case UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "."):
                        out[index] = byte
                        previousIsLetter = false
                    default:
                        return 0  // anything else (non-ASCII, quotes, controls) takes the general path below
                    }
                    index += 1
                }
                out[index] = UInt8(ascii: "\"")
                out[index + 1] = UInt8(ascii: ":")
                return index + 2
            } > 0
        }
        if !plain {
            writeString(SnakeCaseKeys.convert(name))
            buffer.writeInteger(UInt8(ascii: ":"))
        }
    }

    /// Closes every container at `depth` and above.
    func close(downTo depth: Int) {
        while stack.count > depth {
            let open = stack.removeLast()
            buffer.writeInteger(open.isObject ? UInt8(ascii: "}") : UInt8(ascii: "]"))
        }
    }
}

/// The `Encoder` handed to each non-scalar value.
private final class JSONStreamEncoderImpl: Encoder {
    let writer: JSONStreamWriter
    let pathCount: Int
    let depth: Int
    var codingPath: [any CodingKey] { writer.codingPath(pathCount) }
    /// Whether a single value or container was produced (an `encode(to:)` may produce nothing).
    var wroteValue = false
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    init(writer: JSONStreamWriter, pathCount: Int, depth: Int) {
        self.writer = writer
        self.pathCount = pathCount
        self.depth = depth
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        wroteValue = true
        // A type that asks twice (e.g. a subclass) keeps writing into the same object.
        if writer.stackCount > depth, writer.isObject(at: depth) {
            return KeyedEncodingContainer(JSONKeyedContainer<Key>(writer: writer, index: depth, pathCount: pathCount))
        }
        let index = writer.open(isObject: true)
        return KeyedEncodingContainer(JSONKeyedContainer<Key>(writer: writer, index: index, pathCount: pathCount))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        wroteValue = true
        let index = writer.open(isObject: false)
        return JSONUnkeyedContainer(writer: writer, index: index, pathCount: pathCount)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        wroteValue = true
        return JSONSingleValueContainer(writer: writer, pathCount: pathCount)
    }
}

extension JSONStreamWriter {
    var stackCount: Int { stack.count }
    func isObject(at index: Int) -> Bool { stack[index].isObject }
}

private struct JSONKeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let writer: JSONStreamWriter
    let index: Int
    let pathCount: Int
    var codingPath: [any CodingKey] { writer.codingPath(pathCount) }

    private func begin(_ key: Key) throws {
        try writer.beginElement(of: index, pathCount: pathCount, key: key)
        writer.writeKey(key)
    }

    mutating func encodeNil(forKey key: Key) throws {
        try begin(key)
        writer.writeNull()
    }
    mutating func encode(_ value: Bool, forKey key: Key) throws {
        try begin(key)
        writer.writeBool(value)
    }
    mutating func encode(_ value: String, forKey key: Key) throws {
        try begin(key)
        writer.writeString(value)
    }
    mutating func encode(_ value: Double, forKey key: Key) throws {
        try begin(key)
        try writer.writeDouble(value, pathCount: pathCount, key: key)
    }
    mutating func encode(_ value: Float, forKey key: Key) throws {
        try begin(key)
        try writer.writeDouble(Double(value), pathCount: pathCount, key: key)
    }
    mutating func encode(_ value: Int, forKey key: Key) throws { try begin(key); writer.writeInteger(value) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { try begin(key); writer.writeInteger(value) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { try begin(key); writer.writeInteger(value) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { try begin(key); writer.writeInteger(value) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { try begin(key); writer.writeInteger(value) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { try begin(key); writer.writeInteger(value) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { try begin(key); writer.writeInteger(value) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { try begin(key); writer.writeInteger(value) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { try begin(key); writer.writeInteger(value) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { try begin(key); writer.writeInteger(value) }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        try begin(key)
        try writer.encodeValue(value, key: key)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key)
        -> KeyedEncodingContainer<NestedKey>
    {
        // `begin` can only throw for a closed container; a nested container of one then writes
        // nowhere visible and the outer `encode` reports the misuse on its next write.
        try? begin(key)
        let nested = writer.open(isObject: true)
        return KeyedEncodingContainer(JSONKeyedContainer<NestedKey>(writer: writer, index: nested, pathCount: pathCount))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        try? begin(key)
        let nested = writer.open(isObject: false)
        return JSONUnkeyedContainer(writer: writer, index: nested, pathCount: pathCount)
    }

    mutating func superEncoder() -> any Encoder {
        superEncoder(forKey: Key(stringValue: "super")!)
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        try? begin(key)
        return JSONStreamEncoderImpl(writer: writer, pathCount: pathCount, depth: writer.stackCount)
    }
}

private struct JSONUnkeyedContainer: UnkeyedEncodingContainer {
    let writer: JSONStreamWriter
    let index: Int
    let pathCount: Int
    var codingPath: [any CodingKey] { writer.codingPath(pathCount) }
    private(set) var count = 0

    init(writer: JSONStreamWriter, index: Int, pathCount: Int) {
        self.writer = writer
        self.index = index
        self.pathCount = pathCount
    }

    private mutating func begin() throws {
        try writer.beginElement(of: index, pathCount: pathCount)
        count += 1
    }

    mutating func encodeNil() throws { try begin(); writer.writeNull() }
    mutating func encode(_ value: Bool) throws { try begin(); writer.writeBool(value) }
    mutating func encode(_ value: String) throws { try begin(); writer.writeString(value) }
    mutating func encode(_ value: Double) throws { try begin(); try writer.writeDouble(value, pathCount: pathCount) }
    mutating func encode(_ value: Float) throws { try begin(); try writer.writeDouble(Double(value), pathCount: pathCount) }
    mutating func encode(_ value: Int) throws { try begin(); writer.writeInteger(value) }
    mutating func encode(_ value: Int8) throws { try begin(); writer.writeInteger(value) }
    mutating func encode(_ value: Int16) throws { try begin(); writer.writeInteger(value) }
    mutating func encode(_ value: Int32) throws { try begin(); writer.writeInteger(value) }
    mutating func encode(_ value: Int64) throws { try begin(); writer.writeInteger(value) }
    mutating func encode(_ value: UInt) throws { try begin(); writer.writeInteger(value) }
    mutating func encode(_ value: UInt8) throws { try begin(); writer.writeInteger(value) }
    mutating func encode(_ value: UInt16) throws { try begin(); writer.writeInteger(value) }
    mutating func encode(_ value: UInt32) throws { try begin(); writer.writeInteger(value) }
    mutating func encode(_ value: UInt64) throws { try begin(); writer.writeInteger(value) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        try begin()
        try writer.encodeValue(value, key: nil)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        try? begin()
        let nested = writer.open(isObject: true)
        return KeyedEncodingContainer(JSONKeyedContainer<NestedKey>(writer: writer, index: nested, pathCount: pathCount))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        try? begin()
        let nested = writer.open(isObject: false)
        return JSONUnkeyedContainer(writer: writer, index: nested, pathCount: pathCount)
    }

    mutating func superEncoder() -> any Encoder {
        try? begin()
        return JSONStreamEncoderImpl(writer: writer, pathCount: pathCount, depth: writer.stackCount)
    }
}

private struct JSONSingleValueContainer: SingleValueEncodingContainer {
    let writer: JSONStreamWriter
    let pathCount: Int
    var codingPath: [any CodingKey] { writer.codingPath(pathCount) }

    mutating func encodeNil() throws { writer.writeNull() }
    mutating func encode(_ value: Bool) throws { writer.writeBool(value) }
    mutating func encode(_ value: String) throws { writer.writeString(value) }
    mutating func encode(_ value: Double) throws { try writer.writeDouble(value, pathCount: pathCount) }
    mutating func encode(_ value: Float) throws { try writer.writeDouble(Double(value), pathCount: pathCount) }
    mutating func encode(_ value: Int) throws { writer.writeInteger(value) }
    mutating func encode(_ value: Int8) throws { writer.writeInteger(value) }
    mutating func encode(_ value: Int16) throws { writer.writeInteger(value) }
    mutating func encode(_ value: Int32) throws { writer.writeInteger(value) }
    mutating func encode(_ value: Int64) throws { writer.writeInteger(value) }
    mutating func encode(_ value: UInt) throws { writer.writeInteger(value) }
    mutating func encode(_ value: UInt8) throws { writer.writeInteger(value) }
    mutating func encode(_ value: UInt16) throws { writer.writeInteger(value) }
    mutating func encode(_ value: UInt32) throws { writer.writeInteger(value) }
    mutating func encode(_ value: UInt64) throws { writer.writeInteger(value) }
    mutating func encode<T: Encodable>(_ value: T) throws { try writer.encodeValue(value, key: nil) }
}

// MARK: - Hand-written responses

/// A response that writes its JSON field by field, without the `Encodable` machinery (containers,
/// boxes, generic dispatch per field). Kept for the documents the busiest routes answer many times
/// over (a page of campaigns, a deliverable, the worklist); `StreamingJSONEncoderTests` holds their
/// keys to the OpenAPI document's schemas.
protocol JSONWritable {
    func writeJSON(to writer: JSONStreamWriter)
}

extension JSONStreamWriter {
    /// Writes `{ ... }`, the fields written by `body`.
    func writeObject(_ body: (inout JSONObjectWriter) -> Void) {
        buffer.writeInteger(UInt8(ascii: "{"))
        var object = JSONObjectWriter(writer: self)
        body(&object)
        buffer.writeInteger(UInt8(ascii: "}"))
    }

    func writeArray<Element>(_ elements: some Sequence<Element>, _ write: (Element) -> Void) {
        buffer.writeInteger(UInt8(ascii: "["))
        var first = true
        for element in elements {
            if !first { buffer.writeInteger(UInt8(ascii: ",")) }
            first = false
            write(element)
        }
        buffer.writeInteger(UInt8(ascii: "]"))
    }
}

/// The fields of one object; keys are given in their JSON spelling.
struct JSONObjectWriter {
    let writer: JSONStreamWriter
    private var first = true

    init(writer: JSONStreamWriter) {
        self.writer = writer
    }

    /// `,"name":` (no comma before the first), in one write.
    mutating func key(_ name: StaticString) {
        let comma = !first
        first = false
        let count = name.utf8CodeUnitCount
        writer.buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: count + 4) { out in
            var index = 0
            if comma {
                out[0] = UInt8(ascii: ",")
                index = 1
            }
            out[index] = UInt8(ascii: "\"")
            out.baseAddress!.advanced(by: index + 1).copyMemory(from: name.utf8Start, byteCount: count)
            out[index + 1 + count] = UInt8(ascii: "\"")
            out[index + 2 + count] = UInt8(ascii: ":")
            return index + 3 + count
        }
    }

    mutating func field(_ name: StaticString, _ value: String) {
        key(name)
        writer.writeString(value)
    }
    mutating func field(_ name: StaticString, _ value: UUID) {
        key(name)
        writer.writeUUID(value)
    }
    mutating func field(_ name: StaticString, _ value: Date) {
        key(name)
        writer.writeDate(value)
    }
    mutating func field(_ name: StaticString, _ value: Bool) {
        key(name)
        writer.writeBool(value)
    }
    mutating func field(_ name: StaticString, _ value: some FixedWidthInteger) {
        key(name)
        writer.writeInteger(value)
    }
    mutating func field<Value: RawRepresentable<String>>(_ name: StaticString, _ value: Value) {
        key(name)
        writer.writeString(value.rawValue)
    }
    mutating func field(_ name: StaticString, _ values: [String]) {
        key(name)
        writer.writeArray(values) { writer.writeString($0) }
    }
    mutating func field<Value: RawRepresentable<String>>(_ name: StaticString, _ values: [Value]) {
        key(name)
        writer.writeArray(values) { writer.writeString($0.rawValue) }
    }
    /// An optional field is always present: `null` when there is no value.
    mutating func field<Value>(_ name: StaticString, _ value: Value?, _ write: (JSONStreamWriter, Value) -> Void) {
        key(name)
        if let value { write(writer, value) } else { writer.writeNull() }
    }
    mutating func field(_ name: StaticString, _ value: String?) { field(name, value) { $0.writeString($1) } }
    mutating func field(_ name: StaticString, _ value: UUID?) { field(name, value) { $0.writeUUID($1) } }
    mutating func field(_ name: StaticString, _ value: Date?) { field(name, value) { $0.writeDate($1) } }
    mutating func field(_ name: StaticString, _ value: Int?) { field(name, value) { $0.writeInteger($1) } }
    mutating func field(_ name: StaticString, _ value: Int64?) { field(name, value) { $0.writeInteger($1) } }
    /// A number; `null` when there is none, and for a value JSON cannot hold (infinite, NaN).
    mutating func field(_ name: StaticString, _ value: Double?) {
        field(name, value.flatMap { $0.isFinite ? $0 : nil }) { try? $0.writeDouble($1, pathCount: 0) }
    }

    /// A field whose name is data (a status in a funnel), not a fixed key.
    mutating func field(named name: String, _ value: Int) {
        if !first { writer.buffer.writeInteger(UInt8(ascii: ",")) }
        first = false
        writer.writeString(name)
        writer.buffer.writeInteger(UInt8(ascii: ":"))
        writer.writeInteger(value)
    }

    mutating func object(_ name: StaticString, _ body: (inout JSONObjectWriter) -> Void) {
        key(name)
        writer.writeObject(body)
    }
}

extension ListResponse: JSONWritable where Item: JSONWritable {
    func writeJSON(to writer: JSONStreamWriter) {
        writer.writeObject { object in
            object.key("data")
            writer.writeArray(data) { $0.writeJSON(to: writer) }
            object.field("next_cursor", nextCursor)
        }
    }
}

extension StreamingJSONEncoder {
    /// A hand-written document.
    func encode(writable value: some JSONWritable) -> ByteBuffer {
        let writer = JSONStreamWriter(buffer: ByteBufferAllocator().buffer(capacity: 4096))
        value.writeJSON(to: writer)
        return writer.buffer
    }
}
