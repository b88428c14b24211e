import Foundation
import ParleyCore
import ParleyEngine

/// One route an adapter serves on Parley's HTTP server (Slack's Events API, Mattermost's slash commands …).
public struct PlatformRoute: Sendable {
    /// The method, `POST` for every platform so far.
    public var method: String
    /// The path, as in `/slack/events`.
    public var path: String
    /// Answers a request. It must answer quickly (Slack gives three seconds): long work goes on in a task.
    public var handle: @Sendable (PlatformRequest, any MessageHandler) async -> PlatformResponse

    /// Creates a route.
    public init(
        method: String = "POST", path: String,
        handle: @escaping @Sendable (PlatformRequest, any MessageHandler) async -> PlatformResponse
    ) {
        self.method = method
        self.path = path
        self.handle = handle
    }
}

/// An adapter that receives platform events as HTTP requests to Parley's server.
public protocol HTTPReceivingAdapter: ChatAdapter {
    /// The routes to serve; they are mounted outside the console's session and CSRF checks, so each
    /// handler authenticates its requests itself (signatures, tokens).
    var routes: [PlatformRoute] { get }
}
