import Foundation
import KolabDomain
import KolabStore

/// The one way a request body becomes a request type. Stricter than `JSONDecoder`, by contract:
/// - a member the type does not declare answers 422 naming it (a typo is never silently dropped);
/// - a string holding U+0000 answers 422 naming its field (PostgreSQL cannot store it), and text
///   that is not valid UTF-8 likewise;
/// - a time is strict RFC 3339, a real date between 2000 and 2100 (`Timestamp`), else 422;
/// - integers are integers (`1.5` or `1e3` for a count answers 422), booleans are `true`/`false`;
/// - a member written twice, or nesting deeper than 64 levels, is refused before decoding.
/// Unreadable JSON is a 400; every other failure is a 422 naming the field as the client wrote it.
enum BodyDecoder {
    static func decode<T: Decodable>(_ type: T.Type, from bytes: some Collection<UInt8>) throws -> T {
        var parser = JSONParser(bytes: Array(bytes))
        let value = try parser.parseDocument()
        guard case .object = value else { throw KolabError(.malformed, "The body must be a JSON object.") }
        let state = DecodingState()
        let decoded: T
        do {
            decoded = try T(from: ValueDecoder(value: value, path: [], state: state))
        } catch {
            // A fault decoding could not step over (a missing nested object): with those recorded before it.
            guard let fields = DecodingState.fieldErrors(error) else { throw error }
            throw KolabError.invalid(state.errors + fields.filter { !state.errors.contains($0) })
        }
        // Every fault at once: wrong or missing values (decoding stepped over them with placeholders,
        // never used), and members the type does not declare.
        let unknown = state.unknownFields().map { FieldError(field: $0, message: "is not a field of this request") }
        if !state.errors.isEmpty || !unknown.isEmpty {
            throw KolabError.invalid(state.errors + unknown)
        }
        return decoded
    }
}

// MARK: - Parsing

/// A JSON value with numbers kept as written, and members in order.
indirect enum JSONValue {
    case null
    case bool(Bool)
    case number(String)
    case string(String)
    case array([JSONValue])
    case object([(key: String, value: JSONValue)])
}

/// RFC 8259, nothing more: no comments, no trailing commas, no NaN.
struct JSONParser {
    let bytes: [UInt8]
    var index = 0
    var path: [String] = []
    static let maximumDepth = 64

    init(bytes: [UInt8]) { self.bytes = bytes }

    mutating func parseDocument() throws -> JSONValue {
        skipWhitespace()
        let value = try parseValue(depth: 0)
        skipWhitespace()
        guard index == bytes.count else { throw malformed("unexpected text after the JSON value") }
        return value
    }

    private func malformed(_ why: String) -> KolabError {
        KolabError(.malformed, "The body is not valid JSON (\(why) at byte \(index)).")
    }

    private var fieldName: String { path.isEmpty ? "body" : path.joined() }

    private mutating func skipWhitespace() {
        while index < bytes.count, bytes[index] == 0x20 || bytes[index] == 0x0A || bytes[index] == 0x0D || bytes[index] == 0x09 {
            index += 1
        }
    }

