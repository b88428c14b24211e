import Foundation
import FuzzSupport
import ParleyCore

@testable import ParleyAdapterParsers

// A request to Slack's routes: header lines (`Name: value`), an empty line, then the body. The
// signature check answers every request without crashing and accepts only a correct, fresh
// signature; the body is read the ways the routes read it: an Events API JSON object (with the
// markup of a message's text), a slash command form, an interactivity form with its JSON payload.

let verifier = SlackSignature(secret: "8f742231b10e8888abcd99yyyzzz85a5")
let now = Date(timeIntervalSince1970: 1_531_420_618)

func request(_ input: FuzzInput) -> PlatformRequest {
    var headers: [String: String] = [:]
    var rest = input.bytes[...]
    while let newline = rest.firstIndex(of: UInt8(ascii: "\n")) {
        let line = String(decoding: rest[..<newline], as: UTF8.self)
        rest = rest[(newline + 1)...]
        if line.isEmpty || line == "\r" { break }
        let parts = line.split(separator: ":", maxSplits: 1)
        guard parts.count == 2 else { continue }
        headers[String(parts[0])] = parts[1].trimmingCharacters(in: .whitespaces)
    }
    return PlatformRequest(method: "POST", path: "/slack/events", headers: headers, body: Array(rest), receivedAt: now)
}

func checkSignature(_ request: PlatformRequest) {
    let result = verifier.verify(request, now: now)
    if case .success = result {
        let timestamp = request.header("x-slack-request-timestamp") ?? ""
        require(
            request.header("x-slack-signature") == verifier.signature(timestamp: timestamp, body: request.body),
            "a request passed with a wrong signature")
        require(abs(Double(timestamp)! - now.timeIntervalSince1970) <= SlackSignature.window, "a stale request passed")
    }
    // The same body, signed correctly at a time the input picks: accepted exactly inside the window.
    let offset = request.body.prefix(2).reduce(0) { $0 << 8 | Int($1) } - 32768
    let stamp = String(Int(now.timeIntervalSince1970) + offset / 64)
    var signed = request
    signed.headers["x-slack-request-timestamp"] = stamp
    signed.headers["x-slack-signature"] = verifier.signature(timestamp: stamp, body: request.body)
    let fresh = abs(offset / 64) <= Int(SlackSignature.window)
    switch verifier.verify(signed, now: now) {
    case .success: require(fresh, "a signature \(offset / 64) s old passed")
    case .failure(let failure): require(!fresh, "a fresh, correct signature failed: \(failure)")
    }
    // One character changed in the signature: refused.
    var forged = signed
    forged.headers["x-slack-signature"] = String(signed.headers["x-slack-signature"]!.dropLast()) + "x"
    if case .success = verifier.verify(forged, now: now) { require(false, "a forged signature passed") }
}

func checkBody(_ request: PlatformRequest) {
    if let payload = JSON(parsing: request.body) {
        require(JSON(parsing: payload.encoded) == payload, "JSON written back reads differently: \(payload)")
        let event = payload["event"]
        for text in [event["text"].string, payload["text"].string].compactMap({ $0 }) {
            _ = SlackRenderer.plainText(text, botUserID: "U0BOT", botName: "parley")
        }
    }
    // A form with a bad escape is refused as a whole; any other reads back the same once written.
    guard let form = try? FormBody.decode(request.text) else { return }
    let written = FormBody.encode(form)
    require((try? FormBody.decode(written)) == form, "the form \(form) written as '\(written)' reads differently")
    if let raw = form["payload"], let payload = JSON(parsing: Array(raw.utf8)) {
        _ = payload["actions"][0].object?["value"]?.string
    }
    if let text = form["text"] { _ = SlackRenderer.plainText(text, botUserID: nil, botName: "parley") }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSlack(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let request = request(FuzzInput(data, size))
    checkSignature(request)
    checkBody(request)
    return 0
}
