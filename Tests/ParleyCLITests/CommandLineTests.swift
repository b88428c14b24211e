import Foundation
import ParleyConformance
import Testing

/// The `parley` binary as a user runs it: real process, real stdin and exit status.
struct ParleyBinary {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static var path: String {
        let besideTests = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("parley").path
        if FileManager.default.isExecutableFile(atPath: besideTests) { return besideTests }
        return repository.appendingPathComponent(".build/debug/parley").path
    }

    struct Result {
        let status: Int32
        let output: String
        let error: String
    }

    static func run(_ arguments: [String], stdin: String? = nil, in directory: URL = repository) async throws -> Result
    {
        try await offThread { try runBlocking(arguments, stdin: stdin, in: directory) }
    }

    static func runBlocking(_ arguments: [String], stdin: String?, in directory: URL) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.currentDirectoryURL = directory
        var environment = ProcessInfo.processInfo.environment
        environment["USER"] = "tester"
        process.environment = environment
        let input = Pipe()
        let output = Pipe()
        let error = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = error
        try process.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try input.fileHandleForWriting.close()
        let outData = output.fileHandleForReading.readDataToEndOfFile()
        let errData = error.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus, output: String(decoding: outData, as: UTF8.self),
            error: String(decoding: errData, as: UTF8.self))
    }
}

func scratch() throws -> URL {
    let url = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("parley-cli-" + UUID().uuidString)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

@Suite struct CommandLineTests {
    let example = ParleyBinary.repository.appendingPathComponent("examples/parley.yaml").path

    @Test func theExampleScriptFromTheReadmeWorksThroughChat() async throws {
        let data = try scratch().path
        let result = try await ParleyBinary.run(
            ["chat", "--config", example, "--data-dir", data],
            stdin: "help\ndeploy api to moon\ndeploy api to staging\n")
        #expect(result.status == 0, "\(result.error)")
        #expect(result.output.contains("deploy <app> to <env> [--version <version>] [--force]"))
        #expect(result.output.contains("unknown env 'moon'; expected staging or prod"))
        #expect(result.output.contains("api latest is live on staging"))
        #expect(result.output.contains("succeeded in"))
    }

    @Test func runExitsWithADistinctStatusForEachOutcome() async throws {
        let data = try scratch().path
        func status(_ text: String, as identity: String? = nil) async throws -> Int32 {
            var arguments = ["run", text, "--config", example, "--data-dir", data]
            if let identity { arguments += ["--as", identity] }
            return try await ParleyBinary.run(arguments).status
        }
        #expect(try await status("status api") == 0)
        #expect(try await status("deplyo api to staging") == 2)
        #expect(try await status("deploy api to moon") == 3)
        #expect(try await status("scale api to 3", as: "local:bob") == 4)
        #expect(try await status("whoami", as: "nonsense") != 0)
    }

    @Test func runPrintsJSONWhenAsked() async throws {
        let data = try scratch().path
        let result = try await ParleyBinary.run([
            "run", "scale api to 3", "--json", "--config", example, "--data-dir", data,
        ])
        #expect(result.status == 0, "\(result.error)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any])
        #expect(object["outcome"] as? String == "succeeded")
        #expect((object["run_id"] as? Int ?? 0) > 0)
        let blocks = try #require(object["blocks"] as? [[String: Any]])
        #expect(blocks.first?["type"] as? String == "code")
        #expect((blocks.first?["text"] as? String)?.contains("api now runs 3 replicas") == true)
    }

    @Test func configCheckReportsEveryProblemWithItsLine() async throws {
        let directory = try scratch()
        let file = directory.appendingPathComponent("parley.yaml")
        try """
        users:
          bob:
            roles: [devloper]
            identities: ["local:bob"]
        roles:
          developer: { allow: [help] }
        commands:
          deploy:
            usage: "deploy {app}"
            acton: { exec: ["true"] }
        """.write(to: file, atomically: true, encoding: .utf8)
        let result = try await ParleyBinary.run(["config", "check", "--config", file.path])
        #expect(result.status == 78)
        #expect(
            result.error.contains("parley.yaml:3:13: user 'bob' has unknown role 'devloper'; did you mean 'developer'?")
        )
        #expect(
            result.error.contains("parley.yaml:10:5: unknown key 'acton' in command 'deploy'; did you mean 'action'?"))
        #expect(result.error.contains("nothing was started"))
        let chat = try await ParleyBinary.run(["chat", "--config", file.path], stdin: "ping\n")
        #expect(chat.status == 78)
        #expect(!chat.output.contains("pong"))
    }

    @Test func configCheckPassesOnTheExample() async throws {
        let result = try await ParleyBinary.run(["config", "check", "--config", example])
        #expect(result.status == 0, "\(result.error)")
        #expect(result.output.contains("ok — 5 commands, 3 users, 2 roles"))
    }

    @Test func withoutAConfigParleyStartsOnBuiltInDefaults() async throws {
        let directory = try scratch()
        let result = try await ParleyBinary.run(["chat"], stdin: "whoami\nping\n", in: directory)
        #expect(result.status == 0, "\(result.error)")
        #expect(result.output.contains("user:     admin"))
        #expect(result.output.contains("pong"))
        #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent(".parley/parley.sqlite").path))
    }

    @Test func runsSurviveARestartOfTheProcess() async throws {
        let data = try scratch().path
        let first = try await ParleyBinary.run(["run", "status web", "--json", "--config", example, "--data-dir", data])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(first.output.utf8)) as? [String: Any])
        let id = try #require(object["run_id"] as? Int)
        let second = try await ParleyBinary.run(["run", "run \(id)", "--config", example, "--data-dir", data])
        #expect(second.status == 0)
        #expect(second.output.contains("status web"))
        #expect(second.output.contains("web      healthy   3/3"))
    }
}