    private mutating func parseValue(depth: Int) throws -> JSONValue {
        guard depth < Self.maximumDepth else { throw malformed("nesting deeper than \(Self.maximumDepth) levels") }
        guard index < bytes.count else { throw malformed("unexpected end") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try parseObject(depth: depth)
        case UInt8(ascii: "["): return try parseArray(depth: depth)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): return try literal("true", .bool(true))
        case UInt8(ascii: "f"): return try literal("false", .bool(false))
        case UInt8(ascii: "n"): return try literal("null", .null)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw malformed("unexpected character")
        }
    }

    private mutating func literal(_ word: StaticString, _ value: JSONValue) throws -> JSONValue {
        let count = word.utf8CodeUnitCount
        guard index + count <= bytes.count,
            bytes[index..<(index + count)].elementsEqual(UnsafeBufferPointer(start: word.utf8Start, count: count))
        else { throw malformed("unexpected character") }
        index += count
        return value
    }

    private mutating func parseObject(depth: Int) throws -> JSONValue {
        index += 1
        var members: [(key: String, value: JSONValue)] = []
        var seen = Set<String>()
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw malformed("expected a member name") }
            let key = try parseString()
            path.append(path.isEmpty ? key : "." + key)
            defer { path.removeLast() }
            guard seen.insert(key).inserted else {
                throw KolabError.invalid(field: fieldName, "appears more than once")
            }
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw malformed("expected ':'") }
            index += 1
            skipWhitespace()
            members.append((key, try parseValue(depth: depth + 1)))
            skipWhitespace()
            guard index < bytes.count else { throw malformed("unexpected end") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
                continue
            }
            guard bytes[index] == UInt8(ascii: "}") else { throw malformed("expected ',' or '}'") }
            index += 1
            return .object(members)
        }
    }

    private mutating func parseArray(depth: Int) throws -> JSONValue {
        index += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
            index += 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            path.append("[\(elements.count)]")
            defer { path.removeLast() }
            elements.append(try parseValue(depth: depth + 1))
            skipWhitespace()
            guard index < bytes.count else { throw malformed("unexpected end") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
                continue
            }
            guard bytes[index] == UInt8(ascii: "]") else { throw malformed("expected ',' or ']'") }
            index += 1
            return .array(elements)
        }
    }

    private mutating func parseNumber() throws -> JSONValue {
        let start = index
        func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard index < bytes.count, isDigit(bytes[index]) else { throw malformed("a number needs digits") }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
        } else {
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard index < bytes.count, isDigit(bytes[index]) else { throw malformed("a fraction needs digits") }
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard index < bytes.count, isDigit(bytes[index]) else { throw malformed("an exponent needs digits") }
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        return .number(String(decoding: bytes[start..<index], as: UTF8.self))
    }

    /// A string's content. Raw bytes must be valid UTF-8; escapes may not produce U+0000 or a lone surrogate.
    private mutating func parseString() throws -> String {
        index += 1
        var out: [UInt8] = []
        var runStart = index
        while true {
            guard index < bytes.count else { throw malformed("unterminated string") }
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                out.append(contentsOf: bytes[runStart..<index])
                index += 1
                break
            }
            if byte == UInt8(ascii: "\\") {
                out.append(contentsOf: bytes[runStart..<index])
                index += 1
                guard index < bytes.count else { throw malformed("unterminated string") }
                let escape = bytes[index]
                index += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(escape)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xD800..<0xDC00).contains(scalar) {
                        guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                            throw KolabError.invalid(field: fieldName, "must be valid Unicode text (a lone surrogate)")
                        }
                        index += 2
                        let low = try hex4()
                        guard (0xDC00..<0xE000).contains(low) else {
                            throw KolabError.invalid(field: fieldName, "must be valid Unicode text (a lone surrogate)")
                        }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00..<0xE000).contains(scalar) {
                        throw KolabError.invalid(field: fieldName, "must be valid Unicode text (a lone surrogate)")
                    }
                    guard scalar != 0 else { throw KolabError.invalid(field: fieldName, "must not contain the NUL character (U+0000)") }
                    guard let unicode = Unicode.Scalar(scalar) else { throw malformed("bad escape") }
                    out.append(contentsOf: Array(String(Character(unicode)).utf8))
                default:
                    throw malformed("bad escape")
                }
                runStart = index
                continue
            }
            guard byte >= 0x20 else {
                if byte == 0 { throw KolabError.invalid(field: fieldName, "must not contain the NUL character (U+0000)") }
                throw malformed("a control character in a string must be escaped")
            }
            index += 1
        }
        guard let text = String(validating: out, as: UTF8.self) else {
            throw KolabError.invalid(field: fieldName, "must be valid UTF-8 text")
        }
        return text
    }

    private mutating func hex4() throws -> UInt32 {
        guard index + 4 <= bytes.count else { throw malformed("bad \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw malformed("bad \\u escape")
            }
            value = value << 4 | digit
            index += 1
        }
        return value
    }
}

// MARK: - Decoding

/// Which members of each object the request type read, so that the rest can be named.
private final class DecodingState {
    /// By field path of the object: its member names in order, and the ones read.
    private var objects: [String: (members: [String], read: Set<String>)] = [:]
    private var order: [String] = []
    /// Faults stepped over so far, in the order met.
    private(set) var errors: [FieldError] = []

    func record(_ fields: [FieldError]) {
        for field in fields where !errors.contains(field) { errors.append(field) }
    }

    /// The field errors a decoding fault names (nil for a malformed document or a fault of ours).
    static func fieldErrors(_ error: any Error) -> [FieldError]? {
        let problem: KolabError
        switch error {
        case let error as DecodingError: problem = KolabError.decoding(error)
        case let error as KolabError: problem = error
        default: return nil
        }
        return problem.code == .invalid && !problem.fieldErrors.isEmpty ? problem.fieldErrors : nil
    }

