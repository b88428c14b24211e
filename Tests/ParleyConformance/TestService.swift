import Foundation
import Testing

/// Something from outside the test process that a test needs: a server `scripts/test` starts
/// (ngircd, Synapse), a venv it prepares, a binary it installs. A test that needs one says so with
/// `@Test(.requires(.ngircd))`: without the service it is skipped, and shows as skipped, never as
/// passed; with `CI` set (where every service is promised) it runs anyway and fails on the missing
/// service, through `require`.
public struct TestService: Sendable {
    /// What the service is, as the skip reason and the failure name it.
    public let name: String
    /// How to provide it (what `scripts/test` sets or installs).
    public let hint: String
    private let probe: @Sendable () -> Bool

    /// A service that is there when `isAvailable` says so.
    public init(_ name: String, hint: String, isAvailable: @escaping @Sendable () -> Bool) {
        self.name = name
        self.hint = hint
        probe = isAvailable
    }

    /// A service announced by environment variables: available when every one of them is set.
    public static func environment(_ name: String, variables: [String], hint: String) -> TestService {
        TestService(name, hint: hint) {
            let environment = ProcessInfo.processInfo.environment
            return variables.allSatisfy { !(environment[$0] ?? "").isEmpty }
        }
    }

    /// An executable at `path`.
    public static func executable(_ name: String, path: @escaping @Sendable () -> String, hint: String) -> TestService {
        TestService(name, hint: hint) { FileManager.default.isExecutableFile(atPath: path()) }
    }

    /// Whether the service is there now.
    public var isAvailable: Bool { probe() }

    /// True when `CI` is set: a missing service is then a failure, not a skip.
    public static var isCI: Bool { ProcessInfo.processInfo.environment["CI"] != nil }

    /// What the skip and the failure say.
    public var missing: String { "\(name) is not available: \(hint)" }

    /// Nothing when the service is there, a failure naming it otherwise.
    public func require(sourceLocation: SourceLocation = #_sourceLocation) throws {
        try #require(isAvailable, Comment(rawValue: missing), sourceLocation: sourceLocation)
    }

    /// `value` (what the test read of the service), or a failure naming the service.
    public func require<Value>(_ value: Value?, sourceLocation: SourceLocation = #_sourceLocation) throws -> Value {
        try #require(value, Comment(rawValue: missing), sourceLocation: sourceLocation)
    }
}

extension TestService {
    /// The sqlite3 command-line tool, which the tamper tests use as an intruder would.
    public static let sqlite3 = TestService.executable(
        "sqlite3", path: { "/usr/bin/sqlite3" }, hint: "apt-get install sqlite3 (scripts/test installs it)")
    /// A Python 3, for tests that compute what Parley computes independently of Parley's code.
    public static let python3 = TestService.executable(
        "python3", path: { "/usr/bin/python3" }, hint: "apt-get install python3 (scripts/test installs it)")
}

extension Trait where Self == ConditionTrait {
    /// Runs the test where every one of `services` is available and skips it elsewhere, naming the
    /// missing service; under CI the test always runs (and `TestService.require` fails it).
    public static func requires(_ services: TestService..., sourceLocation: SourceLocation = #_sourceLocation) -> Self {
        let missing = services.filter { !$0.isAvailable }.map(\.missing).joined(separator: "; ")
        return .enabled(
            if: TestService.isCI || services.allSatisfy(\.isAvailable), Comment(rawValue: missing),
            sourceLocation: sourceLocation)
    }
}

extension TestService {
    /// The ngIRCd `scripts/test` starts.
    public static let ngircd = TestService.environment(
        "ngircd", variables: ["PARLEY_TEST_IRC_PORT"], hint: "scripts/test starts it and sets PARLEY_TEST_IRC_PORT")
}
