import Foundation
import ParleyCore
import Testing

@testable import ParleyEngine

@Suite struct HTTPRequestSafetyTests {
    func spec(url: String, headers: [String: String] = [:]) throws -> HTTPSpec {
        HTTPSpec(
            method: "GET", url: try TextTemplate(url), headers: try headers.mapValues { try TextTemplate($0) })
    }

    @Test func argumentsStayOnePathSegmentOrQueryValue() throws {
        let request = try HTTPExecutor.prepare(
            try spec(url: "https://ci.example/jobs/{{job}}?ref={{ref}}"),
            context: ["job": "../admin?x=1#y", "ref": "main&force=true"])
        #expect(request.url == "https://ci.example/jobs/..%2Fadmin%3Fx%3D1%23y?ref=main%26force%3Dtrue")
    }

    @Test func anArgumentCannotAddAHeaderLine() throws {
        #expect(throws: (any Error).self) {
            _ = try HTTPExecutor.prepare(
                try spec(url: "https://ci.example/", headers: ["X-Note": "{{note}}"]),
                context: ["note": "hi\r\nAuthorization: Bearer stolen"])
        }
    }
}
