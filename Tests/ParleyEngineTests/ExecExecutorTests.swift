import Foundation
import ParleyCore
import ParleyEngine
import ParleyStore
import Testing

@Suite struct ExecExecutorTests {
    let directory = temporaryDirectory()

    @Test func argumentsReachTheProgramVerbatimNeverThroughAShell() async throws {
        let (engine, _) = try makeEngine(
            commands(
                """
                  say:
                    usage: "say {words:text}"
                    action: { exec: ["printf", "[%s]\\n", "{{words}}", "{{user}}"] }
                  two:
                    usage: "two {a} {b}"
                    action: { exec: ["printf", "[%s]\\n", "{{a}}", "{{b}}"] }
                """), directory: directory)
        let hostile = #"a; touch /tmp/parley-pwned $(id) `id` | cat && echo "q" 'x' $HOME \ > /tmp/parley-out"#
        let response = try #require(await engine.handle(say("say " + hostile)))
        #expect(response.outcome == .succeeded)
        #expect(response.reply.plainText.hasPrefix("[\(hostile)]\n[alice]"))
        #expect(!FileManager.default.fileExists(atPath: "/tmp/parley-pwned"))
        let quoted = try #require(await engine.handle(say(#"two "semi;colon" '$(whoami)'"#)))
        #expect(quoted.reply.plainText.hasPrefix("[semi;colon]\n[$(whoami)]"))
        let newline = try #require(await engine.handle(say("say first line\nrm -rf / # second")))
        #expect(newline.reply.plainText.hasPrefix("[first line\nrm -rf / # second]"))
        let nul = try #require(await engine.handle(say("say before\u{0}after")))
        #expect(nul.outcome == .invalid)
        #expect(nul.reply.plainText.contains("control character"))
        let escape = try #require(await engine.handle(say("say \u{1B}[31mred")))
        #expect(escape.outcome == .invalid)
    }

