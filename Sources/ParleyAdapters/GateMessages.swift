import Foundation
import ParleyEngine
import Synchronization

/// The messages that ask for gates still open (an approval request's Approve and Deny buttons, a
/// confirmation's Confirm), by gate code, so that once a gate is settled — answered, or expired
/// unanswered — its message shows the outcome in place of buttons nobody should press any more.
///
/// Kept in memory, at most `limit` at a time: a message posted before a restart (or by another
/// replica) is updated when someone presses one of its buttons, since the platform then names it.
final class GateMessages<Location: Sendable>: Sendable {
    private struct State {
        var locations: [String: Location] = [:]
        var order: [String] = []
        /// The expiry deadline of each gate (on the shared clock, so a settled gate's is freed at once).
        var expiries: [String: Deadlines.Token] = [:]
    }

    private let state = Mutex(State())
    /// The edits an expiry started, for `settle()`.
    private let work = InFlightWork()
    /// How many open gates are remembered; the oldest is forgotten first.
    let limit: Int

    init(limit: Int = 1_000) {
        self.limit = limit
    }

    /// Remembers where `gate` is asked for. If it is still open when it expires, `update` is called
    /// with its outcome then.
    func opened(
        _ gate: OpenedGate, at location: Location, handler: any MessageHandler,
        update: @escaping @Sendable (Location, SettledGate) async -> Void
    ) {
        let wait = min(max(gate.expiresAt.timeIntervalSinceNow, 0), 7 * 86_400) + 1
        let expiry = Deadlines.shared.schedule(after: .milliseconds(Int64(wait * 1000))) { [work] in
            work.start {
                guard self.isOpen(gate.id), let settled = await handler.settledGate(gate.id),
                    let location = self.take(gate.id)
                else { return }
                await update(location, settled)
            }
        }
        let forgotten = state.withLock { state -> [Deadlines.Token] in
            if state.locations.updateValue(location, forKey: gate.id) == nil { state.order.append(gate.id) }
            var forgotten = state.expiries.updateValue(expiry, forKey: gate.id).map { [$0] } ?? []
            while state.order.count > limit {
                let oldest = state.order.removeFirst()
                state.locations[oldest] = nil
                if let token = state.expiries.removeValue(forKey: oldest) { forgotten.append(token) }
            }
            return forgotten
        }
        for token in forgotten { Deadlines.shared.cancel(token) }
    }

    /// Where gate `id` was asked for, forgotten now that it is settled; nil when it is not known here.
    func take(_ id: String) -> Location? {
        let (location, expiry) = state.withLock { state -> (Location?, Deadlines.Token?) in
            guard let location = state.locations.removeValue(forKey: id) else { return (nil, nil) }
            state.order.removeAll { $0 == id }
            return (location, state.expiries.removeValue(forKey: id))
        }
        if let expiry { Deadlines.shared.cancel(expiry) }
        return location
    }

    /// Waits until the edits that expiries started have finished.
    func settle() async {
        await work.settle()
    }

    private func isOpen(_ id: String) -> Bool { state.withLock { $0.locations[id] != nil } }
}
