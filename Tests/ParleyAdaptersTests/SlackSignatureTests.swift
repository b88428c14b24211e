import Foundation
import ParleyAdapters
import Testing

/// Slack's request signatures, checked with swift-crypto's constant-time MAC comparison.
@Suite struct SlackSignatureTests {
    let signer = SlackSignature(secret: "8f742231b10e8888abcd99yyyzzz85a5")
    let now = Date(timeIntervalSince1970: 1_531_420_618)
    let body = Array("token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&text=".utf8)

    func request(_ signature: String) -> PlatformRequest {
        PlatformRequest(
            method: "POST", path: "/slack/commands",
            headers: ["X-Slack-Signature": signature, "X-Slack-Request-Timestamp": "1531420618"], body: body)
    }

    @Test func theSignatureOfTheBodyIsAcceptedAndAnyOtherRefused() throws {
        let good = signer.signature(timestamp: "1531420618", body: body)
        #expect(throws: Never.self) { try signer.verify(request(good), now: now).get() }
        var flipped = Array(good)
        flipped[flipped.count - 1] = flipped.last == "0" ? "1" : "0"
        for bad in [
            String(flipped), good.uppercased(), String(good.dropLast()), String(good.dropLast(2)), good + "00",
            "v1=" + good.dropFirst(3), String(good.dropFirst(3)), "v0=", "v0=zz", "",
        ] {
            guard case .failure(let failure) = signer.verify(request(bad), now: now) else {
                Issue.record("accepted \(bad)")
                continue
            }
            #expect(failure == .mismatch, "\(bad)")
        }
    }
}
