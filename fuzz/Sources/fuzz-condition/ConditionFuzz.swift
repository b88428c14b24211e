import FuzzSupport
import ParleyCore

// A rule's `when:` condition. Parsing never crashes; a parsed condition written back in its own
// language parses to the same condition; and evaluating it gives an answer, the same for both.

let samples: [ConditionValue] = [
    .string("prod"), .string(""), .string("API"), .string("12"), .number(0), .number(-3), .number(Int.max),
    .number(Int.min), .bool(true), .bool(false), .list([.string("sre"), .string("dev")]), .list([]),
]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCondition(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let text = FuzzInput(data, size).text
    guard text.utf8.count <= 4096, let condition = try? Condition.parse(text) else { return 0 }
    let written = condition.description
    let again: Condition
    do {
        again = try Condition.parse(written)
    } catch {
        require(false, "'\(text)' is written back as '\(written)', which does not parse: \(error)")
        return 0
    }
    require(again == condition, "'\(text)' is written back as '\(written)', which parses as \(again)")
    let names = condition.names.sorted()
    for shift in 0..<3 {
        var values: [String: ConditionValue] = [:]
        for (index, name) in names.enumerated() { values[name] = samples[(index + shift * 5) % samples.count] }
        require(
            condition.evaluate(values) == again.evaluate(values), "'\(text)' and '\(written)' disagree on \(values)")
    }
    return 0
}
