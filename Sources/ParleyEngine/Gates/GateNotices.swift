import Foundation
import ParleyStore

/// A gate a reply asks people to answer: an approval request or a confirmation.
public struct OpenedGate: Sendable, Equatable {
    /// The code people answer with (`approve K7QXM2TA`, `yes 4821`).
    public var id: String
    /// When it expires unanswered.
    public var expiresAt: Date

    /// Describes a gate.
    public init(id: String, expiresAt: Date) {
        self.id = id
        self.expiresAt = expiresAt
    }

    init(_ request: ApprovalRequest) {
        self.init(id: request.id, expiresAt: request.expiresAt)
    }
}

/// How a gate ended, in a line to show in place of its buttons.
public struct SettledGate: Sendable, Equatable {
    /// The gate's code.
    public var id: String
    /// What became of it: `✅ Approved by bob.`, `❌ Denied by bob: not today.`, `⌛ Expired; nothing ran.`
    public var outcome: String

    /// Describes a settled gate.
    public init(id: String, outcome: String) {
        self.id = id
        self.outcome = outcome
    }
}

extension Gatekeeper {
    /// How gate `id` ended; nil while it waits (or when there is no such gate). A gate whose time is
    /// up is expired first, as `expireDue` would.
    func settlement(of id: String) async throws -> SettledGate? {
        guard var request = try await store.approval(id: id) else { return nil }
        if request.status == .pending {
            // Expired here, or by the sweep a moment before: read it again either way.
            _ = try await expireIfDue(request)
            guard let current = try await store.approval(id: id) else { return nil }
            request = current
        }
        switch (request.status, request.kind) {
        case (.pending, _):
            return nil
        case (.approved, .confirmation):
            return SettledGate(id: id, outcome: "✅ Confirmed.")
        case (.approved, .approval):
            let approvers = try await store.votes(approvalID: id).filter(\.approve).map(\.voter)
            let by = approvers.isEmpty ? "" : " by \(approvers.joined(separator: ", "))"
            return SettledGate(id: id, outcome: "✅ Approved\(by).")
        case (.denied, _):
            return SettledGate(
                id: id, outcome: "❌ \(Self.sentence(request.reason.isEmpty ? "denied" : request.reason))")
        case (.expired, _):
            return SettledGate(id: id, outcome: "⌛ Expired; nothing ran.")
        }
    }

    /// `denied by bob: not today` → `Denied by bob: not today.`
    private static func sentence(_ text: String) -> String {
        let capitalized = text.prefix(1).uppercased() + text.dropFirst()
        return capitalized.hasSuffix(".") ? capitalized : capitalized + "."
    }
}
