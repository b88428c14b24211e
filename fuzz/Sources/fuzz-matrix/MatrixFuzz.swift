import FuzzSupport
import ParleyCore

@testable import ParleyAdapterParsers

// A homeserver's `/sync` answer, read the way the Matrix adapter reads it: the invitations, each
// joined room's timeline after Parley's own join, the messages in it, and the text the engine would
// get (reply fallback removed, a mention of Parley rewritten). Never Parley's own messages.

let userID = "@parley:example.org"
let mention = MatrixMention(userID: userID, displayName: "Parley Bot", addressingName: "parley")

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMatrix(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let body = JSON(parsing: FuzzInput(data, size).bytes) else { return 0 }
    let batch = MatrixSyncBatch(body: body, userID: userID)
    _ = batch.nextBatch
    for (room, inviter) in batch.invitations {
        require(body["rooms"]["invite"][room] != .null, "an invitation to \(room), which the answer does not have")
        _ = inviter
    }
    for (room, joined) in batch.joinedRooms {
        _ = MatrixSyncBatch.changesMembers(joined)
        let timeline = joined["timeline"]["events"].array ?? []
        let events = batch.sinceOwnJoin(timeline)
        require(events.count <= timeline.count, "\(room): the timeline grew")
        require(Array(timeline.suffix(events.count)) == events, "\(room): events were reordered or changed")
        require(!events.contains(where: batch.isOwnJoin), "\(room): events before Parley's own join were kept")
        for event in events {
            guard let message = MatrixMessage(event, userID: userID) else { continue }
            require(message.sender != userID, "\(room): Parley's own message \(message.eventID) would be handled")
            guard let text = message.text else { continue }
            let unquoted = MatrixMention.withoutReplyFallback(text)
            let rewritten = mention.rewrite(unquoted)
            require(
                rewritten == unquoted || rewritten == "@parley" || rewritten.hasPrefix("@parley "),
                "'\(unquoted)' is rewritten as '\(rewritten)', which is neither it nor addressed to Parley")
        }
    }
    return 0
}