    /// Runs `decode`; when it fails on a value the client sent wrong (or left out), records the fault
    /// and answers a placeholder so that decoding goes on and finds the other faults. The decoded
    /// value is thrown away whenever anything was recorded.
    func recovering<T>(_ type: T.Type, _ decode: () throws -> T) throws -> T {
        do {
            return try decode()
        } catch {
            guard let fields = Self.fieldErrors(error), let placeholder = Placeholder.value(of: type) else { throw error }
            record(fields)
            return placeholder
        }
    }

    func register(_ path: String, members: [String]) {
        if objects[path] == nil {
            objects[path] = (members, [])
            order.append(path)
        }
    }

    func read(_ key: String, in path: String) { objects[path]?.read.insert(key) }

    func unknownFields() -> [String] {
        order.flatMap { path -> [String] in
            guard let object = objects[path] else { return [] }
            return object.members.filter { !object.read.contains($0) }.map { path.isEmpty ? $0 : "\(path).\($0)" }
        }
    }
}

/// Stand-in values for decoding past a fault; never reach a handler (the request answers 422).
private enum Placeholder {
    static func value<T>(of type: T.Type) -> T? {
        if let value = ("" as Any) as? T { return value }
        if let value = (0 as Any) as? T { return value }
        if let value = (Int64(0) as Any) as? T { return value }
        if let value = (Int32(0) as Any) as? T { return value }
        if let value = (0.0 as Any) as? T { return value }
        if let value = (false as Any) as? T { return value }
        if let value = (Date(timeIntervalSince1970: 0) as Any) as? T { return value }
        if let value = (IdempotencyStore.anonymous as Any) as? T { return value }
        if let optional = type as? any ExpressibleByNilLiteral.Type { return optional.init(nilLiteral: ()) as? T }
        if let collection = type as? any RangeReplaceableCollection.Type { return collection.init() as? T }
        if let cases = type as? any CaseIterable.Type { return firstCase(cases) as? T }
        return nil
    }

    private static func firstCase<C: CaseIterable>(_ type: C.Type) -> Any? { type.allCases.first }
}

private struct IndexKey: CodingKey {
    var stringValue: String { "\(intValue ?? 0)" }
    var intValue: Int?
    init(_ index: Int) { intValue = index }
    init?(stringValue: String) { nil }
    init?(intValue: Int) { self.intValue = intValue }
}

private struct ValueDecoder: Decoder {
    let value: JSONValue
    let path: [any CodingKey]
    let state: DecodingState
    var codingPath: [any CodingKey] { path }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let members) = value else {
            throw DecodingError.typeMismatch([String: Any].self, .init(codingPath: path, debugDescription: "not an object"))
        }
        let name = KolabError.fieldPath(path)
        let objectPath = path.isEmpty ? "" : name
        state.register(objectPath, members: members.map(\.key))
        return KeyedDecodingContainer(ObjectContainer<Key>(members: members, path: path, objectPath: objectPath, state: state))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let elements) = value else {
            throw DecodingError.typeMismatch([Any].self, .init(codingPath: path, debugDescription: "not an array"))
        }
        return ArrayContainer(elements: elements, path: path, state: state)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { self }
}

extension ValueDecoder: SingleValueDecodingContainer {
    func decodeNil() -> Bool {
        if case .null = value { return true }
        return false
    }

    private func mismatch<T>(_ type: T.Type) -> DecodingError {
        if case .null = value { return .valueNotFound(type, .init(codingPath: path, debugDescription: "null")) }
        return .typeMismatch(type, .init(codingPath: path, debugDescription: "wrong type"))
    }

    func decode(_ type: Bool.Type) throws -> Bool {
        guard case .bool(let flag) = value else { throw mismatch(type) }
        return flag
    }

    func decode(_ type: String.Type) throws -> String {
        guard case .string(let text) = value else { throw mismatch(type) }
        return text
    }

    func decode(_ type: Double.Type) throws -> Double {
        guard case .number(let text) = value, let number = Double(text), number.isFinite else { throw mismatch(type) }
        return number
    }

    func decode(_ type: Float.Type) throws -> Float { Float(try decode(Double.self)) }

