import Foundation

/// Checks a JSON value against a schema of openapi.json: types (nullable as `["x", "null"]`),
/// required members, enums, `uuid` and `date-time` formats, array items and nested objects, through
/// `$ref`s. Returns what does not match, as `path: problem` lines (empty when it matches).
struct SchemaCheck: @unchecked Sendable {  // read-only after init
    let schemas: [String: Any]

    init(document: URL) throws {
        let root = try JSONSerialization.jsonObject(with: Data(contentsOf: document)) as? [String: Any]
        schemas = ((root?["components"] as? [String: Any])?["schemas"] as? [String: Any]) ?? [:]
    }

    func problems(_ value: Any, against name: String) -> [String] {
        guard let schema = schemas[name] as? [String: Any] else { return ["no schema named \(name)"] }
        return check(value, schema, path: name)
    }

    private func resolve(_ schema: [String: Any]) -> [String: Any] {
        guard let ref = schema["$ref"] as? String, let name = ref.split(separator: "/").last else { return schema }
        return resolve(schemas[String(name)] as? [String: Any] ?? [:])
    }

    private func check(_ value: Any, _ raw: [String: Any], path: String) -> [String] {
        let schema = resolve(raw)
        if let options = (schema["oneOf"] ?? schema["anyOf"]) as? [[String: Any]] {
            return options.contains { check(value, $0, path: path).isEmpty } ? [] : ["\(path): matches none of its options"]
        }
        let types: [String] = (schema["type"] as? [String]) ?? (schema["type"] as? String).map { [$0] } ?? []
        if value is NSNull {
            return types.isEmpty || types.contains("null") ? [] : ["\(path): null where \(types) is expected"]
        }
        var problems: [String] = []
        if !types.isEmpty, !types.contains(where: { Self.matches(value, $0) }) {
            return ["\(path): \(type(of: value)) where \(types) is expected"]
        }
        if let allowed = schema["enum"] as? [Any], let text = value as? String, !allowed.contains(where: { $0 as? String == text }) {
            problems.append("\(path): \(text) is not one of \(allowed)")
        }
        if let text = value as? String {
            switch schema["format"] as? String {
            case "uuid" where UUID(uuidString: text) == nil || text != text.lowercased():
                problems.append("\(path): \(text) is not a lower-case UUID")
            case "date-time" where (try? Date(text, strategy: .iso8601)) == nil:
                problems.append("\(path): \(text) is not an RFC 3339 time")
            default: break
            }
        }
        if let object = value as? [String: Any] {
            let properties = schema["properties"] as? [String: Any] ?? [:]
            for name in schema["required"] as? [String] ?? [] where object[name] == nil {
                problems.append("\(path).\(name): required but missing")
            }
            for (name, member) in object {
                guard let memberSchema = properties[name] as? [String: Any] else {
                    if !properties.isEmpty && schema["additionalProperties"] as? Bool != true {
                        problems.append("\(path).\(name): not in the schema")
                    }
                    continue
                }
                problems += check(member, memberSchema, path: "\(path).\(name)")
            }
        }
        if let array = value as? [Any], let items = schema["items"] as? [String: Any] {
            for (index, element) in array.enumerated() { problems += check(element, items, path: "\(path)[\(index)]") }
        }
        return problems
    }

    private static func matches(_ value: Any, _ type: String) -> Bool {
        switch type {
        case "object": value is [String: Any]
        case "array": value is [Any]
        case "string": value is String
        case "boolean": value is Bool
        case "integer": (value as? NSNumber).map { $0.doubleValue.rounded() == $0.doubleValue } ?? false
        case "number": value is NSNumber
        case "null": value is NSNull
        default: true
        }
    }
}
