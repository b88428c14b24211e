import Foundation
import FuzzSupport
import ParleyCore
import Yams

// `parley.yaml` as text. Loading answers with a configuration or with issues that have messages,
// never a crash. The loader reads `file:` secrets and stats `tls_ca_file`s: inputs that could make it
// read a file (a scalar with `file:`, or one with both `$` and `f`, which interpolation could turn into
// `file:`) are left out, so the fuzzer never reads /dev/zero or a FIFO. The environment is fixed,
// its values digits only, so no interpolated value can spell `file:` either.

/// A few of the engine's built-ins (ParleyEngine is not linked here), for the clash checks.
let builtins = ["help [{command}]", "ping", "echo {message:text}", "whoami", "approve {id}", "runs [{n:int(1..50)}]"]
    .map { usage in
        let pattern = try! UsagePattern(usage)
        let id = pattern.leadingWords.first!
        return CommandDeclaration(id: id, patterns: [pattern], help: id, action: .builtin(id))
    }

let loader = ConfigLoader(
    builtins: builtins,
    environment: ["SLACK_SIGNING_SECRET": "12345", "DEPLOY_TOKEN": "678", "HOME": "0", "EMPTY": ""])

func readsFiles(_ node: Node) -> Bool {
    switch node {
    case .scalar(let scalar):
        return scalar.string.contains("file:") || (scalar.string.contains("$") && scalar.string.contains("f"))
    case .mapping(let mapping): return mapping.contains { readsFiles($0.key) || readsFiles($0.value) }
    case .sequence(let sequence): return sequence.contains(where: readsFiles)
    case .alias: return false
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfig(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let text = FuzzInput(data, size).text
    guard text.utf8.count <= 16_384 else { return 0 }
    if let root = try? Yams.compose(yaml: text), readsFiles(root) { return 0 }
    do {
        let config = try loader.load(yaml: text, file: "fuzz.yaml", baseDirectory: "/nonexistent/parley-fuzz")
        require(config.sourcePath == "fuzz.yaml", "the configuration forgot its file")
    } catch {
        require(!error.issues.isEmpty, "a refused configuration without issues")
        for issue in error.issues { require(!issue.message.isEmpty, "an issue without a message at \(issue.line)") }
    }
    return 0
}
