import Foundation
import HTTPTypes
import Hummingbird
import KolabDomain
import KolabStore
import Logging
import NIOCore

/// An RFC 9457 problem document.
public struct Problem: Codable, Sendable, Equatable {
    public var type: String
    public var title: String
    public var status: Int
    public var detail: String
    public var instance: String?
    public var errors: [FieldError]?
}

extension KolabError.Code {
    /// The one table from error codes to HTTP statuses and problem titles.
    var http: (status: HTTPResponse.Status, title: String, slug: String) {
        switch self {
        case .malformed: (.badRequest, "Malformed request", "malformed")
        case .unauthenticated: (.unauthorized, "Authentication required", "unauthenticated")
        case .forbidden: (.forbidden, "Not allowed for your role", "forbidden")
        case .notFound: (.notFound, "Not found", "not-found")
        case .methodNotAllowed: (.methodNotAllowed, "Method not allowed", "method-not-allowed")
        case .conflict: (.conflict, "Conflict", "conflict")
        case .preconditionFailed: (.preconditionFailed, "Precondition failed", "precondition-failed")
        case .tooLarge: (.contentTooLarge, "Request body too large", "too-large")
        case .invalid: (.unprocessableContent, "Validation failed", "validation")
        case .preconditionRequired:
            (.init(code: 428, reasonPhrase: "Precondition Required"), "Precondition required", "precondition-required")
        case .tooManyRequests: (.tooManyRequests, "Too many requests", "too-many-requests")
        case .unavailable: (.serviceUnavailable, "Service unavailable", "unavailable")
        case .internal: (.internalServerError, "Internal error", "internal")
        }
    }
}

extension KolabError: HTTPResponseError {
    public var status: HTTPResponse.Status { code.http.status }

    public var headers: HTTPFields {
        var headers: HTTPFields = [:]
        if let retryAfterSeconds { headers[.retryAfter] = "\(retryAfterSeconds)" }
        if code == .unauthenticated { headers[.wwwAuthenticate] = "Bearer" }
        return headers
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        if let console = (context as? KolabRequestContext)?.console {
            return console.renderer.errorPage(self, state: console)
        }
        let (status, title, slug) = code.http
        let problem = Problem(
            type: "urn:kolab:problem:\(slug)", title: title, status: Int(status.code),
            detail: code == .internal ? "Something went wrong on our side; the request id is \(context.id)." : detail,
            instance: request.uri.path, errors: fieldErrors.isEmpty ? nil : fieldErrors)
        let buffer = try StreamingJSONEncoder().encode(problem)
        var headers = self.headers
        headers[.contentType] = "application/problem+json"
        headers[.contentLength] = "\(buffer.readableBytes)"
        return Response(status: status, headers: headers, body: .init(byteBuffer: buffer))
    }
}

extension KolabError {
    /// Turns whatever a handler threw into a Kolab error: ours as they are, the framework's and
    /// PostgreSQL's client errors by meaning, and the rest as an internal error (logged by the caller).
    static func from(_ error: any Error) -> KolabError {
        switch error {
        case let error as KolabError: return error
        case is NIOTooManyBytesError: return KolabError(.tooLarge, "The body is larger than the limit.")
        case let error as HTTPError:
            switch error.status.code {
            case 404: return KolabError(.notFound, "There is no such route: check the method and the path.")
            case 405: return KolabError(.notFound, "This route does not take this method.")
            case 413: return KolabError(.tooLarge, "The body is larger than the limit.")
            case 400..<500: return KolabError(.malformed, error.body ?? "The request cannot be read.")
            default: return KolabError(.internal, "HTTPError \(error.status.code)")
            }
        default:
            if let mapped = KolabError(postgres: error) { return mapped }
            return KolabError(.internal, KolabError.loggable(error))
        }
    }
}