    /// Runs `script` (which writes its background child's pid to child.pid) with a 1 s timeout and
    /// returns the response once the child is gone, or nil if it survived 10 s.
    func timedOutLeavingNoChild(_ script: String, grace: Duration = .seconds(5)) async throws -> EngineResponse? {
        let pidFile = directory + "/child.pid"
        try writeScript("spawn.sh", in: directory, script.replacingOccurrences(of: "CHILD_PID", with: pidFile))
        let (engine, store) = try makeEngine(
            commands(
                """
                  hang:
                    usage: hang
                    action: { exec: ["./spawn.sh"], timeout: 1s }
                """), directory: directory, grace: grace)
        let response = try #require(await engine.handle(say("hang")))
        #expect(response.outcome == .timedOut)
        #expect(try await store.requireRun(response.runID).status == .timedOut)
        let child = try #require(
            Int32(try String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        for _ in 0..<100 where processExists(child) { try await Task.sleep(for: .milliseconds(100)) }
        return processExists(child) ? nil : response
    }

    @Test func theTimeoutStopsTheWholeProcessGroup() async throws {
        // The grandchild is in the same group, so it gets the SIGTERM too.
        let response = try await timedOutLeavingNoChild("sleep 300 &\necho $! > CHILD_PID\necho started\nsleep 300")
        #expect(response != nil, "the background child survived the timeout")
        #expect(response?.reply.plainText.contains("started") == true)
        #expect(response?.reply.plainText.contains("timed out after 1s") == true)
    }

    @Test func aProgramThatIgnoresTermIsKilledAfterTheGrace() async throws {
        try writeScript("stubborn.sh", in: directory, "trap '' TERM\necho holding\nwhile :; do sleep 1; done")
        let (engine, _) = try makeEngine(
            commands(
                """
                  stubborn:
                    usage: stubborn
                    action: { exec: ["./stubborn.sh"], timeout: 1s }
                """), directory: directory, grace: .milliseconds(300))
        let response = try #require(await engine.handle(say("stubborn")))
        #expect(response.outcome == .timedOut)
        #expect(response.reply.plainText.contains("holding"))
    }

    @Test func aChildThatIgnoresTermWithItsOutputElsewhereDoesNotOutliveTheTimeout() async throws {
        // The leader dies of the SIGTERM and the output ends; the child ignores SIGTERM and writes
        // nowhere, so only the SIGKILL that follows reaches it (well before the 30 s grace).
        let response = try await timedOutLeavingNoChild(
            "(trap '' TERM; exec sleep 300) >/dev/null 2>&1 &\necho $! > CHILD_PID\necho started\nsleep 300",
            grace: .seconds(30))
        #expect(response != nil, "the child that ignores SIGTERM survived the timeout")
    }

    @Test func outputIsCombinedAndCappedAndTheExitStatusKept() async throws {
        try writeScript("noisy.sh", in: directory, "echo out\necho err >&2\nyes x | head -c 5000\nexit 3")
        let (engine, store) = try makeEngine(
            commands(
                """
                  noisy:
                    usage: noisy
                    action: { exec: ["./noisy.sh"], max_output: 1KiB }
                """), directory: directory)
        let response = try #require(await engine.handle(say("noisy")))
        #expect(response.outcome == .failed)
        #expect(response.reply.plainText.contains("failed with exit status 3"))
        #expect(response.reply.plainText.contains("(output beyond the action's max_output was not kept)"))
        let run = try await store.requireRun(response.runID)
        #expect(run.output.hasPrefix("out\nerr\nx\nx\n"))
        #expect(run.output.utf8.count == 1024)
        #expect(run.outputTruncated)
        #expect(run.exitCode == 3)
    }

    @Test func theChildSeesOnlyConfiguredEnvironmentAndWhoAsked() async throws {
        setenv("PARLEY_TEST_LEAK", "leaked-value", 1)
        defer { unsetenv("PARLEY_TEST_LEAK") }
        let (engine, _) = try makeEngine(
            commands(
                """
                  env:
                    usage: "showenv {target}"
                    action: { exec: ["env"], env: { TARGET: "{{target}}" } }
                """), directory: directory)
        let response = try #require(await engine.handle(say("showenv db1", room: "#ops")))
        let text = response.reply.plainText
        #expect(text.contains("TARGET=db1"))
        #expect(text.contains("PARLEY_USER=alice"))
        #expect(text.contains("PARLEY_ROOM=#ops"))
        #expect(text.contains("PARLEY_RUN_ID=\(response.runID ?? -1)"))
        #expect(!text.contains("leaked-value"))
    }

    @Test func anAllowListDecidesWhichOfParleysVariablesTheChildSees() async throws {
        setenv("PARLEY_TEST_VISIBLE", "visible-value", 1)
        defer { unsetenv("PARLEY_TEST_VISIBLE") }
        let (engine, _) = try makeEngine(
            commands(
                """
                  env:
                    usage: showenv
                    action: { exec: ["/usr/bin/env"], inherit_env: [PARLEY_TEST_VISIBLE] }
                """), directory: directory)
        let text = try #require(await engine.handle(say("showenv"))).reply.plainText
        #expect(text.contains("PARLEY_TEST_VISIBLE=visible-value"))
        #expect(!text.contains("HOME="))
        #expect(!text.contains("PATH="))
    }

    @Test func workingDirectoryAndOptionalArgumentsAreHonoured() async throws {
        try FileManager.default.createDirectory(atPath: directory + "/work", withIntermediateDirectories: true)
        let (engine, _) = try makeEngine(
            commands(
                """
                  where:
                    usage: "where [--tag {tag}]"
                    action: { exec: ["sh", "-c", "pwd; echo \\"$#:$*\\"", "sh", "{{#tag}}--tag={{tag}}{{/tag}}"], workdir: work }
                """), directory: directory)
        let plain = try #require(await engine.handle(say("where")))
        #expect(plain.reply.plainText.hasPrefix(directory + "/work\n0:"))
        let tagged = try #require(await engine.handle(say("where --tag v1")))
        #expect(tagged.reply.plainText.contains("1:--tag=v1"))
    }

    @Test func aMissingProgramIsAFailureThatSaysWhy() async throws {
        let (engine, _) = try makeEngine(
            commands(
                """
                  ghost: { usage: ghost, action: { exec: ["./not-there.sh"] } }
                  nowhere: { usage: nowhere, action: { exec: ["no-such-program-parley"] } }
                """), directory: directory)
        let ghost = try #require(await engine.handle(say("ghost")))
        #expect(ghost.outcome == .failed)
        #expect(ghost.reply.plainText.contains("cannot run ./not-there.sh: \(directory)/not-there.sh does not exist"))
        let nowhere = try #require(await engine.handle(say("nowhere")))
        #expect(nowhere.reply.plainText.contains("not found in PATH"))
    }
}
