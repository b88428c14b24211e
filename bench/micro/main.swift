// The second paths Parley keeps beside a library, measured against the library: CPU per call.
// Built from the real sources by bench/micro/run. GRDB is not linked here, so its date formatter
// is rebuilt exactly as GRDB builds it (GRDB/Core/Support/Foundation/Date.swift).
import Foundation

let grdbFormatter: DateFormatter = {
    let formatter = DateFormatter()
    formatter.dateFormat = "yyyy-MM-dd HH:mm:ss.SSS"
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.timeZone = TimeZone(secondsFromGMT: 0)
    return formatter
}()

let canonicalEncoder: JSONEncoder = {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return encoder
}()

func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(Int32(RUSAGE_SELF.rawValue), &usage)
    let user = Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
    let system = Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
    return user + system
}

/// Microseconds of CPU per call of `body`, over `calls` calls.
func measure(_ name: String, _ calls: Int, _ body: (Int) -> Int) -> Double {
    var sink = 0
    let start = cpuSeconds()
    for index in 0..<calls { sink &+= body(index) }
    let perCall = (cpuSeconds() - start) / Double(calls) * 1e6
    print(name.padding(toLength: 28, withPad: " ", startingAt: 0), String(format: "%.3f µs", perCall), sink & 0)
    return perCall
}

let calls = Int(CommandLine.arguments.dropFirst().first ?? "") ?? 200_000
let base = Date()
for round in 1...3 {
    print("round \(round), \(calls) calls each")
    let stored = measure("StoredDate.text", calls) { StoredDate.text(base.addingTimeInterval(Double($0))).utf8.count }
    let grdb = measure("GRDB's DateFormatter", calls) {
        grdbFormatter.string(from: base.addingTimeInterval(Double($0))).utf8.count
    }
    let direct = measure("JSONText.object", calls) {
        JSONText.object(["service": "api\($0 % 10)", "env": "staging"]).utf8.count
    }
    let encoded = measure("JSONEncoder (sorted keys)", calls) {
        let data = try! canonicalEncoder.encode(["service": "api\($0 % 10)", "env": "staging"])
        return String(decoding: data, as: UTF8.self).utf8.count
    }
    print(String(format: "ratios: dates %.1f×, JSON %.1f×", grdb / stored, encoded / direct))
}
