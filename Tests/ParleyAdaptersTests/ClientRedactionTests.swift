import Logging
import ParleyAdapters
import Testing

/// A test failure, a log line or a debugger prints an adapter's fields; the tokens it holds must not
/// appear (a failing expectation once printed a Slack bot token in full).
@Suite struct ClientRedactionTests {
    @Test func clientsNeverPrintTheirTokens() {
        let logger = Logger(label: "test")
        let secret = "xoxb-1234567890-SECRET"
        let printed = [
            String(describing: SlackWebClient(baseURL: "https://slack.test/api", token: secret, logger: logger)),
            String(reflecting: SlackWebClient(baseURL: "https://slack.test/api", token: secret, logger: logger)),
            String(describing: MattermostClient(baseURL: "https://mm.test", token: secret, logger: logger)),
            String(describing: MatrixClient(homeserver: "https://matrix.test", accessToken: secret)),
            "\(Mirror(reflecting: MatrixClient(homeserver: "https://matrix.test", accessToken: secret)).children.map(\.value))",
        ]
        for text in printed {
            #expect(!text.contains("SECRET"), "\(text)")
            #expect(text.contains("••••"), "\(text)")
        }
    }
}