    private func integer<T: FixedWidthInteger>(_ type: T.Type) throws -> T {
        guard case .number(let text) = value else { throw mismatch(type) }
        guard let number = T(text) else {
            if text.allSatisfy({ $0 == "-" || $0.isNumber }) {
                throw KolabError.invalid(field: KolabError.fieldPath(path), "is out of range")
            }
            throw mismatch(type)
        }
        return number
    }

    func decode(_ type: Int.Type) throws -> Int { try integer(type) }
    func decode(_ type: Int8.Type) throws -> Int8 { try integer(type) }
    func decode(_ type: Int16.Type) throws -> Int16 { try integer(type) }
    func decode(_ type: Int32.Type) throws -> Int32 { try integer(type) }
    func decode(_ type: Int64.Type) throws -> Int64 { try integer(type) }
    func decode(_ type: UInt.Type) throws -> UInt { try integer(type) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try integer(type) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try integer(type) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try integer(type) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try integer(type) }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        if type == Date.self {
            guard case .string(let text) = value else { throw mismatch(String.self) }
            guard let date = Timestamp.parse(text) else {
                throw KolabError.invalid(field: KolabError.fieldPath(path), Timestamp.rule)
            }
            return date as! T
        }
        if type == UUID.self {
            guard case .string(let text) = value else { throw mismatch(String.self) }
            guard let id = UUID(uuidString: text) else {
                throw KolabError.invalid(field: KolabError.fieldPath(path), "must be a UUID")
            }
            return id as! T
        }
        return try T(from: self)
    }
}

private struct ObjectContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let members: [(key: String, value: JSONValue)]
    let path: [any CodingKey]
    let objectPath: String
    let state: DecodingState
    var codingPath: [any CodingKey] { path }

    /// The JSON name of a Swift key: `brandReviewRequired` -> `brand_review_required`.
    private func name(_ key: Key) -> String { SnakeCaseKeys.convert(key.stringValue) }

    private func member(_ key: Key) -> JSONValue? {
        let name = name(key)
        state.read(name, in: objectPath)
        return members.first(where: { $0.key == name })?.value
    }

    var allKeys: [Key] { members.compactMap { member in Key(stringValue: Self.camelCase(member.key)) } }

    static func camelCase(_ name: String) -> String {
        var out = ""
        var upper = false
        for character in name {
            if character == "_" {
                upper = true
            } else {
                out += upper ? character.uppercased() : String(character)
                upper = false
            }
        }
        return out
    }

    func contains(_ key: Key) -> Bool { member(key) != nil }

    func decodeNil(forKey key: Key) throws -> Bool {
        guard let value = member(key) else { return true }
        if case .null = value { return true }
        return false
    }

    private func decoder(for key: Key) throws -> ValueDecoder {
        guard let value = member(key) else {
            throw DecodingError.keyNotFound(key, .init(codingPath: path, debugDescription: "missing"))
        }
        return ValueDecoder(value: value, path: path + [key], state: state)
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try state.recovering(type) { try decoder(for: key).decode(type) }
    }

    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        guard let value = member(key) else { return nil }
        if case .null = value { return nil }
        return try state.recovering(T?.self) { try ValueDecoder(value: value, path: path + [key], state: state).decode(type) }
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try decoder(for: key).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer { try decoder(for: key).unkeyedContainer() }

    func superDecoder() throws -> any Decoder { ValueDecoder(value: .object(members), path: path, state: state) }

    func superDecoder(forKey key: Key) throws -> any Decoder { try decoder(for: key) }
}

private struct ArrayContainer: UnkeyedDecodingContainer {
    let elements: [JSONValue]
    let path: [any CodingKey]
    let state: DecodingState
    var currentIndex = 0
    var codingPath: [any CodingKey] { path }
    var count: Int? { elements.count }
    var isAtEnd: Bool { currentIndex >= elements.count }

    private mutating func next() throws -> ValueDecoder {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(
                Any.self, .init(codingPath: path + [IndexKey(currentIndex)], debugDescription: "end of array"))
        }
        defer { currentIndex += 1 }
        return ValueDecoder(value: elements[currentIndex], path: path + [IndexKey(currentIndex)], state: state)
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd else { return false }
        if case .null = elements[currentIndex] {
            currentIndex += 1
            return true
        }
        return false
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let element = try next()
        return try state.recovering(type) { try element.decode(type) }
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        try next().container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer { try next().unkeyedContainer() }

    mutating func superDecoder() throws -> any Decoder { try next() }
}
