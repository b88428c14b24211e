import Crypto
import Foundation
import ParleyCore

/// Slack's request signing, version 0: `v0=` + hex HMAC-SHA256 of `v0:TIMESTAMP:BODY` with the app's
/// signing secret, in `X-Slack-Signature`, with the timestamp in `X-Slack-Request-Timestamp`.
public struct SlackSignature: Sendable {
    /// How far a request's timestamp may be from now before it is refused as a replay (five minutes).
    public static let window: TimeInterval = 300
    let key: SymmetricKey

    /// A verifier for one signing secret.
    public init(secret: String) {
        key = SymmetricKey(data: Data(secret.utf8))
    }

    /// Why a request was refused.
    public enum Failure: Error, Equatable, CustomStringConvertible {
        case missingHeaders
        case badTimestamp
        case stale(seconds: Int64)
        case mismatch

        public var description: String {
            switch self {
            case .missingHeaders: return "missing X-Slack-Signature or X-Slack-Request-Timestamp"
            case .badTimestamp: return "X-Slack-Request-Timestamp is not a number"
            case .stale(let seconds): return "the request is \(seconds) s from now, outside the 5-minute window"
            case .mismatch: return "the signature does not match the body"
            }
        }
    }

    /// The signature for a body at a timestamp.
    public func signature(timestamp: String, body: some Collection<UInt8>) -> String {
        var mac = HMAC<SHA256>(key: key)
        mac.update(data: Array("v0:\(timestamp):".utf8))
        mac.update(data: Array(body))
        return "v0=" + HexDigest.hex(mac.finalize())
    }

    /// Checks a request's signature and freshness; the comparison takes the same time wherever it differs
    /// (`SecretCheck`).
    public func verify(_ request: PlatformRequest, now: Date = Date()) -> Result<Void, Failure> {
        guard let signature = request.header("x-slack-signature"),
            let timestamp = request.header("x-slack-request-timestamp")
        else { return .failure(.missingHeaders) }
        guard let seconds = Int64(timestamp) else { return .failure(.badTimestamp) }
        // The timestamp comes from outside: any Int64 is possible, so the skew is taken without
        // overflow (a difference that does not fit is as stale as it gets).
        let (skew, overflow) = Int64(now.timeIntervalSince1970).subtractingReportingOverflow(seconds)
        guard !overflow, skew.magnitude <= UInt64(Self.window) else {
            return .failure(.stale(seconds: overflow ? (seconds < 0 ? .max : .min) : skew))
        }
        guard signature.hasPrefix("v0=") else { return .failure(.mismatch) }
        let signed = Array("v0:\(timestamp):".utf8) + request.body
        return SecretCheck.isValidMAC(hex: signature.dropFirst(3), of: signed, key: key)
            ? .success(()) : .failure(.mismatch)
    }
}
