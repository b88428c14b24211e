import Foundation
import FuzzSupport
import ParleyCore

// X-Forwarded-For from behind a proxy: the first line is the connection's peer, each further line one
// header value. The address found is the peer itself, or one that parses and prints back the same;
// from a peer that is not trusted, the headers are never believed. Every line is also tried as an
// address and as a range: an address prints back to itself, a range contains its own network.

let trusted = ["127.0.0.1", "10.0.0.0/8", "fd00::/8"].compactMap(IPRange.init)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzAddress(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let text = FuzzInput(data, size).text
    guard text.utf8.count <= 4096 else { return 0 }
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    let peer = lines.first ?? ""
    let headers = Array(lines.dropFirst())
    let client = ClientAddress.resolve(peer: peer, forwardedFor: headers, trusted: trusted)
    let peerAddress = IPAddress(peer)
    if peerAddress.map({ address in !trusted.contains { $0.contains(address) } }) ?? true {
        require(client == peer, "an untrusted peer '\(peer)' was replaced by '\(client)'")
    } else {
        require(IPAddress(client)?.description == client, "'\(client)' is not an address printed as itself")
    }
    for line in lines {
        if let address = IPAddress(line) {
            require(IPAddress(address.description) == address, "'\(line)' prints as '\(address)', which differs")
        }
        if let range = IPRange(line) {
            require(range.contains(range.network), "'\(line)' does not contain its own network")
            require(IPRange(range.description).map { $0.contains(range.network) } ?? false, "'\(range)' does not parse")
        }
    }
    return 0
}
