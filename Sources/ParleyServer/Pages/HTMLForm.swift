import Foundation
import Hummingbird

/// `application/x-www-form-urlencoded` bodies, decoded with Hummingbird's `URLEncodedFormDecoder` into
/// one `Decodable` struct per form.
enum HTMLForm {
    /// A form whose only field is the session's CSRF token (sign out, approve, deny, take).
    struct CSRFOnly: Decodable {
        let csrf: String?
    }

    /// Collects the body up to `limit` and decodes it; a body that is not a form answers 400 with why.
    static func decode<Form: Decodable>(_ type: Form.Type, from request: Request, limit: Int) async throws -> Form {
        let buffer = try await request.body.collect(upTo: limit)
        do {
            return try URLEncodedFormDecoder().decode(type, from: String(buffer: buffer))
        } catch is URLEncodedFormError {
            // Never the value: the field may be a password.
            throw APIError(.badRequest, "the form cannot be read: a field is not valid URL encoding (a bad % escape?)")
        } catch let DecodingError.keyNotFound(key, _) {
            throw APIError(.badRequest, "the form needs the field \"\(key.stringValue)\"")
        } catch let DecodingError.typeMismatch(_, context) {
            let field = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw APIError(.badRequest, "the form's field \"\(field)\" has the wrong type")
        } catch {
            throw APIError(.badRequest, "the form cannot be read")
        }
    }
}
