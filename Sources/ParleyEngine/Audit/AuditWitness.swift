import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import ParleyCore

/// Somewhere outside the database that keeps each signed checkpoint, as CloudTrail keeps its digest
/// files apart from the logs: whoever can write the database cannot also take back what a witness
/// was given. `parley audit verify --witness FILE` then proves the chain still extends every head.
public protocol AuditWitness: Sendable {
    /// Where the checkpoints go, for log messages.
    var name: String { get }
    /// Keeps one checkpoint, given as its JSON line (`{"checkpoint":{…},"type":"checkpoint"}`).
    func keep(_ line: Data) async throws
}

/// An append-only JSON Lines file, one checkpoint a line, synced to disk after each.
public struct FileWitness: AuditWitness {
    /// The file.
    public let path: String
    public var name: String { "file:\(path)" }

    /// Creates a witness writing to `path`.
    public init(path: String) {
        self.path = path
    }

    public func keep(_ line: Data) async throws {
        let descriptor = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o640)
        guard descriptor >= 0 else { throw AuditWitnessError(message: "cannot open \(path): errno \(errno)") }
        defer { close(descriptor) }
        var bytes = line
        bytes.append(UInt8(ascii: "\n"))
        let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        guard written == bytes.count else {
            throw AuditWitnessError(message: "cannot write to \(path): errno \(errno)")
        }
        guard fsync(descriptor) == 0 else { throw AuditWitnessError(message: "cannot sync \(path): errno \(errno)") }
    }
}

/// An HTTP endpoint that receives each checkpoint as a JSON POST and answers 2xx once it has kept it,
/// and answers a GET with every checkpoint it kept, as JSON Lines (`parley audit verify --witness URL`).
public struct HTTPWitness: AuditWitness {
    /// The most a GET may answer: a million checkpoints of ~400 bytes.
    static let maxKept = 512 * 1024 * 1024

    /// The endpoint.
    public let url: String
    public var name: String { url }

    /// Creates a witness posting to `url`.
    public init(url: String) {
        self.url = url
    }

    public func keep(_ line: Data) async throws {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: line))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(5))
        guard (200..<300).contains(Int(response.status.code)) else {
            throw AuditWitnessError(message: "\(url) answered \(response.status.code)")
        }
    }

    /// What the witness kept, read back with a GET.
    public func kept() async throws -> String {
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "Accept", value: "application/jsonl, application/x-ndjson, text/plain")
        let response: HTTPClientResponse
        do {
            response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        } catch {
            throw AuditWitnessError(message: "cannot read the witness \(url): \(error)")
        }
        guard response.status.code == 200 else {
            throw AuditWitnessError(
                message:
                    "the witness \(url) answered \(response.status.code) to GET; it must answer 200 with the checkpoints it kept"
            )
        }
        do {
            return String(buffer: try await response.body.collect(upTo: Self.maxKept))
        } catch {
            throw AuditWitnessError(message: "cannot read the witness \(url): \(error)")
        }
    }
}

/// The witnesses a configuration names.
public enum AuditWitnesses {
    /// One witness per `audit.witnesses` entry.
    public static func make(_ targets: [AuditWitnessTarget]) -> [any AuditWitness] {
        targets.map { target -> any AuditWitness in
            switch target {
            case .file(let path): return FileWitness(path: path)
            case .url(let url): return HTTPWitness(url: url)
            }
        }
    }
}

/// Why a witness did not keep a checkpoint.
public struct AuditWitnessError: Error, CustomStringConvertible {
    /// What went wrong.
    public var message: String
    public var description: String { message }

    /// Creates an error.
    public init(message: String) {
        self.message = message
    }
}

/// Sends checkpoints to the witnesses in the background, each witness on its own, so that a slow or
/// unreachable one holds up neither the audit log nor the others. A line a witness did not take is
/// logged and sent again later, oldest first: with the next checkpoint or the timer's next tick.
actor WitnessQueue {
    private let witnesses: [any AuditWitness]
    private let logger: Logger
    /// Per witness, the lines it has not kept yet.
    private var unsent: [[Data]]
    /// Per witness, the task sending to it, while one runs.
    private var senders: [Task<Void, Never>?]
    /// The most lines kept for a witness that keeps failing; older ones are dropped (and logged).
    private let limit = 10_000

    init(witnesses: [any AuditWitness], logger: Logger) {
        self.witnesses = witnesses
        self.logger = logger
        unsent = Array(repeating: [], count: witnesses.count)
        senders = Array(repeating: nil, count: witnesses.count)
    }

    /// The JSON line a witness keeps for a checkpoint: the same shape as an export's checkpoint line.
    static func line(_ checkpoint: AuditCheckpoint) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(AuditExport.Line(type: "checkpoint", checkpoint: checkpoint))
    }

    /// Queues a checkpoint for every witness and starts sending; returns at once.
    func send(_ checkpoint: AuditCheckpoint) {
        guard !witnesses.isEmpty, let line = try? Self.line(checkpoint) else { return }
        for index in witnesses.indices {
            unsent[index].append(line)
            if unsent[index].count > limit {
                unsent[index].removeFirst()
                logger.error("audit witness \(witnesses[index].name) missed a checkpoint: too many unsent")
            }
        }
        retry()
    }

    /// Starts sending to every witness that has lines waiting and no sender running.
    func retry() {
        for index in witnesses.indices where senders[index] == nil && !unsent[index].isEmpty {
            senders[index] = Task { await self.drain(index) }
        }
    }

    /// Waits until every sender running now has finished (its witness took all, or failed once).
    func settle() async {
        for sender in senders { await sender?.value }
    }

    private func drain(_ index: Int) async {
        let witness = witnesses[index]
        while let line = unsent[index].first {
            do {
                try await witness.keep(line)
                unsent[index].removeFirst()
            } catch {
                logger.warning("audit witness \(witness.name) did not take a checkpoint (sent again later): \(error)")
                break
            }
        }
        senders[index] = nil
    }
}
