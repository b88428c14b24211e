import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One IP address as bytes: 4 for IPv4, 16 for IPv6 (an IPv4-mapped IPv6 address is its IPv4).
public struct IPAddress: Sendable, Equatable, CustomStringConvertible {
    public let bytes: [UInt8]

    /// Parses one address (`203.0.113.7`, `2001:db8::1`, `[2001:db8::1]`); nil for anything else,
    /// such as a host name, a port, a zone or a range.
    public init?(_ text: some StringProtocol) {
        var text = Substring(text)
        if text.hasPrefix("["), text.hasSuffix("]") { text = text.dropFirst().dropLast() }
        // inet_pton reads up to a NUL; the longest IPv6 text is 45 characters.
        guard !text.isEmpty, text.utf8.count <= 45, !text.utf8.contains(0) else { return nil }
        var four = in_addr()
        if String(text).withCString({ inet_pton(AF_INET, $0, &four) }) == 1 {
            bytes = withUnsafeBytes(of: &four) { Array($0) }
            return
        }
        var six = in6_addr()
        guard String(text).withCString({ inet_pton(AF_INET6, $0, &six) }) == 1 else { return nil }
        let all = withUnsafeBytes(of: &six) { Array($0) }
        let mapped = all[0..<10].allSatisfy { $0 == 0 } && all[10] == 0xff && all[11] == 0xff
        bytes = mapped ? Array(all[12...]) : all
    }

    public var description: String {
        if bytes.count == 4 { return bytes.map(String.init).joined(separator: ".") }
        var six = in6_addr()
        withUnsafeMutableBytes(of: &six) { $0.copyBytes(from: bytes) }
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        guard inet_ntop(AF_INET6, &six, &text, socklen_t(text.count)) != nil else { return "?" }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// A range of addresses from configuration: `10.0.0.0/8`, `fd00::/8`, or one address.
public struct IPRange: Sendable, Equatable, CustomStringConvertible {
    public let network: IPAddress
    public let prefix: Int

    /// Parses `ADDRESS` or `ADDRESS/PREFIX` (bits past the prefix are ignored); nil when it is neither.
    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = IPAddress(parts[0]) else { return nil }
        let bits = address.bytes.count * 8
        if parts.count == 2 {
            // At most three digits: a prefix is 0...128, and a longer number cannot overflow here.
            guard (1...3).contains(parts[1].count), parts[1].allSatisfy({ $0.isASCII && $0.isNumber }),
                let prefix = Int(parts[1]), prefix <= bits
            else { return nil }
            self.prefix = prefix
        } else {
            prefix = bits
        }
        network = address
    }

    public func contains(_ address: IPAddress) -> Bool {
        guard address.bytes.count == network.bytes.count else { return false }
        var left = prefix
        for (a, b) in zip(address.bytes, network.bytes) where left > 0 {
            let mask: UInt8 = left >= 8 ? 0xff : ~(0xff >> UInt8(left))
            if a & mask != b & mask { return false }
            left -= 8
        }
        return true
    }

    public var description: String { prefix == network.bytes.count * 8 ? "\(network)" : "\(network)/\(prefix)" }
}

/// Who a request came from when Parley stands behind proxies or a load balancer.
public enum ClientAddress {
    /// The most `X-Forwarded-For` hops looked at; beyond them the nearest proxy is taken as the client.
    public static let maximumHops = 32

    /// The client's address: the connection's peer, unless the peer is a trusted proxy; then the
    /// right-most address in `X-Forwarded-For` that is not a trusted proxy (each proxy appends the
    /// address it was reached from, so only the entries appended by trusted proxies are believed;
    /// what a client wrote itself further left is not). An entry that is not an address stops the
    /// walk: the proxy that passed it on is taken as the client.
    public static func resolve(peer: String, forwardedFor: [String], trusted: [IPRange]) -> String {
        guard !trusted.isEmpty, let peerAddress = IPAddress(peer), isTrusted(peerAddress, trusted) else { return peer }
        var client = peerAddress
        var hops = 0
        for header in forwardedFor.reversed() {
            for entry in header.split(separator: ",", omittingEmptySubsequences: false).reversed() {
                hops += 1
                guard hops <= maximumHops,
                    let address = IPAddress(entry.trimmingCharacters(in: CharacterSet(charactersIn: " \t")))
                else { return "\(client)" }
                client = address
                if !isTrusted(address, trusted) { return "\(address)" }
            }
        }
        return "\(client)"
    }

    private static func isTrusted(_ address: IPAddress, _ trusted: [IPRange]) -> Bool {
        trusted.contains { $0.contains(address) }
    }
}
